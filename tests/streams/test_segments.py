"""Segments close on count, bytes or record time only, so landing a range again cuts it the same way."""

import json
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from kafka.consumer.fetcher import ConsumerRecord

from streams.landing_files import LakeSink, split_by_day
from streams.people import People
from streams.segment_tables import RawColumns
from streams.segments import ClosedSegment, PartitionBuffer, SegmentLimits
from tests.streams.conftest import EVENTS, checkin, lake_event_id, sighting
from tracelake.core.identity import Pseudonymizer

T0 = 1_628_000_000_000  # Kafka timestamps, ms
LANDED_US = time.time_ns() // 1000  # the lander's clock, held still so two landings compare equal


def record(offset: int, value: bytes | None, timestamp: int = T0, topic: str = "proximity") -> ConsumerRecord:
    size = len(value) if value is not None else -1
    return ConsumerRecord(topic, 0, -1, offset, timestamp, 0, None, value, [], None, -1, size, -1)


def sightings(count: int, start: int = 0, step_ms: int = 1000) -> list[ConsumerRecord]:
    return [
        record(offset, json.dumps(sighting(offset)).encode(), T0 + (offset - start) * step_ms)
        for offset in range(start, start + count)
    ]


def buffer(limits: SegmentLimits, topic: str = "proximity") -> PartitionBuffer:
    return PartitionBuffer(
        topic, 0, RawColumns(topic, "Asia/Ho_Chi_Minh", EVENTS), People(Pseudonymizer(b"k" * 32).pseudonym), limits,
        clock=lambda: LANDED_US,
    )


def ranges(segments: list[ClosedSegment]) -> list[tuple[int, int]]:
    return [(segment.first_offset, segment.last_offset) for segment in segments]


def test_closes_on_record_count() -> None:
    closed = buffer(SegmentLimits(max_records=10)).add(sightings(25))
    assert ranges(closed) == [(0, 9), (10, 19)]
    assert [segment.raw.num_rows for segment in closed] == [10, 10]


def test_closes_on_value_bytes() -> None:
    messages = sightings(10)
    size = len(messages[0].value)
    closed = buffer(SegmentLimits(max_bytes=size * 3)).add(messages)
    assert ranges(closed) == [(0, 2), (3, 5), (6, 8)]


def test_closes_on_record_time_not_wall_clock() -> None:
    closed = buffer(SegmentLimits(max_span_ms=4_500)).add(sightings(12))
    assert ranges(closed) == [(0, 4), (5, 9)]


def test_cuts_do_not_depend_on_how_records_arrive() -> None:
    limits = SegmentLimits(max_records=7, max_span_ms=5_000, chunk_records=3)
    messages = sightings(40, step_ms=700)
    whole = buffer(limits).add(messages)
    pieces = buffer(limits)
    piecewise = [segment for start in range(0, 40, 6) for segment in pieces.add(messages[start:start + 6])]
    assert ranges(whole) == ranges(piecewise)
    assert [segment.raw for segment in whole] == [segment.raw for segment in piecewise]


def test_open_segment_closes_on_demand_and_discards_cleanly() -> None:
    partition = buffer(SegmentLimits())
    assert partition.add(sightings(5)) == []
    closed = partition.close_open()
    assert closed is not None and ranges([closed]) == [(0, 4)]
    assert partition.close_open() is None
    partition.add(sightings(3, start=5))
    partition.discard()
    assert partition.close_open() is None


def test_rejected_records_keep_their_bytes_and_reason() -> None:
    segment = buffer_close([record(0, b"oops"), *sightings(2, start=1), record(3, None)])
    assert segment.raw["event_id"].to_pylist() == [lake_event_id("p-1"), lake_event_id("p-2")]
    assert segment.quarantine.select(["kafka_offset", "reason", "raw_value"]).to_pylist() == [
        {"kafka_offset": 0, "reason": "not JSON", "raw_value": b"oops"},
        {"kafka_offset": 3, "reason": "empty message", "raw_value": None},
    ]


def buffer_close(messages: list[ConsumerRecord]) -> ClosedSegment:
    partition = buffer(SegmentLimits())
    partition.add(messages)
    closed = partition.close_open()
    assert closed is not None
    return closed


def test_identities_cover_every_pseudonym_of_the_segment() -> None:
    segment = buffer_close(sightings(20))
    pseudonyms = set(segment.raw["reporter_pseudonym"].to_pylist()) | set(segment.raw["contact_pseudonym"].to_pylist())
    assert sorted(segment.identities["pseudonym"].to_pylist()) == sorted(pseudonyms)  # each pair once
    assert set(segment.identities["person_id"].to_pylist()) == {"+84912345678", "+84987654321"}


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SegmentLimits(max_records=0)


def _checkins_segment(first: int, events: list[dict[str, object]]) -> ClosedSegment:
    messages = [record(first + n, json.dumps(event).encode(), topic="checkins") for n, event in enumerate(events)]
    partition = buffer(SegmentLimits(), topic="checkins")
    partition.add(messages)
    closed = partition.close_open()
    assert closed is not None
    return closed


def test_split_by_day_uses_the_local_day() -> None:
    table = pa.table({"t": pa.array([0, 17 * 3600 * 10**6, 16 * 3600 * 10**6], pa.timestamp("us", tz="UTC"))})
    days = split_by_day(table, "t", "Asia/Ho_Chi_Minh")
    assert {day: part.num_rows for day, part in days.items()} == {date(1970, 1, 1): 1, date(1970, 1, 2): 2}


def test_a_retry_removes_what_an_uncommitted_attempt_left_on_other_days(tmp_path: Path) -> None:
    sink = LakeSink(str(tmp_path / "lake"), str(tmp_path / "vault"), "Asia/Ho_Chi_Minh")
    two_days = [checkin(1, at="2021-08-03T08:00:00+07:00"), checkin(2, at="2021-08-04T08:00:00+07:00")]
    first = _checkins_segment(100, two_days)
    assert sink.write(first, incarnation="a1", replaces_uncommitted=True, identities=first.identities) == 2
    files = sorted((tmp_path / "lake" / "raw" / "checkins").glob("*/*.parquet"))
    assert [path.parent.name for path in files] == ["date=2021-08-03", "date=2021-08-04"]

    retry = _checkins_segment(100, two_days[:1])  # the same first offset, cut shorter
    sink.write(retry, incarnation="a1", replaces_uncommitted=True, identities=retry.identities)

    files = sorted((tmp_path / "lake" / "raw" / "checkins").glob("*/*.parquet"))
    assert [path.relative_to(tmp_path / "lake").as_posix() for path in files] == [
        "raw/checkins/date=2021-08-03/checkins+0+a1+00000000000000000100.parquet"
    ]
    assert sorted(path.name for path in (tmp_path / "vault" / "identities").iterdir()) == [
        "checkins+0+a1+00000000000000000100.parquet"
    ]


def test_another_incarnation_at_the_same_offsets_lands_beside_and_removes_nothing(tmp_path: Path) -> None:
    sink = LakeSink(str(tmp_path / "lake"), str(tmp_path / "vault"), "Asia/Ho_Chi_Minh")
    two_days = [checkin(1, at="2021-08-03T08:00:00+07:00"), checkin(2, at="2021-08-04T08:00:00+07:00")]
    earlier = _checkins_segment(0, two_days)
    sink.write(earlier, incarnation="a1", replaces_uncommitted=True, identities=earlier.identities)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*.parquet")}

    later = _checkins_segment(0, [checkin(3, person="0987 654 321", at="2021-08-04T09:00:00+07:00")])
    sink.write(later, incarnation="b2", replaces_uncommitted=True, identities=later.identities)

    after = {path: path.read_bytes() for path in tmp_path.rglob("*.parquet")}
    assert {path: after.get(path) for path in before} == before, "an earlier incarnation's file changed or went"
    assert sorted(path.relative_to(tmp_path).as_posix() for path in set(after) - set(before)) == [
        "lake/raw/checkins/date=2021-08-04/checkins+0+b2+00000000000000000000.parquet",
        "vault/identities/checkins+0+b2+00000000000000000000.parquet",
    ]
