"""No record stops the lander: whatever a value holds, it becomes a raw row or a quarantine row with a reason.

Arbitrary JSON in every field of every topic, and arbitrary bytes, go through
the chunk judge and through a whole segment to real files (Segment →
ClosedSegment → LakeSink.write); the last-resort guard quarantines what
cannot become Arrow rows; the quarantine's day and the rejected payloads
follow the lander's clock.
"""

import json
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kafka.consumer.fetcher import ConsumerRecord

from schemas import TOPICS
from schemas.lake import QUARANTINE
from streams.landing_files import LakeSink
from streams.people import People
from streams.segment_tables import RawColumns
from streams.segments import ClosedSegment, PartitionBuffer, SegmentLimits
from streams.verdicts import judge_chunk
from tests.core.test_events import BASE, DEEP, JSON_VALUES, NOW_US
from tests.streams.conftest import EVENTS, checkin, lake_event_id, venue
from tracelake.core.days import epoch_micros
from tracelake.core.events import Accepted, judge
from tracelake.core.identity import Pseudonymizer
from tracelake.core.rejected import read_rejected

ZONE = "Asia/Ho_Chi_Minh"
PSEUDONYMS = Pseudonymizer(b"poison-pills-test-key-0123456789")
FIELDS = {
    topic: sorted(set(event) | {"event_id", "kind", "sample_date", "onset_date", "isolated_at", "tx_power"})
    for topic, event in BASE.items()
}
EXTREMES = st.sampled_from([
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01", "9999-12-31", "2019-12-31T23:59:59Z",
    2**63, -(2**63) - 1, 2**70, -1, 0, 10**18, 1e308, -1e308, 128, -128, "", " ", "\ud800", "\udfff\ud800",
    "x" * 200_000, "０９１２３４５６７８", "842438123456", "097123456789", "\x00", [[[[]]]], {"$date": 0},
])
VALUES = JSON_VALUES | EXTREMES
T0 = 1_628_000_000_000
KAFKA_TIMES = st.sampled_from([T0, T0 + 1, -1, 0, 2**62, 2**63 - 1, 253_402_300_800_000])


def _mutated(topic: str, changes: dict[str, Any]) -> bytes:
    event = {**BASE[topic], **changes}
    return json.dumps(event).encode()


CHUNKS = st.sampled_from(TOPICS).flatmap(lambda topic: st.tuples(
    st.just(topic),
    st.lists(
        st.dictionaries(st.sampled_from(FIELDS[topic]), VALUES, max_size=4).map(lambda c: _mutated(topic, c))
        | st.binary(max_size=200)
        | st.sampled_from([None, DEEP, b"null", b"[]", b'"s"', b"1e400", b'{"event_id": NaN}']),
        min_size=1, max_size=12,
    ),
))


@settings(max_examples=300, deadline=None)
@given(chunk=CHUNKS)
def test_any_chunk_is_judged_record_by_record_without_raising(chunk: tuple[str, list[bytes | None]]) -> None:
    topic, values = chunk
    verdicts = judge_chunk(topic, values, NOW_US, People(PSEUDONYMS.pseudonym))
    refused = [index for index, _ in verdicts.rejected]
    assert sorted(verdicts.accepted + refused) == list(range(len(values)))
    assert verdicts.records.num_rows == len(verdicts.accepted)
    assert all(reason for _, (reason, _) in verdicts.rejected)
    reference = {index for index, value in enumerate(values) if isinstance(judge(topic, value, NOW_US), Accepted)}
    assert set(verdicts.accepted) == reference


def _record(topic: str, offset: int, value: bytes | None, timestamp: int = T0) -> ConsumerRecord:
    size = len(value) if value is not None else -1
    return ConsumerRecord(topic, 0, -1, offset, timestamp, 0, None, value, [], None, -1, size, -1)


def _buffer(topic: str, clock_us: int, columns: RawColumns | None = None, chunk: int = 5) -> PartitionBuffer:
    return PartitionBuffer(
        topic, 0, columns or RawColumns(topic, ZONE, EVENTS), People(PSEUDONYMS.pseudonym),
        SegmentLimits(max_records=7, chunk_records=chunk), clock=lambda: clock_us,
    )


def _segments(buffer: PartitionBuffer, records: list[ConsumerRecord]) -> list[ClosedSegment]:
    closed = buffer.add(records)
    last = buffer.close_open()
    return closed + ([last] if last is not None else [])


def _read(root: Path) -> pa.Table | None:
    if not root.exists():
        return None
    partitioning = ds.partitioning(pa.schema([("date", pa.date32())]), flavor="hive")
    return ds.dataset(root, format="parquet", partitioning=partitioning).to_table()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(chunk=CHUNKS, kafka_times=st.lists(KAFKA_TIMES, min_size=12, max_size=12))
def test_any_records_reach_the_files_as_raw_or_quarantine_rows(
    chunk: tuple[str, list[bytes | None]], kafka_times: list[int]
) -> None:
    topic, values = chunk
    records = [_record(topic, offset, value, kafka_times[offset]) for offset, value in enumerate(values)]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        sink = LakeSink(str(root / "lake"), str(root / "vault"), ZONE)
        for segment in _segments(_buffer(topic, NOW_US), records):
            sink.write(segment, incarnation="a1", replaces_uncommitted=True, identities=segment.identities)
        raw = _read(root / "lake" / "raw" / topic)
        quarantine = _read(root / "lake" / "quarantine" / topic)
        rejected = read_rejected(str(root / "vault"), topic)
        landed = raw["kafka_offset"].to_pylist() if raw is not None else []
        quarantined = quarantine["kafka_offset"].to_pylist() if quarantine is not None else []
        assert sorted(landed + quarantined) == list(range(len(values)))
        assert sorted(rejected["kafka_offset"].to_pylist()) == sorted(quarantined)
        assert {row["kafka_offset"]: row["raw_value"] for row in rejected.to_pylist()} == {
            offset: values[offset] for offset in quarantined
        }
        if quarantine is not None:
            assert "raw_value" not in quarantine.column_names
            assert set(quarantine.column_names) == set(QUARANTINE.names) | {"date"}


def test_a_chunk_that_cannot_become_arrow_quarantines_only_its_offenders() -> None:
    class Fragile(RawColumns):
        """Raises like an Arrow conversion would, on the one record named `poison`."""

        def table(self, partition: int, records: pa.Table, *args: Any) -> pa.Table:
            if "poison" in records["event_id"].to_pylist():
                raise pa.ArrowInvalid("cannot convert")
            return super().table(partition, records, *args)

    events = [checkin(1), {**checkin(2), "event_id": "poison"}, checkin(3), b"{oops"]
    values = [event if isinstance(event, bytes) else json.dumps(event).encode() for event in events]
    records = [_record("checkins", offset, value) for offset, value in enumerate(values)]
    [segment] = _segments(_buffer("checkins", NOW_US, Fragile("checkins", ZONE, EVENTS)), records)
    assert segment.raw["event_id"].to_pylist() == [lake_event_id("c-1"), lake_event_id("c-3")]
    assert segment.quarantine.select(["kafka_offset", "reason", "raw_value"]).to_pylist() == [
        {"kafka_offset": 1, "reason": "unlandable: ArrowInvalid", "raw_value": values[1]},
        {"kafka_offset": 3, "reason": "not JSON", "raw_value": values[3]},
    ]


def test_a_row_with_no_local_day_is_quarantined_before_the_sink_splits_by_day() -> None:
    class NoDay(RawColumns):
        def days(self, table: pa.Table) -> pa.Array:
            if lake_event_id("poison") in table["event_id"].to_pylist():
                raise OverflowError("date value out of range")
            return super().days(table)

    values = [json.dumps(event).encode() for event in (checkin(1), {**checkin(2), "event_id": "poison"})]
    records = [_record("checkins", offset, value) for offset, value in enumerate(values)]
    [segment] = _segments(_buffer("checkins", NOW_US, NoDay("checkins", ZONE, EVENTS)), records)
    assert segment.raw["event_id"].to_pylist() == [lake_event_id("c-1")]
    assert segment.quarantine["reason"].to_pylist() == ["unlandable: OverflowError"]
    assert segment.quarantine["event_id"].to_pylist() == [None]


def test_kafka_timestamps_that_are_no_instant_land_as_null_and_the_lander_clock_is_kept() -> None:
    landed_us = epoch_micros(datetime(2021, 8, 5, 17, 30, tzinfo=UTC))  # 6 August, 00:30 in Ho Chi Minh City
    stamps = [-1, 2**62, 2**63 - 1, T0]
    records = [
        _record("checkins", offset, json.dumps(checkin(offset)).encode(), stamp) for offset, stamp in enumerate(stamps)
    ]
    records.append(_record("checkins", 4, b"{oops", -5))
    segments = _segments(_buffer("checkins", landed_us), records)  # record times cut it into several
    raw = pa.concat_tables(segment.raw for segment in segments)
    quarantine = pa.concat_tables(segment.quarantine for segment in segments)
    assert raw["kafka_offset"].to_pylist() == [0, 1, 2, 3]
    assert raw["kafka_timestamp"].cast(pa.int64()).to_pylist() == [None, None, None, T0 * 1000]
    assert set(raw["landed_at"].cast(pa.int64()).to_pylist()) == {landed_us}
    assert quarantine["kafka_timestamp"].to_pylist() == [None]
    assert quarantine["landed_at"].cast(pa.int64()).to_pylist() == [landed_us]


def test_the_quarantine_day_and_the_venues_day_follow_the_lander_clock(tmp_path: Path) -> None:
    landed_us = epoch_micros(datetime(2021, 8, 5, 17, 30, tzinfo=UTC))  # 6 August, 00:30 in Ho Chi Minh City
    sink = LakeSink(str(tmp_path / "lake"), str(tmp_path / "vault"), ZONE)
    checkins = [_record("checkins", 0, json.dumps(checkin(0)).encode(), 2**62),
                _record("checkins", 1, b'{"event_id": "q-1", "person_id": "0912 345 678"}', -1)]
    venues = [_record("venues", 0, json.dumps(venue(0)).encode(), -1)]
    for topic, records in (("checkins", checkins), ("venues", venues)):
        for segment in _segments(_buffer(topic, landed_us), records):
            sink.write(segment, incarnation="a1", replaces_uncommitted=True, identities=segment.identities)

    def files(root: Path) -> list[str]:
        return sorted(path.relative_to(tmp_path).as_posix() for path in root.rglob("*.parquet"))

    name = "checkins+0+a1+00000000000000000000.parquet"
    assert files(tmp_path / "lake" / "quarantine") == [f"lake/quarantine/checkins/date=2021-08-06/{name}"]
    assert files(tmp_path / "vault" / "rejected") == [f"vault/rejected/checkins/date=2021-08-06/{name}"]
    assert files(tmp_path / "lake" / "raw" / "checkins") == [f"lake/raw/checkins/date=2021-08-03/{name}"]
    assert files(tmp_path / "lake" / "raw" / "venues") == [
        "lake/raw/venues/date=2021-08-06/venues+0+a1+00000000000000000000.parquet"
    ]
    rejected = read_rejected(str(tmp_path / "vault"), "checkins").to_pylist()
    assert rejected == [{"kafka_topic": "checkins", "kafka_partition": 0, "kafka_offset": 1,
                         "raw_value": checkins[1].value, "date": date(2021, 8, 6)}]
    lake_bytes = b"".join(path.read_bytes() for path in (tmp_path / "lake").rglob("*.parquet"))
    assert b"0912 345 678" not in lake_bytes
