"""Judge one raw Kafka value against the contract (CONTRACT.md section 1).

`judge(topic, value, landed_at_us, plausible)` returns either an `Accepted`
record (ids normalized, times as UTC epoch microseconds, dates as days since
the epoch) or a `Rejected` reason. It never raises, whatever the bytes.

"The moment it is landed" is the lander's wall clock when it judges the value,
never the producer's record timestamp: a producer with a clock in 2099 cannot
move the bound it is judged against.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import orjson

from tracelake.core.days import epoch_micros, from_epoch_micros
from tracelake.core.identity import normalize_person_id
from tracelake.core.settings import Settings

FUTURE_TOLERANCE_US = 86_400_000_000
"""An event time may lie up to a day after the moment it landed (producers' clocks drift)."""
CASE_DAYS_BEFORE = 60
"""A sample or onset date lies at most this many days before the local date of its report ..."""
CASE_DAYS_AFTER = 1
"""... and at most this many after it."""
TX_POWER_RANGE = (-127, 127)
OUT_OF_RANGE = "out_of_range"
"""The reason of every implausible value (CONTRACT.md section 1)."""
EVENT_ID_KEPT_CHARS = 200
"""A rejected value's event_id goes to the quarantine (as its pseudonym) only when it is a string this short."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH = date(1970, 1, 1)

SOURCES = frozenset({"qr_venue", "qr_personal", "manual"})
OPERATING_SYSTEMS = frozenset({"android", "ios"})
CASE_KINDS = frozenset({"confirmed", "isolated", "discarded"})
RSSI_RANGE = (-127, 20)


@dataclass(frozen=True)
class Plausibility:
    """The lander's plausibility bounds, from its settings: the earliest instant and its local zone."""

    earliest_us: int
    """UTC epoch microseconds; any event time before it is `out_of_range`."""
    zone: ZoneInfo
    """Where "the local date of `reported_at`" is taken, for the case dates' bounds."""

    @classmethod
    def of(cls, settings: Settings) -> "Plausibility":
        return cls(epoch_micros(settings.earliest_instant), ZoneInfo(settings.timezone))


CONTRACT_PLAUSIBILITY = Plausibility.of(Settings.model_construct())
"""The bounds of the settings' defaults (read without the environment): the contract's own values."""


class _Bounds(NamedTuple):
    """What one value is judged against: the plausible instants and the zone of local dates."""

    earliest_us: int
    latest_us: int
    zone: ZoneInfo


class Accepted(NamedTuple):
    record: dict[str, Any]


class Rejected(NamedTuple):
    reason: str
    event_id: str | None


class _Malformed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _required(event: dict[str, Any], name: str) -> Any:
    value = event.get(name)
    if value is None:
        raise _Malformed(f"missing field {name}")
    return value


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _Malformed(f"{name} must be a string")
    if not value:
        raise _Malformed(f"empty {name}")
    return value


def _whole(value: Any) -> int | None:
    """JSON Schema's integer: any number with a zero fractional part (so -70.0 is -70)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _integer(value: Any, name: str) -> int:
    whole = _whole(value)
    if whole is None:
        raise _Malformed(f"{name} must be an integer")
    return whole


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Malformed(f"{name} must be a number")
    return float(value)


def _enum(value: Any, name: str, allowed: frozenset[str]) -> str:
    text = _string(value, name)
    if text not in allowed:
        raise _Malformed(f"unknown value in {name}")
    return text


def _person(value: Any, name: str) -> str:
    normalized = normalize_person_id(_string(value, name))
    if normalized is None:
        raise _Malformed(f"malformed id in {name}")
    return normalized


def _instant(value: Any, name: str, bounds: _Bounds) -> int:
    """UTC epoch microseconds of an ISO-8601 string with offset or integer epoch ms, within the bounds."""
    millis = _whole(value)
    if millis is not None:
        micros = millis * 1000
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _Malformed(f"unparseable timestamp in {name}") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise _Malformed(f"timestamp without offset in {name}")
        try:
            micros = epoch_micros(parsed)
        except OverflowError:
            raise _Malformed(OUT_OF_RANGE) from None
    else:
        raise _Malformed(f"unparseable timestamp in {name}")
    if not bounds.earliest_us <= micros <= bounds.latest_us:
        raise _Malformed(OUT_OF_RANGE)
    return micros


def _day(value: Any, name: str) -> int:
    """Days since the epoch of a `YYYY-MM-DD` date (ASCII digits only)."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _Malformed(f"malformed date in {name}")
    try:
        return (date.fromisoformat(value) - _EPOCH).days
    except ValueError:
        raise _Malformed(f"malformed date in {name}") from None


def _case_day(value: Any, name: str, reported_day: int) -> int:
    """A sample or onset date, within [report's local date - 60 days, report's local date + 1 day]."""
    day = _day(value, name)
    if not reported_day - CASE_DAYS_BEFORE <= day <= reported_day + CASE_DAYS_AFTER:
        raise _Malformed(OUT_OF_RANGE)
    return day


def _optional(event: dict[str, Any], name: str) -> Any:
    return event.get(name)


def _checkin(event: dict[str, Any], bounds: _Bounds) -> dict[str, Any]:
    event_id = _string(_required(event, "event_id"), "event_id")
    person_id = _person(_required(event, "person_id"), "person_id")
    venue_id = _string(_required(event, "venue_id"), "venue_id")
    checkin_at = _instant(_required(event, "checkin_at"), "checkin_at", bounds)
    checkout_raw = _optional(event, "checkout_at")
    checkout_at = None if checkout_raw is None else _instant(checkout_raw, "checkout_at", bounds)
    source_raw = _optional(event, "source")
    source = "qr_venue" if source_raw is None else _enum(source_raw, "source", SOURCES)
    if checkout_at is not None and checkout_at < checkin_at:
        raise _Malformed("checkout before checkin")
    return {
        "event_id": event_id,
        "person_id": person_id,
        "venue_id": venue_id,
        "checkin_at": checkin_at,
        "checkout_at": checkout_at,
        "source": source,
    }


def _sighting(event: dict[str, Any], bounds: _Bounds) -> dict[str, Any]:
    event_id = _string(_required(event, "event_id"), "event_id")
    reporter_id = _person(_required(event, "reporter_id"), "reporter_id")
    contact_id = _person(_required(event, "contact_id"), "contact_id")
    rssi = _integer(_required(event, "rssi"), "rssi")
    reporter_os = _enum(_required(event, "reporter_os"), "reporter_os", OPERATING_SYSTEMS)
    contact_os = _enum(_required(event, "contact_os"), "contact_os", OPERATING_SYSTEMS)
    observed_at = _instant(_required(event, "observed_at"), "observed_at", bounds)
    tx_raw = _optional(event, "tx_power")
    tx_power = None if tx_raw is None else _integer(tx_raw, "tx_power")
    if not RSSI_RANGE[0] <= rssi <= RSSI_RANGE[1]:
        raise _Malformed("rssi out of range")
    if tx_power is not None and not TX_POWER_RANGE[0] <= tx_power <= TX_POWER_RANGE[1]:
        raise _Malformed(OUT_OF_RANGE)
    if contact_id == reporter_id:
        raise _Malformed("contact is the reporter")
    return {
        "event_id": event_id,
        "reporter_id": reporter_id,
        "contact_id": contact_id,
        "rssi": rssi,
        "reporter_os": reporter_os,
        "contact_os": contact_os,
        "observed_at": observed_at,
        "tx_power": tx_power,
    }


def _case_report(event: dict[str, Any], bounds: _Bounds) -> dict[str, Any]:
    event_id = _string(_required(event, "event_id"), "event_id")
    person_id = _person(_required(event, "person_id"), "person_id")
    kind = _enum(_required(event, "kind"), "kind", CASE_KINDS)
    reported_at = _instant(_required(event, "reported_at"), "reported_at", bounds)
    if kind == "confirmed":
        _required(event, "sample_date")
    if kind == "isolated":
        _required(event, "isolated_at")
    sample_raw = _optional(event, "sample_date")
    onset_raw = _optional(event, "onset_date")
    isolated_raw = _optional(event, "isolated_at")
    reported_day = (from_epoch_micros(reported_at).astimezone(bounds.zone).date() - _EPOCH).days
    return {
        "event_id": event_id,
        "person_id": person_id,
        "kind": kind,
        "reported_at": reported_at,
        "sample_date": None if sample_raw is None else _case_day(sample_raw, "sample_date", reported_day),
        "onset_date": None if onset_raw is None else _case_day(onset_raw, "onset_date", reported_day),
        "isolated_at": None if isolated_raw is None else _instant(isolated_raw, "isolated_at", bounds),
    }


def _venue(event: dict[str, Any], bounds: _Bounds) -> dict[str, Any]:
    event_raw = _optional(event, "event_id")
    record: dict[str, Any] = {
        "event_id": None if event_raw is None else _string(event_raw, "event_id"),
        "venue_id": _string(_required(event, "venue_id"), "venue_id"),
        "name": _string(_required(event, "name"), "name"),
        "district_code": _string(_required(event, "district_code"), "district_code"),
        "province_code": _string(_required(event, "province_code"), "province_code"),
    }
    kind_raw = _optional(event, "kind")
    lat_raw = _optional(event, "lat")
    lon_raw = _optional(event, "lon")
    record["kind"] = None if kind_raw is None else _string(kind_raw, "kind")
    lat = None if lat_raw is None else _number(lat_raw, "lat")
    lon = None if lon_raw is None else _number(lon_raw, "lon")
    if lat is not None and not -90.0 <= lat <= 90.0:
        raise _Malformed("lat out of range")
    if lon is not None and not -180.0 <= lon <= 180.0:
        raise _Malformed("lon out of range")
    record["lat"], record["lon"] = lat, lon
    return record


JUDGES: dict[str, Callable[[dict[str, Any], _Bounds], dict[str, Any]]] = {
    "checkins": _checkin,
    "proximity": _sighting,
    "case_reports": _case_report,
    "venues": _venue,
}

RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "checkins": ("event_id", "person_id", "venue_id", "checkin_at", "checkout_at", "source"),
    "proximity": (
        "event_id", "reporter_id", "contact_id", "rssi", "reporter_os", "contact_os", "observed_at", "tx_power",
    ),
    "case_reports": ("event_id", "person_id", "kind", "reported_at", "sample_date", "onset_date", "isolated_at"),
    "venues": ("event_id", "venue_id", "name", "district_code", "province_code", "kind", "lat", "lon"),
}
"""The fields of an accepted record, in the order `judge`'s dicts have them."""

# The person-id fields of each topic: the lander pseudonymizes exactly these.
PERSON_FIELDS: dict[str, tuple[str, ...]] = {
    "checkins": ("person_id",),
    "proximity": ("reporter_id", "contact_id"),
    "case_reports": ("person_id",),
    "venues": (),
}


_NOT_JSON = object()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(value: bytes) -> Any:
    """orjson first; the standard library only for what orjson refuses (integers past 64 bits)."""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        pass
    try:
        event = json.loads(value.decode("utf-8"), parse_constant=_refuse_constant)
        json.dumps(event, ensure_ascii=False).encode("utf-8")  # lone surrogates (\\ud800) are not text
    except (UnicodeError, ValueError, RecursionError):
        return _NOT_JSON
    return event


def judge(
    topic: str, value: bytes | None, landed_at_us: int, plausible: Plausibility = CONTRACT_PLAUSIBILITY
) -> Accepted | Rejected:
    """Accept or reject one Kafka value of `topic`, landed at `landed_at_us` by the lander's clock; never raises."""
    if value is None:
        return Rejected("empty message", None)
    event = _parse(value)
    if event is _NOT_JSON:
        return Rejected("not JSON", None)
    if not isinstance(event, dict):
        return Rejected("not a JSON object", None)
    event_id = event.get("event_id")
    known_id = event_id if isinstance(event_id, str) and len(event_id) <= EVENT_ID_KEPT_CHARS else None
    bounds = _Bounds(plausible.earliest_us, landed_at_us + FUTURE_TOLERANCE_US, plausible.zone)
    try:
        return Accepted(JUDGES[topic](event, bounds))
    except _Malformed as problem:
        return Rejected(problem.reason, known_id)
    except Exception as unexpected:
        return Rejected(f"unreadable event: {type(unexpected).__name__}", known_id)
