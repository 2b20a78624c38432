"""Every example and rule of CONTRACT.md section 1, through the JSON Schemas and the validator."""

import json
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import TOPICS, topic_json_schema_path
from tracelake.core.days import epoch_micros
from tracelake.core.events import CONTRACT_PLAUSIBILITY, OUT_OF_RANGE, Accepted, Plausibility, Rejected, judge
from tracelake.core.settings import Settings

NOW_US = int(time.time() * 1_000_000)

CHECKIN = {"event_id": "c1", "person_id": "0912 345 678", "venue_id": "V-001",
           "checkin_at": "2021-08-03T08:15:00+07:00", "checkout_at": "2021-08-03T09:00:00+07:00",
           "source": "qr_venue"}
SIGHTING = {"event_id": "p1", "reporter_id": "+84912345678", "contact_id": "84-987-654-321", "rssi": -70,
            "reporter_os": "android", "contact_os": "ios", "observed_at": 1627953300000, "tx_power": -12}
CONFIRMED = {"event_id": "r1", "person_id": "0912.345.678", "kind": "confirmed",
             "reported_at": "2021-08-05T10:00:00Z", "sample_date": "2021-08-04", "onset_date": "2021-08-02"}
ISOLATED = {"event_id": "r2", "person_id": "001099012345", "kind": "isolated",
            "reported_at": "2021-08-05T10:00:00Z", "isolated_at": "2021-08-05T12:00:00+07:00"}
DISCARDED = {"event_id": "r3", "person_id": "0912345678", "kind": "discarded", "reported_at": 1628157600000}
VENUE = {"event_id": "v1", "venue_id": "V-001", "name": "Chợ Đầm", "district_code": "568",
         "province_code": "56", "kind": "market", "lat": 12.25, "lon": 109.19}
BASE: dict[str, dict[str, Any]] = {
    "checkins": CHECKIN, "proximity": SIGHTING, "case_reports": CONFIRMED, "venues": VENUE,
}


def _schema(topic: str) -> dict[str, Any]:
    return json.loads(topic_json_schema_path(topic).read_text())


def _with(base: dict[str, Any], **change: Any) -> dict[str, Any]:
    event = dict(base)
    for key, value in change.items():
        if value is ...:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def _judge(topic: str, event: dict[str, Any] | bytes) -> Accepted | Rejected:
    value = event if isinstance(event, bytes) else json.dumps(event).encode()
    return judge(topic, value, NOW_US)


VALID = [
    ("checkins", CHECKIN),
    ("checkins", _with(CHECKIN, checkout_at=..., source=...)),
    ("checkins", _with(CHECKIN, checkout_at=None)),
    ("checkins", _with(CHECKIN, checkout_at="2021-08-03T08:15:00+07:00")),
    ("checkins", _with(CHECKIN, checkin_at=1627953300000, checkout_at="2021-08-03T02:00:00Z")),
    ("checkins", _with(CHECKIN, source="manual", app_version="5.1", extra={"nested": True})),
    ("checkins", _with(CHECKIN, person_id="001099012345", venue_id="not-registered-yet")),
    ("proximity", SIGHTING),
    ("proximity", _with(SIGHTING, rssi=-70.0, observed_at=1627953300000.0)),
    ("proximity", _with(SIGHTING, rssi=-127, tx_power=...)),
    ("proximity", _with(SIGHTING, rssi=20)),
    ("proximity", _with(SIGHTING, tx_power=-127)),
    ("proximity", _with(SIGHTING, tx_power=127)),
    ("proximity", _with(SIGHTING, observed_at="2020-01-01T07:00:00+07:00")),
    ("checkins", _with(CHECKIN, checkin_at=1577836800000, checkout_at=...)),
    ("case_reports", CONFIRMED),
    ("case_reports", _with(CONFIRMED, onset_date=...)),
    ("case_reports", _with(CONFIRMED, sample_date="2021-06-06", onset_date="2021-08-06")),
    ("case_reports", _with(CONFIRMED, reported_at="2021-08-05T20:00:00Z", sample_date="2021-08-07")),
    ("case_reports", ISOLATED),
    ("case_reports", DISCARDED),
    ("venues", VENUE),
    ("venues", _with(VENUE, kind=..., lat=..., lon=..., event_id=...)),
]


@pytest.mark.parametrize(("topic", "event"), VALID)
def test_valid_events_pass_the_schema_and_the_validator(topic: str, event: dict[str, Any]) -> None:
    jsonschema.validate(event, _schema(topic))
    assert isinstance(_judge(topic, event), Accepted)


def test_ids_are_normalized_and_times_are_utc_microseconds() -> None:
    record = _judge("checkins", CHECKIN)
    assert isinstance(record, Accepted)
    assert record.record["person_id"] == "+84912345678"
    assert record.record["checkin_at"] == 1627953300 * 1_000_000
    assert record.record["checkout_at"] == (1627953300 + 45 * 60) * 1_000_000
    sighting = _judge("proximity", SIGHTING)
    assert isinstance(sighting, Accepted)
    assert sighting.record["contact_id"] == "+84987654321"
    assert sighting.record["observed_at"] == 1627953300000 * 1000
    assert _judge("checkins", _with(CHECKIN, source=...)).record["source"] == "qr_venue"  # type: ignore[union-attr]
    confirmed = _judge("case_reports", CONFIRMED)
    assert isinstance(confirmed, Accepted)
    assert confirmed.record["sample_date"] == 18843  # days from 1970-01-01 to 2021-08-04


FUTURE = "2099-01-01T00:00:00+07:00"
INVALID: list[tuple[str, dict[str, Any] | bytes, str, bool]] = [
    # topic, event, reason, whether the JSON Schema alone can see it
    ("checkins", b"{not json", "not JSON", False),
    ("checkins", b"\xff\xfe\x00", "not JSON", False),
    ("checkins", b"[1, 2]", "not a JSON object", True),
    ("checkins", _with(CHECKIN, event_id=...), "missing field event_id", True),
    ("checkins", _with(CHECKIN, event_id=""), "empty event_id", True),
    ("checkins", _with(CHECKIN, event_id=7), "event_id must be a string", True),
    ("checkins", _with(CHECKIN, venue_id=...), "missing field venue_id", True),
    ("checkins", _with(CHECKIN, person_id=912345678), "person_id must be a string", True),
    ("checkins", _with(CHECKIN, person_id="12345"), "malformed id in person_id", False),
    ("checkins", _with(CHECKIN, person_id="+1 202 555 0100"), "malformed id in person_id", False),
    ("checkins", _with(CHECKIN, checkin_at="yesterday"), "unparseable timestamp in checkin_at", True),
    ("checkins", _with(CHECKIN, checkin_at="2021-08-03T08:15:00"), "timestamp without offset in checkin_at", True),
    ("checkins", _with(CHECKIN, checkin_at=1.6e12 + 0.5), "unparseable timestamp in checkin_at", True),
    ("checkins", _with(CHECKIN, checkin_at="1627953300000"), "unparseable timestamp in checkin_at", True),
    ("checkins", _with(CHECKIN, checkout_at="2021-08-03T08:14:59+07:00"), "checkout before checkin", False),
    ("checkins", _with(CHECKIN, source="sms"), "unknown value in source", True),
    ("checkins", _with(CHECKIN, checkin_at=FUTURE, checkout_at=...), OUT_OF_RANGE, False),
    ("checkins", _with(CHECKIN, checkin_at="0001-01-01T00:00:00+14:00", checkout_at=...), OUT_OF_RANGE, False),
    ("checkins", _with(CHECKIN, checkin_at="9999-12-31T23:59:59-14:00", checkout_at=...), OUT_OF_RANGE, False),
    ("checkins", _with(CHECKIN, checkin_at="2019-12-31T23:59:59.999999Z", checkout_at=...), OUT_OF_RANGE, False),
    ("checkins", _with(CHECKIN, checkin_at=1577836799999, checkout_at=...), OUT_OF_RANGE, False),
    ("checkins", _with(CHECKIN, checkin_at=-1, checkout_at=...), OUT_OF_RANGE, False),
    ("checkins", _with(CHECKIN, checkin_at=10**20, checkout_at=...), OUT_OF_RANGE, False),
    ("checkins", _with(CHECKIN, checkin_at=2**70, checkout_at=...), OUT_OF_RANGE, False),
    ("checkins", _with(CHECKIN, checkin_at=1e300, checkout_at=...), OUT_OF_RANGE, False),
    ("checkins", _with(CHECKIN, checkout_at=FUTURE), OUT_OF_RANGE, False),
    ("checkins", _with(CHECKIN, checkout_at=253402300799999), OUT_OF_RANGE, False),
    ("proximity", _with(SIGHTING, rssi=21), "rssi out of range", True),
    ("proximity", _with(SIGHTING, rssi=-128), "rssi out of range", True),
    ("proximity", _with(SIGHTING, rssi=-70.5), "rssi must be an integer", True),
    ("proximity", _with(SIGHTING, rssi=True), "rssi must be an integer", True),
    ("proximity", _with(SIGHTING, reporter_os="windows"), "unknown value in reporter_os", True),
    ("proximity", _with(SIGHTING, contact_os=...), "missing field contact_os", True),
    ("proximity", _with(SIGHTING, contact_id="0912 345 678"), "contact is the reporter", False),
    ("proximity", _with(SIGHTING, observed_at=None), "missing field observed_at", True),
    ("proximity", _with(SIGHTING, observed_at=2**70), OUT_OF_RANGE, False),
    ("proximity", _with(SIGHTING, observed_at="0001-01-01T00:00:00Z"), OUT_OF_RANGE, False),
    ("proximity", _with(SIGHTING, tx_power=128), OUT_OF_RANGE, True),
    ("proximity", _with(SIGHTING, tx_power=-128), OUT_OF_RANGE, True),
    ("proximity", _with(SIGHTING, tx_power=2**31), OUT_OF_RANGE, True),
    ("proximity", _with(SIGHTING, tx_power=2**70), OUT_OF_RANGE, True),
    ("proximity", _with(SIGHTING, rssi=2**70), "rssi out of range", True),
    ("case_reports", _with(CONFIRMED, kind="suspected"), "unknown value in kind", True),
    ("case_reports", _with(CONFIRMED, sample_date=...), "missing field sample_date", True),
    ("case_reports", _with(CONFIRMED, sample_date="04/08/2021"), "malformed date in sample_date", True),
    ("case_reports", _with(ISOLATED, isolated_at=...), "missing field isolated_at", True),
    ("case_reports", _with(ISOLATED, isolated_at="soon"), "unparseable timestamp in isolated_at", True),
    ("case_reports", _with(ISOLATED, isolated_at="0001-01-01T00:00:00+14:00"), OUT_OF_RANGE, False),
    ("case_reports", _with(ISOLATED, isolated_at=FUTURE), OUT_OF_RANGE, False),
    ("case_reports", _with(CONFIRMED, reported_at=10**15), OUT_OF_RANGE, False),
    ("case_reports", _with(CONFIRMED, sample_date="0001-01-01"), OUT_OF_RANGE, False),
    ("case_reports", _with(CONFIRMED, sample_date="9999-12-31"), OUT_OF_RANGE, False),
    ("case_reports", _with(CONFIRMED, sample_date="2021-06-05"), OUT_OF_RANGE, False),
    ("case_reports", _with(CONFIRMED, sample_date="2021-08-07"), OUT_OF_RANGE, False),
    ("case_reports", _with(CONFIRMED, onset_date="2020-01-01"), OUT_OF_RANGE, False),
    ("case_reports", _with(DISCARDED, sample_date="1970-01-01"), OUT_OF_RANGE, False),
    ("case_reports", _with(CONFIRMED, sample_date="\uff12\uff10\uff12\uff11-08-04"), "malformed date in sample_date",
     True),
    ("case_reports", _with(DISCARDED, reported_at=...), "missing field reported_at", True),
    ("venues", _with(VENUE, district_code=...), "missing field district_code", True),
    ("venues", _with(VENUE, lat=95.0), "lat out of range", True),
    ("venues", _with(VENUE, name=""), "empty name", True),
]


@pytest.mark.parametrize(("topic", "event", "reason", "schema_sees_it"), INVALID)
def test_invalid_events_are_rejected_with_their_reason(topic: str, event: dict[str, Any] | bytes, reason: str,
                                                      schema_sees_it: bool) -> None:
    verdict = _judge(topic, event)
    assert verdict == Rejected(reason, verdict.event_id) if isinstance(verdict, Rejected) else False
    if isinstance(event, dict) and isinstance(event.get("event_id"), str):
        assert verdict.event_id == event["event_id"]  # type: ignore[union-attr]
    if (schema_sees_it and isinstance(event, dict)) or event == b"[1, 2]":
        instance = json.loads(event) if isinstance(event, bytes) else event
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(instance, _schema(topic))


def test_a_time_up_to_one_day_ahead_of_landing_is_accepted() -> None:
    landed = 1627953300 * 1_000_000
    almost = _with(CHECKIN, checkin_at=(1627953300 + 86_400) * 1000, checkout_at=...)
    beyond = _with(CHECKIN, checkin_at=(1627953300 + 86_400) * 1000 + 1, checkout_at=...)
    assert isinstance(judge("checkins", json.dumps(almost).encode(), landed), Accepted)
    assert judge("checkins", json.dumps(beyond).encode(), landed) == Rejected(OUT_OF_RANGE, "c1")


def test_the_earliest_instant_is_the_configured_one() -> None:
    later = Plausibility.of(Settings.model_construct(earliest_instant=datetime(2021, 8, 3, 1, 15, tzinfo=UTC)))
    on_time = _with(CHECKIN, checkin_at="2021-08-03T08:15:00+07:00")
    early = _with(CHECKIN, checkin_at="2021-08-03T08:14:59.999999+07:00")
    assert isinstance(judge("checkins", json.dumps(on_time).encode(), NOW_US, later), Accepted)
    assert judge("checkins", json.dumps(early).encode(), NOW_US, later) == Rejected(OUT_OF_RANGE, "c1")
    assert isinstance(judge("checkins", json.dumps(early).encode(), NOW_US), Accepted)
    assert CONTRACT_PLAUSIBILITY.earliest_us == epoch_micros(datetime(2020, 1, 1, tzinfo=UTC))


def test_the_earliest_instant_setting_needs_an_offset() -> None:
    with_offset = Settings.model_validate({"earliest_instant": "2021-08-01T00:00:00+07:00"})
    assert with_offset.earliest_instant == datetime(2021, 7, 31, 17, tzinfo=UTC)
    with pytest.raises(pydantic.ValidationError, match="offset"):
        Settings.model_validate({"earliest_instant": "2021-08-01T00:00:00"})


def test_case_dates_follow_the_local_date_of_the_report() -> None:
    late_evening = _with(CONFIRMED, reported_at="2021-08-05T20:00:00Z", sample_date="2021-08-07")
    value = json.dumps(late_evening).encode()
    assert isinstance(judge("case_reports", value, NOW_US), Accepted)  # 2021-08-06 in Ho Chi Minh City
    in_utc = Plausibility(CONTRACT_PLAUSIBILITY.earliest_us, ZoneInfo("UTC"))
    assert judge("case_reports", value, NOW_US, in_utc) == Rejected(OUT_OF_RANGE, "r1")


DEEP = b'{"event_id": "deep", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
POISON: list[tuple[str, bytes | None, str]] = [
    # topic, Kafka value, reason: every one a record that once could stop the lander
    ("checkins", None, "empty message"),
    ("checkins", b"", "not JSON"),
    ("checkins", DEEP, "not JSON"),
    ("checkins", b'{"event_id": "s", "person_id": "\\ud800"}', "not JSON"),
    ("checkins", b'{"event_id": "s", "person_id": "\xed\xa0\x80"}', "not JSON"),
    ("checkins", b'{"event_id": "\xff\xfe"}', "not JSON"),
    ("proximity", json.dumps(SIGHTING).replace("-70", "NaN").encode(), "not JSON"),
    ("proximity", json.dumps(SIGHTING).replace("-70", "Infinity").encode(), "not JSON"),
    ("proximity", json.dumps(SIGHTING).replace("-70", "-Infinity").encode(), "not JSON"),
    ("proximity", json.dumps(SIGHTING).replace("-70", "1e400").encode(), "rssi must be an integer"),
    ("proximity", json.dumps(SIGHTING).replace("-70", "1" + "0" * 5000).encode(), "not JSON"),
    ("venues", json.dumps(VENUE).replace("12.25", "1e400").encode(), "lat out of range"),
    ("checkins", json.dumps(_with(CHECKIN, person_id="(" * 200_000 + "x")).encode(), "malformed id in person_id"),
    ("checkins", b"[]", "not a JSON object"),
    ("checkins", b"1627953300000", "not a JSON object"),
    ("checkins", b'"checkin"', "not a JSON object"),
    ("checkins", b"null", "not a JSON object"),
    ("checkins", json.dumps(CHECKIN)[:-1].encode() + b', "event_id": 5}', "event_id must be a string"),
    ("case_reports", json.dumps(_with(CONFIRMED, sample_date="0001-01-01")).encode(), OUT_OF_RANGE),
]


@pytest.mark.parametrize(("topic", "value", "reason"), POISON)
def test_poison_pills_are_rejected_with_a_reason(topic: str, value: bytes | None, reason: str) -> None:
    verdict = judge(topic, value, NOW_US)
    assert isinstance(verdict, Rejected) and verdict.reason == reason


def test_a_200_kb_field_lands_and_a_long_event_id_stays_out_of_the_quarantine() -> None:
    long_name = _with(VENUE, name="Chợ " + "x" * 200_000)
    accepted = judge("venues", json.dumps(long_name).encode(), NOW_US)
    assert isinstance(accepted, Accepted) and len(accepted.record["name"]) > 200_000
    long_id = _with(CHECKIN, event_id="c" * 201, source="sms")
    assert judge("checkins", json.dumps(long_id).encode(), NOW_US) == Rejected("unknown value in source", None)
    short_id = _with(CHECKIN, event_id="c" * 200, source="sms")
    assert judge("checkins", json.dumps(short_id).encode(), NOW_US) == Rejected("unknown value in source", "c" * 200)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)
FIELD_NAMES = st.sampled_from(sorted({key for event in BASE.values() for key in event} | {"kind", "isolated_at"}))


@settings(max_examples=300, deadline=None)
@given(topic=st.sampled_from(TOPICS), value=st.binary(max_size=300))
def test_arbitrary_bytes_never_make_the_validator_raise(topic: str, value: bytes) -> None:
    assert isinstance(judge(topic, value, NOW_US), Accepted | Rejected)


@settings(max_examples=500, deadline=None)
@given(topic=st.sampled_from(TOPICS), document=JSON_VALUES)
def test_arbitrary_json_never_makes_the_validator_raise(topic: str, document: Any) -> None:
    assert isinstance(judge(topic, json.dumps(document).encode(), NOW_US), Accepted | Rejected)


@settings(max_examples=500, deadline=None)
@given(topic=st.sampled_from(TOPICS), changes=st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=4))
def test_mutated_events_never_make_the_validator_raise(topic: str, changes: dict[str, Any]) -> None:
    event = {**BASE[topic], **changes}
    verdict = judge(topic, json.dumps(event).encode(), NOW_US)
    assert isinstance(verdict, Accepted | Rejected)
    if isinstance(verdict, Rejected):
        assert verdict.reason and not verdict.reason.startswith("unreadable")
