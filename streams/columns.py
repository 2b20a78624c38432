"""Judged records to Arrow tables, column by column: the lake's raw and quarantine layouts.

Building each column with one list comprehension and one `pa.array` call per
chunk costs a few hundred nanoseconds a record; going row by row through
`Table.from_pylist` costs several microseconds. Person ids become pseudonyms
here, and the ids are collected for the segment's vault file on the way.
"""

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from schemas.lake import KAFKA_FIELDS, QUARANTINE, RAW
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
    """Turns one topic's accepted records into `schemas.lake.RAW[topic]` tables."""

    MEMO_CAP = 1_000_000

    def __init__(self, topic: str, pseudonym: Callable[[str], str]) -> None:
        self.topic = topic
        self.schema: pa.Schema = RAW[topic]
        self._pseudonym = pseudonym
        self._pseudonym_columns = {pseudonym_column(field): field for field in PERSON_FIELDS[topic]}
        self._memo: dict[str, str] = {}

    def _pseudonyms(self, ids: list[str], person_ids: set[str]) -> list[str]:
        """Pseudonyms of `ids` in order: each distinct id is hashed once, lookups run at C speed."""
        memo = self._memo
        distinct = set(ids)
        person_ids.update(distinct)
        missing = distinct.difference(memo)
        if missing:
            if len(memo) + len(missing) > self.MEMO_CAP:
                memo.clear()
                missing = distinct
            pseudonym = self._pseudonym
            memo.update((person_id, pseudonym(person_id)) for person_id in missing)
        return list(map(memo.__getitem__, ids))

    def identities(self, person_ids: set[str]) -> dict[str, str]:
        """The vault pairs (pseudonym → normalized id) of a segment's people, built once per segment."""
        memo_get = self._memo.get
        pseudonym = self._pseudonym
        return {memo_get(person_id) or pseudonym(person_id): person_id for person_id in person_ids}

    def table(
        self,
        partition: int,
        records: Sequence[dict[str, Any]],
        offsets: Sequence[int],
        timestamps_ms: Sequence[int],
        person_ids: set[str],
    ) -> pa.Table:
        """The raw table of judged `records` (parallel to their offsets and Kafka timestamps).

        Adds the normalized person ids it pseudonymizes to `person_ids`, for the vault.
        """
        columns: dict[str, pa.Array] = {}
        for field in self.schema:
            name = field.name
            if name in KAFKA_COLUMNS:
                continue
            person_field = self._pseudonym_columns.get(name)
            if person_field is None:
                values = list(map(itemgetter(name), records))
            else:
                values = self._pseudonyms(list(map(itemgetter(person_field), records)), person_ids)
            columns[name] = pa.array(values, type=field.type)
        count = len(records)
        columns["kafka_topic"] = pa.repeat(pa.scalar(self.topic, pa.string()), count)
        columns["kafka_partition"] = pa.repeat(pa.scalar(partition, pa.int32()), count)
        columns["kafka_offset"] = pa.array(offsets, type=pa.int64())
        columns["kafka_timestamp"] = _kafka_times(timestamps_ms)
        return pa.Table.from_pydict(columns, schema=self.schema)


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
