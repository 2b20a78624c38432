"""The tracing rules: versioned data (CONTRACT.md section 2), loaded and checked here."""

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import ErrorDetails

from schemas import default_rules_path

OS_PAIRS = ("android-android", "android-ios", "ios-android", "ios-ios")
MINUTES_PER_DAY = 24 * 60
MAX_LOOKBACK_DAYS = 60
"""The contract keeps case dates within 60 days of their report: no rule needs to reach further back."""
DEFAULT_RETENTION_DAYS = 21
"""BlueTrace kept 21 days; Vietnam's Law 91/2025/QH15 keeps personal data no longer than needed."""
MAX_RETENTION_DAYS = 3650

Minutes = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MINUTES_PER_DAY)]
"""A duration the rules judge within one day (a stay, a gap, an overlap): finite, never a boolean."""
Dbm = Annotated[int, Field(strict=True, ge=-127, le=20)]
"""An RSSI threshold on the contract's range of rssi."""
Factor = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)]
"""A weight that can only lower a dose."""
MAX_PEOPLE = 10_000_000
"""More people than a province has: a bound on counts of people in the rules."""


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the key and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InfectiousWindow(_Strict):
    days_before_onset: int = Field(strict=True, ge=0, le=MAX_LOOKBACK_DAYS)
    days_before_sample: int = Field(strict=True, ge=0, le=MAX_LOOKBACK_DAYS)


class VenueRules(_Strict):
    default_stay_minutes: Minutes = Field(gt=0)
    linger_minutes: Minutes
    min_overlap_minutes: Minutes


class BleRules(_Strict):
    rssi_threshold_dbm: dict[str, Dbm]
    merge_gap_minutes: Minutes
    min_cumulative_minutes: Minutes

    @field_validator("rssi_threshold_dbm")
    @classmethod
    def _every_os_pair(cls, value: dict[str, int]) -> dict[str, int]:
        missing = [pair for pair in OS_PAIRS if pair not in value]
        unknown = [pair for pair in value if pair not in OS_PAIRS]
        if missing or unknown:
            raise ValueError(f"needs exactly {', '.join(OS_PAIRS)}; missing {missing}, unknown {unknown}")
        return value


class TierRules(_Strict):
    max_depth: int = Field(strict=True, ge=1, le=5)


class RiskRules(_Strict):
    """How a person's exposures add up to the worklist's order (docs/tracing.md, "Risk score").

    Every key has a default, so a rules file written before the score existed still loads and ranks.
    """

    dose_scale_minutes: Minutes = Field(default=60.0, gt=0)
    venue_weight: Factor = 1.0
    rssi_doubling_db: float = Field(default=10.0, strict=True, allow_inf_nan=False, gt=0, le=60)
    max_closeness: float = Field(default=4.0, strict=True, allow_inf_nan=False, ge=1, le=100)
    crowd_reference_people: int = Field(default=10, strict=True, ge=1, le=MAX_PEOPLE)
    crowding_exponent: float = Field(default=0.5, strict=True, allow_inf_nan=False, ge=0, le=2)
    imputed_checkout_weight: Factor = 0.5
    recency_half_life_days: float = Field(
        default=7.0, strict=True, allow_inf_nan=False, gt=0, le=MAX_LOOKBACK_DAYS
    )
    extra_case_weight: float = Field(default=0.25, strict=True, allow_inf_nan=False, ge=0, le=10)


class CapacityRules(_Strict):
    """Calls a district's team makes a day when the capacity file (`TRACELAKE_CAPACITY`) does not name it."""

    default_calls_per_day: int = Field(default=200, strict=True, ge=0, le=MAX_PEOPLE)


class Rules(_Strict):
    version: str = Field(min_length=1)
    timezone: str
    lookback_days: int = Field(strict=True, ge=1, le=MAX_LOOKBACK_DAYS)
    infectious_window: InfectiousWindow
    venue: VenueRules
    ble: BleRules
    tiers: TierRules
    risk: RiskRules = Field(default_factory=RiskRules)
    capacity: CapacityRules = Field(default_factory=CapacityRules)
    retention_days: int = Field(default=DEFAULT_RETENTION_DAYS, strict=True, ge=3, le=MAX_RETENTION_DAYS)
    """Days of raw events, quarantine, identities and exports kept, the run day included (jobs.retention)."""

    @model_validator(mode="before")
    @classmethod
    def _default_retention(cls, document: Any) -> Any:
        """A file without `retention_days` keeps 21 days, or the lookback plus two when that is longer."""
        if isinstance(document, dict) and "retention_days" not in document:
            lookback = document.get("lookback_days")
            if type(lookback) is int:
                return {**document, "retention_days": max(DEFAULT_RETENTION_DAYS, lookback + 2)}
        return document

    @field_validator("retention_days")
    @classmethod
    def _keeps_a_lookback(cls, value: int, info: ValidationInfo) -> int:
        lookback = info.data.get("lookback_days")
        if isinstance(lookback, int) and value < lookback + 2:
            raise ValueError(
                f"must be at least lookback_days + 2 = {lookback + 2}: a run for D reads raw days from "
                f"D - lookback_days - 1, and they must still be kept"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def default_stay(self) -> timedelta:
        return timedelta(minutes=self.venue.default_stay_minutes)

    @property
    def linger(self) -> timedelta:
        return timedelta(minutes=self.venue.linger_minutes)

    @property
    def min_overlap(self) -> timedelta:
        return timedelta(minutes=self.venue.min_overlap_minutes)

    @property
    def merge_gap(self) -> timedelta:
        return timedelta(minutes=self.ble.merge_gap_minutes)

    @property
    def min_cumulative(self) -> timedelta:
        return timedelta(minutes=self.ble.min_cumulative_minutes)

    def tier_name(self, depth: int) -> str:
        return f"F{depth}"


def load_rules(path: str | Path | None = None) -> Rules:
    """Read a rules YAML file (the shipped default when `path` is None)."""
    source = Path(path) if path is not None else default_rules_path()
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"cannot read rules file {source}: {exc.strerror or exc}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"rules file {source} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise RulesError(f"rules file {source} must be a mapping of keys, got {type(document).__name__}")
    try:
        return Rules.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {_problem(error)}"
            for error in exc.errors()
        )
        raise RulesError(f"rules file {source}: {problems}") from exc


def _problem(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing key"
    if kind == "extra_forbidden":
        return "unknown key"
    if isinstance(error["input"], bool):
        return "a number is expected here, not true/false"
    return error["msg"]
