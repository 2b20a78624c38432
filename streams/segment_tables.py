"""Judged records to Arrow tables, column by column: the lake's raw and quarantine layouts.

The accepted records arrive as Arrow columns with their people's pseudonyms
(streams.verdicts); the raw table keeps the pseudonyms, and the pairs of
pseudonym and normalized id go to the segment's vault file. Quarantine rows
keep their payloads until the sink parts them: the reasons to the lake, the
bytes to the vault.

The lake's `event_id` is a keyed pseudonym of the producer's: producers choose
event ids freely, and one that spells a phone number must not reach analysts.
The same producer id always gives the same lake id, so a resend still counts once.
"""

from collections.abc import Sequence
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from schemas.lake import KAFKA_FIELDS, QUARANTINE, RAW, REJECTED, UTC_TIME, VAULT
from tracelake.core.events import PERSON_FIELDS
from tracelake.core.identity import Pseudonymizer

KAFKA_COLUMNS = frozenset(field.name for field in KAFKA_FIELDS)

EVENT_TIME: dict[str, str] = {
    "checkins": "checkin_at",
    "proximity": "observed_at",
    "case_reports": "reported_at",
    "venues": "landed_at",
}
"""The column whose local day names a raw file's `date=` directory (a venue has no event time: its landing's)."""

QUARANTINED = QUARANTINE.append(REJECTED.field("raw_value"))
"""A segment's quarantine rows with their payloads, before the sink parts them."""

KAFKA_MS_RANGE = (0, 253_402_300_799_999)
"""Kafka timestamps (ms) the lake keeps: 1970 (a negative one means none) to 9999-12-31, the last instant
every reader (Python, Spark) can hold; others land as null."""


def pseudonym_column(person_field: str) -> str:
    """`person_id` → `person_pseudonym`, `reporter_id` → `reporter_pseudonym`, ..."""
    return person_field.removesuffix("_id") + "_pseudonym"


class RejectedRow(NamedTuple):
    """One quarantined message: the bytes as sent, why they were refused, and when."""

    offset: int
    timestamp_ms: int | None
    value: bytes | None
    reason: str
    event_id: str | None
    landed_at_us: int


def local_days(times: pa.ChunkedArray | pa.Array, timezone: str) -> pa.Array:
    """The local calendar day of each UTC instant in `timezone` (DST-aware, vectorized)."""
    zoned = times.cast(pa.timestamp("us", tz=timezone))
    days = pc.local_timestamp(zoned).cast(pa.date32())
    return days.combine_chunks() if isinstance(days, pa.ChunkedArray) else days


class RawColumns:
    """Turns one topic's accepted records (streams.verdicts.RECORDS) into `schemas.lake.RAW[topic]` tables."""

    def __init__(self, topic: str, timezone: str, events: Pseudonymizer) -> None:
        self.topic = topic
        self.timezone = timezone
        """The zone of the raw files' `date=` days."""
        self.events = events
        """The lake's event_id of a producer's (`Pseudonymizer.for_events`), in raw and quarantine rows."""
        self.schema: pa.Schema = RAW[topic]
        self._people = [(pseudonym_column(field), field) for field in PERSON_FIELDS[topic]]

    def table(
        self,
        partition: int,
        records: pa.Table,
        offsets: Sequence[int],
        timestamps_ms: Sequence[int | None],
        landed_at_us: int,
    ) -> pa.Table:
        """The raw table of `records`, parallel to their Kafka offsets and timestamps, landed at `landed_at_us`."""
        count = records.num_rows
        columns = {name: records.column(name) for name in self.schema.names if name not in KAFKA_COLUMNS}
        columns["event_id"] = event_ids(self.events, records.column("event_id"))
        columns["kafka_topic"] = pa.repeat(pa.scalar(self.topic, pa.string()), count)
        columns["kafka_partition"] = pa.repeat(pa.scalar(partition, pa.int32()), count)
        columns["kafka_offset"] = pa.array(offsets, type=pa.int64())
        columns["kafka_timestamp"] = kafka_times(timestamps_ms)
        columns["landed_at"] = pa.repeat(pa.scalar(landed_at_us, UTC_TIME), count)
        return pa.Table.from_pydict(columns, schema=self.schema)

    def days(self, table: pa.Table) -> pa.Array:
        """The local day of each row of a raw table: its file's `date=` directory."""
        return local_days(table[EVENT_TIME[self.topic]], self.timezone)

    def identities(self, records: pa.Table) -> list[pa.Table]:
        """The vault pairs (pseudonym, normalized id) of `records`' people, repeats included."""
        return [
            pa.table({"pseudonym": records.column(pseudonym), "person_id": records.column(person)}, schema=VAULT)
            for pseudonym, person in self._people
        ]


def distinct_pairs(pairs: Sequence[pa.Table]) -> pa.Table:
    """The distinct rows of vault-pair tables."""
    if not pairs:
        return VAULT.empty_table()
    table = pa.concat_tables(pairs)
    return table.group_by(["pseudonym", "person_id"], use_threads=False).aggregate([]).select(VAULT.names)


def event_ids(events: Pseudonymizer, producers: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.Array:
    """The lake's event_ids of producers' event_ids (null stays null)."""
    texts = producers.to_pylist() if isinstance(producers, pa.Array | pa.ChunkedArray) else producers
    return pa.array(events.pseudonyms(texts), pa.string())


def quarantine_table(topic: str, partition: int, rows: Sequence[RejectedRow], events: Pseudonymizer) -> pa.Table:
    """The `QUARANTINED` table for `rows`: the lake's quarantine columns (event_ids pseudonymized) and each payload."""
    count = len(rows)
    columns = {
        "kafka_topic": pa.repeat(pa.scalar(topic, pa.string()), count),
        "kafka_partition": pa.repeat(pa.scalar(partition, pa.int32()), count),
        "kafka_offset": pa.array([row.offset for row in rows], type=pa.int64()),
        "kafka_timestamp": kafka_times([row.timestamp_ms for row in rows]),
        "event_id": event_ids(events, [row.event_id for row in rows]),
        "reason": pa.array([row.reason for row in rows], type=pa.string()),
        "landed_at": pa.array([row.landed_at_us for row in rows], type=pa.int64()).cast(UTC_TIME),
        "raw_value": pa.array([row.value for row in rows], type=pa.binary()),
    }
    return pa.Table.from_pydict(columns, schema=QUARANTINED)


def kafka_times(milliseconds: Sequence[int | None]) -> pa.Array:
    """Kafka timestamps as instants; null where one cannot be (negative, or past what readers hold)."""
    times = pa.array(milliseconds, type=pa.int64())
    low, high = KAFKA_MS_RANGE
    valid = pc.and_(pc.greater_equal(times, low), pc.less_equal(times, high))
    if not pc.all(valid).as_py():
        times = pc.if_else(valid, times, pa.scalar(None, pa.int64()))
    return pc.multiply(times, 1000).cast(UTC_TIME)
