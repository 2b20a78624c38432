"""Which raw rows a trace can use: whatever the lake holds, a row it cannot use is counted, never raised.

The lander judges every event against the contract before it lands, but a
lake also holds what earlier landers accepted (before the plausibility
bounds existed, a confirmed report with `sample_date` 0001-01-01 included)
and whatever another writer put there. So both engines judge each raw row
again, with the checks below as data: a row failing one is dropped before
resends are counted (the contract counts an `event_id` once among valid
events only) and counted under the reason of its first failing check in the
manifest. The checks cover what tracing reads; the upper bound on instants
is not the contract's "one day after landing", which the lander already
applied with its own clock, but the last instant every reader can still move
by a day and show in local time.

A case date is plausible when it lies from 60 days before the local date of
`reported_at` to one day after it. Rather than have each engine find local
dates with its own time-zone database, the distinct case dates go to the
driver and come back with the range of `reported_at` instants that makes
each one plausible (`case_date_bounds`), computed by `tracelake.core.days`.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from tracelake.core.days import epoch_micros, from_epoch_micros, local_midnight

DEFAULT_EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
"""The contract's earliest plausible instant (the lander's `earliest_instant` setting may move it)."""
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
"""Later instants cannot be moved by a day (a stay, a linger) and shown in any local time."""
LATEST_US = epoch_micros(LATEST)
NO_LANDING = -(2**63) + 1
"""The order of a copy without a plausible `landed_at` among copies of one event: before every landed one.

Resent copies are ordered by (landed_at NULLS FIRST, kafka_partition,
kafka_offset): offsets alone are not comparable across incarnations of a
topic. `landed_at` is the lander's clock, never the event's content, so an
implausible one (outside the plausible instants) orders like a missing one
instead of making the row unusable.
"""
CASE_DAYS_BEFORE_REPORT = 60
CASE_DAYS_AFTER_REPORT = 1
RSSI_RANGE = (-127, 20)

CASE_DATE_BOUNDS = pa.schema(
    [
        pa.field("day", pa.date32(), nullable=False),
        pa.field("reported_from_us", pa.int64(), nullable=False),
        pa.field("reported_until_us", pa.int64(), nullable=False),
    ]
)


@dataclass(frozen=True)
class Required:
    """The column holds a value (for `when_kind`, only on reports of that kind)."""

    column: str
    when_kind: str | None = None

    @property
    def reason(self) -> str:
        return f"missing field {self.column}"


@dataclass(frozen=True)
class OneOf:
    column: str
    values: tuple[str, ...]

    @property
    def reason(self) -> str:
        return f"unknown value in {self.column}"


@dataclass(frozen=True)
class Instant:
    """A timestamp, when present, lies from the earliest instant to LATEST."""

    column: str

    @property
    def reason(self) -> str:
        return f"{self.column} out of range"


@dataclass(frozen=True)
class Between:
    """An integer, when present, lies in [low, high]."""

    column: str
    low: int
    high: int

    @property
    def reason(self) -> str:
        return f"{self.column} out of range"


@dataclass(frozen=True)
class CaseDate:
    """A date, when present, is plausible for the row's `reported_at` (see `case_date_bounds`)."""

    column: str

    @property
    def reason(self) -> str:
        return f"{self.column} out of range"


@dataclass(frozen=True)
class NotBefore:
    """`later`, when present, is not before `earlier`."""

    later: str
    earlier: str
    reason: str


@dataclass(frozen=True)
class Differ:
    first: str
    second: str
    reason: str


Check = Required | OneOf | Instant | Between | CaseDate | NotBefore | Differ

CHECKS: Mapping[str, tuple[Check, ...]] = {
    "checkins": (
        *(Required(column) for column in ("event_id", "person_pseudonym", "venue_id", "checkin_at", "source")),
        OneOf("source", ("qr_venue", "qr_personal", "manual")),
        Instant("checkin_at"),
        Instant("checkout_at"),
        NotBefore("checkout_at", "checkin_at", "checkout before checkin"),
    ),
    "proximity": (
        *(
            Required(column)
            for column in (
                "event_id", "reporter_pseudonym", "contact_pseudonym", "rssi", "reporter_os", "contact_os",
                "observed_at",
            )
        ),
        OneOf("reporter_os", ("android", "ios")),
        OneOf("contact_os", ("android", "ios")),
        Between("rssi", *RSSI_RANGE),
        Instant("observed_at"),
        Differ("reporter_pseudonym", "contact_pseudonym", "contact is the reporter"),
    ),
    "case_reports": (
        *(Required(column) for column in ("event_id", "person_pseudonym", "kind", "reported_at")),
        OneOf("kind", ("confirmed", "isolated", "discarded")),
        Required("sample_date", when_kind="confirmed"),
        Required("isolated_at", when_kind="isolated"),
        Instant("reported_at"),
        Instant("isolated_at"),
        CaseDate("sample_date"),
        CaseDate("onset_date"),
    ),
}
"""Per traced topic, in the order a row's reason is chosen."""


def reasons(topic: str) -> tuple[str, ...]:
    """Every reason a row of `topic` can be unusable for, once each, in check order."""
    return tuple(dict.fromkeys(check.reason for check in CHECKS[topic]))


def case_date_columns(topic: str) -> tuple[str, ...]:
    return tuple(check.column for check in CHECKS[topic] if isinstance(check, CaseDate))


def case_date_window(earliest_us: int) -> tuple[date, date]:
    """[first, last] case dates some plausible `reported_at`, in any zone, can make plausible."""
    earliest_day = from_epoch_micros(earliest_us).date().toordinal() - 1
    first = max(earliest_day - CASE_DAYS_BEFORE_REPORT, CASE_DAYS_AFTER_REPORT + 2)
    return date.fromordinal(first), LATEST.date() + timedelta(days=1 + CASE_DAYS_AFTER_REPORT)


def case_date_bounds(days: Iterable[date], zone: ZoneInfo, earliest_us: int) -> pa.Table:
    """For each case date, the `reported_at` instants [from, until) whose local date makes it plausible.

    A date d is plausible for a report whose local date L satisfies
    L - 60 <= d <= L + 1, that is L from d - 1 to d + 60: reported from the
    local midnight starting d - 1 until the one ending d + 60. Dates outside
    `case_date_window` are left out (no report makes them plausible).
    """
    first, last = case_date_window(earliest_us)
    unique = sorted({day for day in days if first <= day <= last})
    return pa.table(
        {
            "day": unique,
            "reported_from_us": [
                epoch_micros(local_midnight(day - timedelta(days=CASE_DAYS_AFTER_REPORT), zone)) for day in unique
            ],
            "reported_until_us": [
                epoch_micros(local_midnight(day + timedelta(days=CASE_DAYS_BEFORE_REPORT + 1), zone))
                for day in unique
            ],
        },
        schema=CASE_DATE_BOUNDS,
    )


def unusable_counts(counted: Mapping[str, int]) -> dict[str, int]:
    """The manifest's form: reasons with at least one row, sorted."""
    return {reason: count for reason, count in sorted(counted.items()) if count}
