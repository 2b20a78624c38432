"""One partition's open segment: a contiguous offset range, judged and buffered until it is written.

A segment starts at the partition's committed offset and closes on record
count, value bytes or record time (never the wall clock), or early when the
lander is caught up, gives the partition up or stops. Its files carry its
first offset (Confluent's S3 sink idea): whoever lands the range again
writes the same names, and the lander removes what an uncommitted earlier
attempt left beyond them.

`Segment.take` is the lander's hot loop: it only checks the limits and keeps
the records; every few thousand records are judged at once
(streams.verdicts) into an Arrow chunk, against the lander's clock read once
per chunk. No record stops a partition: if a chunk cannot become Arrow rows
(or their `date=` days), its records are judged one by one and each one that
still cannot is quarantined as `unlandable: <exception>`.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter

import pyarrow as pa
from kafka.consumer.fetcher import ConsumerRecord

from streams.people import People
from streams.segment_tables import RawColumns, RejectedRow, distinct_pairs, quarantine_table
from streams.verdicts import judge_chunk
from tracelake.core.events import CONTRACT_PLAUSIBILITY, Plausibility


@dataclass(frozen=True)
class SegmentLimits:
    """When a segment closes, and how much of it may sit as Python objects."""

    max_records: int = 100_000
    max_bytes: int = 32 * 1024 * 1024
    """Message value bytes; Arrow and Parquet take about as much, Python objects several times more."""
    max_span_ms: int = 15 * 60 * 1000
    """Kafka timestamps (producer time) more than this after the segment's first start a new one."""
    chunk_records: int = 20_000
    """Records are judged into an Arrow chunk once this many wait: memory stays flat and GC cheap."""

    def __post_init__(self) -> None:
        if min(self.max_records, self.max_bytes, self.max_span_ms, self.chunk_records) <= 0:
            raise ValueError("segment limits must be positive")


@dataclass
class ClosedSegment:
    """A segment ready to be written: its tables, its vault pairs and the offset to commit after it."""

    topic: str
    partition: int
    first_offset: int
    last_offset: int
    raw: pa.Table
    quarantine: pa.Table
    """`streams.segment_tables.QUARANTINED` rows: the lake's quarantine columns and the payloads for the vault."""
    identities: pa.Table
    """The distinct vault pairs (pseudonym, normalized id) of the segment's people."""
    files: int = 0
    """Data files the sink wrote for it (set once written)."""

    @property
    def next_offset(self) -> int:
        return self.last_offset + 1


_TIMESTAMP, _VALUE = attrgetter("timestamp"), attrgetter("value")


def timestamp_ms(message: ConsumerRecord) -> int:
    """The record time that cuts segments: the Kafka timestamp, so a replay cuts the same way.

    Message format v2 always carries one; only pre-0.10 formats lack it (-1),
    and for those the wall clock stands in.
    """
    timestamp = message.timestamp
    if timestamp is not None and timestamp >= 0:
        return int(timestamp)
    return int(time.time() * 1000)


def wall_clock_us() -> int:
    """The lander's clock: "the moment it is landed" of CONTRACT.md section 1."""
    return time.time_ns() // 1000


@dataclass
class Segment:
    """The open segment of one partition."""

    topic: str
    partition: int
    first_offset: int
    first_timestamp_ms: int
    columns: RawColumns
    people: People
    limits: SegmentLimits
    plausible: Plausibility = CONTRACT_PLAUSIBILITY
    clock: Callable[[], int] = wall_clock_us
    """UTC epoch microseconds now; read once per chunk."""
    last_offset: int = -1
    count: int = 0
    value_bytes: int = 0
    messages: list[ConsumerRecord] = field(default_factory=list)
    """Kafka records taken but not judged yet."""
    rejected: list[RejectedRow] = field(default_factory=list)
    chunks: list[pa.Table] = field(default_factory=list)
    pairs: list[pa.Table] = field(default_factory=list)
    """Each chunk's vault pairs, made distinct once when the segment closes."""

    @property
    def full(self) -> bool:
        return self.count >= self.limits.max_records or self.value_bytes >= self.limits.max_bytes

    def take(self, batch: list[ConsumerRecord], start: int) -> int:
        """Take `batch[start:]` into this segment until it is full or a record belongs to the next one.

        Returns the index of the first record not taken.
        """
        latest = self.first_timestamp_ms + self.limits.max_span_ms
        bytes_left = self.limits.max_bytes - self.value_bytes
        end = min(len(batch), start + self.limits.max_records - self.count)
        taken = batch[start:end]
        # The usual case, at C speed: the whole slice fits within the record time and the bytes.
        times = list(map(_TIMESTAMP, taken))
        size = sum(map(len, filter(None, map(_VALUE, taken))))
        if not taken or min(times) < 0 or max(times) > latest or size >= bytes_left:
            taken, size = self._fitting(taken, latest, bytes_left)
        if taken:
            self.messages.extend(taken)
            self.last_offset = taken[-1].offset
            self.count += len(taken)
            self.value_bytes += size
        if len(self.messages) >= self.limits.chunk_records:
            self.to_arrow()
        return start + len(taken)

    @staticmethod
    def _fitting(
        records: list[ConsumerRecord], latest: int, bytes_left: int
    ) -> tuple[list[ConsumerRecord], int]:
        """The leading records within the record time, up to the one that fills the bytes; and their bytes."""
        size = 0
        for count, message in enumerate(records):
            timestamp = message.timestamp
            if timestamp < 0:
                timestamp = timestamp_ms(message)
            if timestamp > latest:
                return records[:count], size
            if message.value is not None:
                size += len(message.value)
                if size >= bytes_left:
                    return records[: count + 1], size
        return records, size

    def to_arrow(self) -> None:
        """Judge the records taken so far into an Arrow chunk and quarantine rows."""
        messages = self.messages
        if not messages:
            return
        self.messages = []
        landed_at_us = self.clock()
        try:
            judged = self._judged(messages, landed_at_us)
        except Exception:
            judged = self._judged_one_by_one(messages, landed_at_us)
        rejected, raw, pairs = judged
        self.rejected.extend(rejected)
        if raw is not None:
            self.chunks.append(raw)
            self.pairs.extend(pairs)

    def _judged(
        self, messages: list[ConsumerRecord], landed_at_us: int
    ) -> tuple[list[RejectedRow], pa.Table | None, list[pa.Table]]:
        """The quarantine rows, the raw chunk (None if no record passed) and its vault pairs; may raise."""
        values = [message.value for message in messages]
        verdicts = judge_chunk(self.topic, values, landed_at_us, self.people, self.plausible)
        rejected = [
            RejectedRow(messages[index].offset, messages[index].timestamp, values[index], reason, event_id,
                        landed_at_us)
            for index, (reason, event_id) in verdicts.rejected
        ]
        if not verdicts.accepted:
            return rejected, None, []
        offsets = [messages[index].offset for index in verdicts.accepted]
        times = [messages[index].timestamp for index in verdicts.accepted]
        raw = self.columns.table(self.partition, verdicts.records, offsets, times, landed_at_us)
        self.columns.days(raw)  # the sink splits by these days: a row that has none must not reach it
        return rejected, raw, self.columns.identities(verdicts.records)

    def _judged_one_by_one(
        self, messages: list[ConsumerRecord], landed_at_us: int
    ) -> tuple[list[RejectedRow], pa.Table | None, list[pa.Table]]:
        """`_judged` record by record: the records that still raise are quarantined, the others land."""
        rejected: list[RejectedRow] = []
        chunks: list[pa.Table] = []
        pairs: list[pa.Table] = []
        for message in messages:
            try:
                one_rejected, one_raw, one_pairs = self._judged([message], landed_at_us)
            except Exception as problem:
                reason = f"unlandable: {type(problem).__name__}"
                rejected.append(RejectedRow(message.offset, message.timestamp, message.value, reason, None,
                                            landed_at_us))
                continue
            rejected.extend(one_rejected)
            if one_raw is not None:
                chunks.append(one_raw)
                pairs.extend(one_pairs)
        return rejected, pa.concat_tables(chunks) if chunks else None, pairs

    def close(self) -> ClosedSegment:
        self.to_arrow()
        raw = pa.concat_tables(self.chunks) if self.chunks else self.columns.schema.empty_table()
        return ClosedSegment(
            topic=self.topic,
            partition=self.partition,
            first_offset=self.first_offset,
            last_offset=self.last_offset,
            raw=raw,
            quarantine=quarantine_table(self.topic, self.partition, self.rejected, self.columns.events),
            identities=distinct_pairs(self.pairs),
        )


class PartitionBuffer:
    """Judges one partition's records into segments; hands back the segments that closed."""

    def __init__(
        self,
        topic: str,
        partition: int,
        columns: RawColumns,
        people: People,
        limits: SegmentLimits,
        plausible: Plausibility = CONTRACT_PLAUSIBILITY,
        clock: Callable[[], int] = wall_clock_us,
    ) -> None:
        self.topic = topic
        self.partition = partition
        self._columns = columns
        self._people = people
        self._limits = limits
        self._plausible = plausible
        self._clock = clock
        self.segment: Segment | None = None

    def add(self, batch: list[ConsumerRecord]) -> list[ClosedSegment]:
        """Judge `batch` (consecutive records of this partition) in order; returns the segments it closed."""
        closed: list[ClosedSegment] = []
        start = 0
        while start < len(batch):
            segment = self.segment
            if segment is None:
                first = batch[start]
                segment = self.segment = Segment(
                    self.topic, self.partition, first.offset, timestamp_ms(first), self._columns, self._people,
                    self._limits, self._plausible, self._clock,
                )
            start = segment.take(batch, start)
            if start < len(batch) or segment.full:
                closed.append(self._close())
        return closed

    def _close(self) -> ClosedSegment:
        assert self.segment is not None
        segment, self.segment = self.segment, None
        return segment.close()

    def close_open(self) -> ClosedSegment | None:
        """Close the open segment early (idle, revocation, shutdown); None when nothing is buffered."""
        return self._close() if self.segment is not None else None

    def discard(self) -> None:
        """Forget the open segment unwritten: its records will be read again from the committed offset."""
        self.segment = None
