"""Every reason the validator knows reaches the quarantine through Kafka, each for the event that earns it."""

import json
from datetime import UTC, datetime, timedelta

from kafka import KafkaProducer

from tests.streams.conftest import Landing, case_report, checkin, lake_event_id, sighting, venue


def _with(event: dict[str, object], **changes: object) -> bytes:
    changed = {**event, **changes}
    return json.dumps({key: value for key, value in changed.items() if value != "<drop>"}).encode()


FUTURE = (datetime.now(UTC) + timedelta(days=3)).isoformat()

BAD = {
    "checkins": {
        b"{not json": "not JSON",
        b"[1, 2, 3]": "not a JSON object",
        _with(checkin(1), venue_id="<drop>"): "missing field venue_id",
        _with(checkin(2), venue_id=42): "venue_id must be a string",
        _with(checkin(3), venue_id=""): "empty venue_id",
        _with(checkin(4), person_id="12345"): "malformed id in person_id",
        _with(checkin(5), checkin_at="yesterday"): "unparseable timestamp in checkin_at",
        _with(checkin(6), checkin_at="2021-08-03T08:15:00"): "timestamp without offset in checkin_at",
        _with(checkin(7), source="telepathy"): "unknown value in source",
        _with(checkin(8), checkout_at="2021-08-03T07:00:00+07:00"): "checkout before checkin",
        _with(checkin(9), checkin_at=FUTURE, checkout_at="<drop>"): "out_of_range",
        _with(checkin(10), checkin_at="0001-01-01T00:00:00+14:00", checkout_at="<drop>"): "out_of_range",
    },
    "proximity": {
        _with(sighting(1), rssi=-70.5): "rssi must be an integer",
        _with(sighting(2), rssi=50): "rssi out of range",
        _with(sighting(3), tx_power=2**40): "out_of_range",
        _with(sighting(6), tx_power=128): "out_of_range",
        _with(sighting(4), reporter_id="0912 345 678", contact_id="+84912345678"): "contact is the reporter",
        _with(sighting(5), reporter_os="windows"): "unknown value in reporter_os",
    },
    "case_reports": {
        _with(case_report(1, kind="confirmed"), sample_date="<drop>"): "missing field sample_date",
        _with(case_report(2, kind="isolated"), isolated_at="<drop>"): "missing field isolated_at",
        _with(case_report(3, kind="confirmed"), sample_date="04/08/2021"): "malformed date in sample_date",
        _with(case_report(4), kind="recovered"): "unknown value in kind",
        _with(case_report(5, kind="confirmed"), sample_date="0001-01-01"): "out_of_range",
    },
    "venues": {
        _with(venue(1), lat="north"): "lat must be a number",
        _with(venue(2), lat=91.0): "lat out of range",
        _with(venue(3), lon=-181.0): "lon out of range",
    },
}


def test_each_reason_is_recorded_for_its_event(landing: Landing) -> None:
    for topic, cases in BAD.items():
        landing.write(topic, list(cases))
    landing.publish()
    producer = KafkaProducer(bootstrap_servers=landing.broker.bootstrap)
    producer.send("venues", key=b"V-gone", value=None).get(timeout=10)  # a tombstone: no value at all
    producer.close()

    landing.land()

    for topic, cases in BAD.items():
        found = {payload: row["reason"] for payload, row in landing.payloads(topic).items()}
        expected: dict[bytes | None, str] = dict(cases)
        if topic == "venues":
            expected[None] = "empty message"
        assert found == expected, topic
        assert landing.raw(topic).num_rows == 0, topic


def test_unknown_fields_are_accepted(landing: Landing) -> None:
    landing.write("checkins", [{**checkin(1), "app_version": "4.2", "device": {"model": "SM-A515F"}}])
    landing.write("venues", [{**venue(1), "opening_hours": [8, 22]}])
    landing.publish()

    counts = landing.land()

    assert counts.total_quarantined == 0
    assert landing.raw("checkins")["event_id"].to_pylist() == [lake_event_id("c-1")]
    assert landing.raw("venues")["venue_id"].to_pylist() == ["V-1"]
