"""Malformed events of every kind the validator knows, tagged with the reason it must give.

Each defect turns one valid record into a message with exactly one problem.
When the result is still a JSON object it carries `"sim_defect": <reason>`
(extra fields are tolerated), so a test can check the lander quarantined it
for the right reason; garbage lines and non-objects are counted in the summary.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson

from simulator import clock
from simulator.identity import respell
from tracelake.core.events import OUT_OF_RANGE

Record = dict[str, object]
Outcome = Record | bytes
NOT_JSON = "not JSON"
NOT_OBJECT = "not a JSON object"
LOCAL_OFFSET = 7 * 3600
"""Asia/Ho_Chi_Minh: the wall clock a careless producer writes when the original was UTC or epoch"""
FAR_FUTURE = 4_070_908_800
"""2099-01-01T00:00Z: 'the future' for any run, and the same bytes every time"""


@dataclass(frozen=True)
class Defect:
    reason: str
    apply: Callable[[Record, np.random.Generator], Outcome]


def _one(options: tuple[object, ...], rng: np.random.Generator) -> object:
    return options[int(rng.integers(0, len(options)))]


def missing(name: str) -> Defect:
    return Defect(f"missing field {name}", lambda r, rng: {k: v for k, v in r.items() if k != name})


def not_string(name: str) -> Defect:
    def apply(record: Record, rng: np.random.Generator) -> Outcome:
        digits = "".join(ch for ch in str(record.get(name, "")) if ch.isdigit())
        return {**record, name: int(digits[-9:]) if digits else int(rng.integers(1, 10**6))}
    return Defect(f"{name} must be a string", apply)


def not_integer(name: str) -> Defect:
    return Defect(f"{name} must be an integer", lambda r, rng: {**r, name: float(r[name]) + 0.5})  # type: ignore[arg-type]


def malformed_id(name: str) -> Defect:
    bad = ("12345", "+1 202 555 0100", "0912 34", "091234567890123")
    return Defect(f"malformed id in {name}", lambda r, rng: {**r, name: _one(bad, rng)})


def unparseable_time(name: str) -> Defect:
    bad = ("yesterday", "2021-13-45T25:61:00+07:00", "not a time", "2021-02-30T08:00:00+07:00")
    return Defect(f"unparseable timestamp in {name}", lambda r, rng: {**r, name: _one(bad, rng)})


def naive_time(name: str, anchor: str | None = None) -> Defect:
    """`name` in local wall-clock time without offset; an absent `name` is set from `anchor`."""

    def apply(record: Record, rng: np.random.Generator) -> Outcome:
        value = record.get(name)
        later = 0
        if value is None:
            value, later = record[anchor or name], int(rng.integers(600, 3600))
        epoch, _, offset = clock.parse(value)  # type: ignore[arg-type]
        return {**record, name: clock.naive_local(epoch + later, offset or LOCAL_OFFSET)}
    return Defect(f"timestamp without offset in {name}", apply)


def future_time(name: str, drop: tuple[str, ...] = ()) -> Defect:
    def apply(record: Record, rng: np.random.Generator) -> Outcome:
        epoch, style, offset = clock.parse(record[name])  # type: ignore[arg-type]
        moved = FAR_FUTURE + (epoch % 86_400)
        kept = {k: v for k, v in record.items() if k not in drop}
        return {**kept, name: clock.render_one(moved, style, offset or LOCAL_OFFSET)}
    return Defect(OUT_OF_RANGE, apply)


def unknown_value(name: str, options: tuple[str, ...]) -> Defect:
    return Defect(f"unknown value in {name}", lambda r, rng: {**r, name: _one(options, rng)})


def _rssi_out_of_range(record: Record, rng: np.random.Generator) -> Outcome:
    return {**record, "rssi": _one((-140, -128, 21, 45), rng)}


def _checkout_before_checkin(record: Record, rng: np.random.Generator) -> Outcome:
    epoch, style, offset = clock.parse(record["checkin_at"])  # type: ignore[arg-type]
    earlier = epoch - int(rng.integers(60, 7200))
    return {**record, "checkout_at": clock.render_one(earlier, style, offset or LOCAL_OFFSET)}


def _contact_is_reporter(record: Record, rng: np.random.Generator) -> Outcome:
    return {**record, "contact_id": respell(str(record["reporter_id"]), rng),
            "contact_os": record["reporter_os"]}


def _as_kind(kind: str, drop: tuple[str, ...]) -> Callable[[Record, np.random.Generator], Outcome]:
    def apply(record: Record, rng: np.random.Generator) -> Outcome:
        return {**{k: v for k, v in record.items() if k not in drop}, "kind": kind}
    return apply


def _not_json(record: Record, rng: np.random.Generator) -> Outcome:
    text = orjson.dumps(record).decode()
    return text[: int(rng.integers(1, max(2, len(text) - 1)))].encode()


def _not_object(record: Record, rng: np.random.Generator) -> Outcome:
    shapes: tuple[object, ...] = (list(record.values()), str(record.get("event_id", "")), 42, None)
    return orjson.dumps(_one(shapes, rng))


GENERIC = (Defect(NOT_JSON, _not_json), Defect(NOT_OBJECT, _not_object),
           missing("event_id"), not_string("event_id"))

CATALOGUE: dict[str, tuple[Defect, ...]] = {
    "checkins": (
        Defect("checkout before checkin", _checkout_before_checkin),
        unknown_value("source", ("sms", "QR", "bluetooth")),
        malformed_id("person_id"),
        naive_time("checkin_at"),
        future_time("checkin_at", drop=("checkout_at",)),
        unparseable_time("checkin_at"),
        missing("venue_id"), missing("person_id"), missing("checkin_at"),
        not_string("person_id"), not_string("venue_id"),
        naive_time("checkout_at", "checkin_at"), unparseable_time("checkout_at"),
        *GENERIC,
    ),
    "proximity": (
        Defect("contact is the reporter", _contact_is_reporter),
        Defect("rssi out of range", _rssi_out_of_range),
        not_integer("rssi"),
        unknown_value("reporter_os", ("windows", "symbian", "Android")),
        unknown_value("contact_os", ("windows", "blackberry", "iOS")),
        malformed_id("contact_id"), malformed_id("reporter_id"),
        naive_time("observed_at"), future_time("observed_at"),
        unparseable_time("observed_at"),
        missing("reporter_id"), missing("contact_id"), missing("rssi"), missing("reporter_os"),
        missing("contact_os"), missing("observed_at"), not_string("reporter_id"),
        *GENERIC,
    ),
    "case_reports": (
        Defect("missing field sample_date", _as_kind("confirmed", ("sample_date", "onset_date", "isolated_at"))),
        Defect("missing field isolated_at", _as_kind("isolated", ("sample_date", "onset_date", "isolated_at"))),
        unknown_value("kind", ("suspected", "recovered", "F1")),
        malformed_id("person_id"),
        naive_time("reported_at"), future_time("reported_at"),
        unparseable_time("reported_at"), missing("kind"), missing("person_id"),
        missing("reported_at"), not_string("person_id"),
        *GENERIC,
    ),
    "venues": (
        missing("name"), not_string("district_code"), missing("venue_id"), missing("district_code"),
        missing("province_code"), not_string("name"), Defect(NOT_JSON, _not_json),
        Defect(NOT_OBJECT, _not_object),
    ),
}


def corrupt(record: Record, defect: Defect, rng: np.random.Generator) -> bytes:
    """The message for one defect: a tagged JSON object, or raw bytes when it cannot be tagged."""
    outcome = defect.apply(record, rng)
    if isinstance(outcome, bytes):
        return outcome
    return orjson.dumps({**outcome, "sim_defect": defect.reason})
