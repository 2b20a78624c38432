"""What the lake holds per topic and day, and how far the landing group lags behind Kafka.

Pure data for `tracelake status`: row counts come from Parquet footers (no
data pages are read), lag from the group's committed offsets against the end
offsets, only when a cluster is configured and answers.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow.fs as pafs
import pyarrow.parquet as pq
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from schemas import TOPICS
from tracelake.core.lake import Lake, filesystem, is_hidden
from tracelake.core.settings import Settings

log = logging.getLogger(__name__)

LAG_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class DayStatus:
    topic: str
    day: date
    landed: int
    quarantined: int
    files: int


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    """The group's committed offset; None when it never committed (it starts at the earliest)."""
    end: int

    @property
    def lag(self) -> int:
        return self.end - (self.committed or 0)


@dataclass(frozen=True)
class LakeStatus:
    days: list[DayStatus]
    lag: list[PartitionLag] | None
    """None when no cluster is configured or it did not answer (see `lag_error`)."""
    lag_error: str | None = None


def _day_files(fs: pafs.FileSystem, table_root: str) -> dict[date, list[str]]:
    """Visible Parquet files under `table_root/date=YYYY-MM-DD/` (in-progress files are hidden)."""
    found: dict[date, list[str]] = {}
    for entry in fs.get_file_info(pafs.FileSelector(table_root, allow_not_found=True)):
        if entry.type != pafs.FileType.Directory or not entry.base_name.startswith("date="):
            continue
        try:
            day = date.fromisoformat(entry.base_name.removeprefix("date="))
        except ValueError:
            continue
        files = [
            item.path
            for item in fs.get_file_info(pafs.FileSelector(entry.path))
            if item.type == pafs.FileType.File and item.base_name.endswith(".parquet")
            and not is_hidden(item.base_name)
        ]
        found[day] = files
    return found


def _rows(fs: pafs.FileSystem, paths: list[str]) -> int:
    return sum(pq.read_metadata(path, filesystem=fs).num_rows for path in paths)


def day_status(settings: Settings) -> list[DayStatus]:
    """Rows landed and quarantined and files per topic and local day, sorted by topic then day."""
    fs, root = filesystem(settings.lake)
    lake = Lake(root)
    rows: list[DayStatus] = []
    for topic in TOPICS:
        raw = _day_files(fs, lake.raw(topic))
        quarantine = _day_files(fs, lake.quarantine(topic))
        for day in sorted(set(raw) | set(quarantine)):
            raw_files, quarantine_files = raw.get(day, []), quarantine.get(day, [])
            rows.append(
                DayStatus(topic, day, _rows(fs, raw_files), _rows(fs, quarantine_files),
                          len(raw_files) + len(quarantine_files))
            )
    return rows


def _ends(consumer: KafkaConsumer, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    """End offsets: ListOffsets, raised to the high watermark a fetch reports.

    Tansu answers ListOffsets with the last batch's base offset + 1; a fetch
    from there reports the true high watermark (on Kafka both agree).
    """
    ends = dict(consumer.end_offsets(partitions, timeout_ms=LAG_TIMEOUT_MS))
    consumer.assign(partitions)
    for tp in partitions:
        consumer.seek(tp, ends[tp])
    deadline = time.monotonic() + LAG_TIMEOUT_MS / 1000
    while time.monotonic() < deadline and any(consumer.highwater(tp) is None for tp in partitions):
        consumer.poll(timeout_ms=200, max_records=1)
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is not None:
            ends[tp] = max(ends[tp], highwater)
    return ends


@dataclass(frozen=True)
class PartitionCommit:
    topic: str
    partition: int
    committed: int | None
    """The group's committed offset; None when it never committed."""


def _group_consumer(bootstrap: str, group: str) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
        bootstrap_timeout_ms=LAG_TIMEOUT_MS, request_timeout_ms=LAG_TIMEOUT_MS,
        client_id="tracelake-status",
    )


def _partitions(consumer: KafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    return [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]


def group_commits(bootstrap: str, group: str, topics: Sequence[str]) -> list[PartitionCommit]:
    """The group's committed offsets on every partition of `topics`, without the end offsets `group_lag` finds."""
    consumer = _group_consumer(bootstrap, group)
    try:
        return [
            PartitionCommit(tp.topic, tp.partition, consumer.committed(tp, timeout_ms=LAG_TIMEOUT_MS))
            for tp in _partitions(consumer, topics)
        ]
    finally:
        consumer.close(autocommit=False)


def group_lag(bootstrap: str, group: str) -> list[PartitionLag]:
    """Committed against end offsets for every partition of the contract topics."""
    consumer = _group_consumer(bootstrap, group)
    try:
        partitions = _partitions(consumer, TOPICS)
        if not partitions:
            return []
        committed = {tp: consumer.committed(tp, timeout_ms=LAG_TIMEOUT_MS) for tp in partitions}
        ends = _ends(consumer, partitions)
        return [PartitionLag(tp.topic, tp.partition, committed[tp], ends[tp]) for tp in partitions]
    finally:
        consumer.close(autocommit=False)


def lake_status(settings: Settings) -> LakeStatus:
    """The lake's contents per topic and day, and the landing group's lag when Kafka is reachable."""
    days = day_status(settings)
    if not settings.bootstrap_servers:
        return LakeStatus(days, None, "no Kafka cluster configured (TRACELAKE_BOOTSTRAP_SERVERS)")
    try:
        return LakeStatus(days, group_lag(settings.bootstrap_servers, settings.consumer_group))
    except (KafkaError, OSError) as problem:
        return LakeStatus(days, None, f"Kafka at {settings.bootstrap_servers} did not answer: {problem}")
