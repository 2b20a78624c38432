"""Judged records to Arrow tables, column by column: the lake's raw and quarantine layouts.

The accepted records arrive as Arrow columns with their people's pseudonyms
(streams.verdicts); the raw table keeps the pseudonyms, and the pairs of
pseudonym and normalized id go to the segment's vault file.
"""

from collections.abc import Sequence
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from schemas.lake import KAFKA_FIELDS, QUARANTINE, RAW, VAULT
from tracelake.events import PERSON_FIELDS

KAFKA_COLUMNS = frozenset(field.name for field in KAFKA_FIELDS)

EVENT_TIME: dict[str, str | None] = {
    "checkins": "checkin_at",
    "proximity": "observed_at",
    "case_reports": "reported_at",
    "venues": None,
}
"""The column whose local day names a raw file's `date=` directory; None: the Kafka timestamp's."""


def pseudonym_column(person_field: str) -> str:
    """`person_id` → `person_pseudonym`, `reporter_id` → `reporter_pseudonym`, ..."""
    return person_field.removesuffix("_id") + "_pseudonym"


class RejectedRow(NamedTuple):
    """One quarantined message: the bytes as sent and why they were refused."""

    offset: int
    timestamp_ms: int
    value: bytes | None
    reason: str
    event_id: str | None


class RawColumns:
    """Turns one topic's accepted records (streams.verdicts.RECORDS) into `schemas.lake.RAW[topic]` tables."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.schema: pa.Schema = RAW[topic]
        self._people = [(pseudonym_column(field), field) for field in PERSON_FIELDS[topic]]

    def table(
        self, partition: int, records: pa.Table, offsets: Sequence[int], timestamps_ms: Sequence[int]
    ) -> pa.Table:
        """The raw table of `records`, parallel to their Kafka offsets and timestamps."""
        count = records.num_rows
        columns = {name: records.column(name) for name in self.schema.names if name not in KAFKA_COLUMNS}
        columns["kafka_topic"] = pa.repeat(pa.scalar(self.topic, pa.string()), count)
        columns["kafka_partition"] = pa.repeat(pa.scalar(partition, pa.int32()), count)
        columns["kafka_offset"] = pa.array(offsets, type=pa.int64())
        columns["kafka_timestamp"] = _kafka_times(timestamps_ms)
        return pa.Table.from_pydict(columns, schema=self.schema)

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


def quarantine_table(topic: str, partition: int, rows: Sequence[RejectedRow]) -> pa.Table:
    """The `schemas.lake.QUARANTINE` table for `rows`: the landing moment is the Kafka timestamp."""
    count = len(rows)
    times = _kafka_times([row.timestamp_ms for row in rows])
    columns = {
        "kafka_topic": pa.repeat(pa.scalar(topic, pa.string()), count),
        "kafka_partition": pa.repeat(pa.scalar(partition, pa.int32()), count),
        "kafka_offset": pa.array([row.offset for row in rows], type=pa.int64()),
        "kafka_timestamp": times,
        "event_id": pa.array([row.event_id for row in rows], type=pa.string()),
        "reason": pa.array([row.reason for row in rows], type=pa.string()),
        "raw_value": pa.array([row.value for row in rows], type=pa.binary()),
        "landed_at": times,
    }
    return pa.Table.from_pydict(columns, schema=QUARANTINE)


def _kafka_times(milliseconds: Sequence[int]) -> pa.Array:
    return pc.multiply(pa.array(milliseconds, type=pa.int64()), 1000).cast(pa.timestamp("us", tz="UTC"))
