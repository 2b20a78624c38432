"""Publish → land → read back: every event once, valid ones pseudonymized, malformed ones quarantined."""

import collections
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pyarrow.compute as pc

from streams.segment_tables import pseudonym_column
from tests.streams.conftest import KEY, Landing, case_report, checkin, lake_event_id, phone, sighting, venue
from tracelake.core.events import PERSON_FIELDS
from tracelake.core.identity import Pseudonymizer, normalize_person_id
from tracelake.core.vault import read_identities

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MALFORMED = [
    b"not json at all",
    b'["a", "list"]',
    b'{"event_id": "bad-1"}',
    b'{"event_id": "bad-2", "person_id": "12345", "venue_id": "V-1", "checkin_at": "2021-08-03T08:00:00+07:00"}',
    b"\xff\xfe binary \x00 bytes",
]


def test_every_event_lands_once_valid_ones_pseudonymized(landing: Landing) -> None:
    sent = {
        "checkins": landing.write("checkins", [checkin(n, person=phone(n % 40)) for n in range(300)] + MALFORMED),
        "proximity": landing.write(
            "proximity", [sighting(n, reporter=phone(n % 50), contact=phone(n % 50 + 1)) for n in range(500)]
        ),
        "case_reports": landing.write("case_reports", [case_report(n, person=phone(n)) for n in range(30)]),
        "venues": landing.write("venues", [venue(n) for n in range(20)] + [b'{"venue_id": "V-x"}']),
    }
    assert landing.publish() == {topic: len(lines) for topic, lines in sent.items()}

    reported: dict[str, int] = {}
    counts = landing.land(progress=reported.__setitem__)

    assert reported == {topic: len(lines) for topic, lines in sent.items()}
    for topic, lines in sent.items():
        raw, quarantine = landing.raw(topic), landing.quarantine(topic)
        assert raw.num_rows + quarantine.num_rows == len(lines), topic
        assert counts.landed.get(topic, 0) == raw.num_rows
        assert counts.quarantined.get(topic, 0) == quarantine.num_rows
        by_event = collections.Counter(raw["event_id"].to_pylist())
        assert all(seen == 1 for seen in by_event.values()), topic
        offsets = raw["kafka_offset"].to_pylist() + quarantine["kafka_offset"].to_pylist()
        partitions = raw["kafka_partition"].to_pylist() + quarantine["kafka_partition"].to_pylist()
        assert len(set(zip(partitions, offsets, strict=True))) == len(lines), topic
    assert landing.quarantine("checkins").num_rows == len(MALFORMED)
    assert set(landing.payloads("checkins")) == set(MALFORMED)
    assert "raw_value" not in landing.quarantine("checkins").column_names
    assert landing.quarantine("venues")["reason"].to_pylist() == ["missing field name"]


def test_pseudonyms_match_the_vault_and_the_key(landing: Landing) -> None:
    spellings = [phone(n) for n in range(12)]
    landing.write("proximity", [sighting(n, reporter=spellings[n % 12], contact=spellings[(n + 5) % 12])
                                for n in range(120)])
    landing.write("checkins", [checkin(n, person=spellings[n % 12]) for n in range(60)])
    landing.publish()
    landing.land()

    vault = dict(zip(*read_identities(str(landing.settings.vault)).to_pydict().values(), strict=True))
    pseudonymizer = Pseudonymizer(KEY.encode())
    expected_people = {normalize_person_id(spelling) for spelling in spellings}
    assert set(vault.values()) == expected_people
    for topic in ("proximity", "checkins"):
        raw = landing.raw(topic)
        for field in PERSON_FIELDS[topic]:
            for pseudonym in raw[pseudonym_column(field)].to_pylist():
                assert pseudonymizer.pseudonym(vault[pseudonym]) == pseudonym
        for column in raw.column_names:
            if raw.schema.field(column).type == "string":
                assert not any(value and value.startswith("+84") for value in raw[column].to_pylist()), column


def test_files_go_to_the_local_day_of_the_event(landing: Landing) -> None:
    landing.write("checkins", [checkin(1, at="2021-08-03T01:00:00+07:00"), checkin(2, at="2021-08-02T23:59:00Z")])
    landing.write("venues", [venue(1)])
    landing.publish()
    landing.land()

    raw = landing.raw("checkins").sort_by("event_id")
    assert raw["date"].to_pylist() == [date(2021, 8, 3), date(2021, 8, 3)]  # both local 3 August (UTC 2 August)
    venues = landing.raw("venues").to_pylist()
    assert [row["date"] for row in venues] == [row["landed_at"].astimezone(ZONE).date() for row in venues]
    assert landing.quarantine("checkins").num_rows == 0


def test_quarantine_rows_say_where_and_why(landing: Landing) -> None:
    lines = landing.write("checkins", [checkin(1), b'{"event_id": "q-1", "person_id": "oops"}'])
    landing.publish()
    before = datetime.now(UTC)
    landing.land()
    after = datetime.now(UTC)

    quarantine = landing.quarantine("checkins").to_pylist()
    assert len(quarantine) == 1
    row = quarantine[0]
    assert row["kafka_topic"] == "checkins"
    assert landing.payloads("checkins") == {lines[1]: row}
    assert row["event_id"] == lake_event_id("q-1")
    assert row["reason"] == "malformed id in person_id"
    assert before <= row["landed_at"] <= after  # the lander's clock, not the producer's
    assert row["date"] == row["landed_at"].astimezone(ZONE).date()
    raw = landing.raw("checkins").to_pylist()
    assert len(raw) == 1 and before <= raw[0]["landed_at"] <= after


def test_landing_again_changes_nothing(landing: Landing) -> None:
    landing.write("proximity", [sighting(n) for n in range(50)])
    landing.publish()
    first = landing.land()
    files = {path: path.read_bytes() for path in landing.files("raw", "proximity")}

    second = landing.land()

    assert first.landed == {"proximity": 50}
    assert second.total_landed == 0 and second.total_files == 0
    assert {path: path.read_bytes() for path in landing.files("raw", "proximity")} == files
    assert pc.sum(landing.raw("proximity")["rssi"]).as_py() == -70 * 50
