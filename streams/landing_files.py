"""Where a closed segment goes: Parquet files per local day in the lake; its pairs and rejected payloads in the vault.

Every file is written under a hidden name and renamed (readers never see
half a file) and is named `<topic>+<partition>+<incarnation>+<first offset>`
(tracelake.core.lake), so landing the same range again overwrites instead of
duplicating, and a later life of the topic never overwrites an earlier one.
"""

import logging
from abc import ABC, abstractmethod
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from schemas.lake import QUARANTINE
from streams.segment_tables import EVENT_TIME, local_days
from streams.segments import ClosedSegment
from tracelake.core.lake import Lake, filesystem, segment_file_name, write_atomically
from tracelake.core.rejected import rejected_topic, write_rejected
from tracelake.core.vault import write_identities

log = logging.getLogger(__name__)


class SegmentSink(ABC):
    """Makes a closed segment durable; the lander commits its offsets only after `write` returns."""

    @abstractmethod
    def write(
        self, segment: ClosedSegment, *, incarnation: str, replaces_uncommitted: bool, identities: pa.Table
    ) -> int:
        """Write the segment and `identities` (the vault pairs it needs); returns the data files written.

        `incarnation`: the topic's life the segment's offsets belong to (streams.incarnations).
        `replaces_uncommitted`: this is the first segment since the partition's
        committed offset was (re)read, so an earlier attempt may have left
        files of the same name on days this attempt does not touch.
        """


def split_by_day(table: pa.Table, time_column: str, timezone: str) -> dict[date, pa.Table]:
    """The rows of `table` grouped by the local day of `time_column`, in their original order."""
    if table.num_rows == 0:
        return {}
    days = local_days(table[time_column], timezone)
    distinct = pc.unique(days).to_pylist()
    if len(distinct) == 1:
        return {distinct[0]: table}
    return {day: table.filter(pc.equal(days, pa.scalar(day, pa.date32()))) for day in distinct}


class LakeSink(SegmentSink):
    """Raw and quarantine Parquet under the lake root; vault pairs and rejected payloads under the vault root."""

    def __init__(self, lake: str, vault: str, timezone: str) -> None:
        self._fs, root = filesystem(lake)
        self._lake = Lake(root)
        self._vault = vault
        self._vault_fs, self._vault_root = filesystem(vault)
        self._timezone = timezone
        self._directories: set[str] = set()

    def write(
        self, segment: ClosedSegment, *, incarnation: str, replaces_uncommitted: bool, identities: pa.Table
    ) -> int:
        name = segment_file_name(segment.topic, segment.partition, incarnation, segment.first_offset)
        raw_days = split_by_day(segment.raw, EVENT_TIME[segment.topic], self._timezone)
        quarantine_days = split_by_day(segment.quarantine, "landed_at", self._timezone)
        for day, rows in raw_days.items():
            self._put(self._lake.raw_day(segment.topic, day), name, rows)
        for day, rows in quarantine_days.items():
            write_rejected(self._vault_fs, self._vault_root, segment.topic, day, name, rows)
            self._put(self._lake.quarantine_day(segment.topic, day), name, rows.select(QUARANTINE.names))
        if replaces_uncommitted:
            self._remove_stale(self._lake.raw(segment.topic), name, set(raw_days))
            self._remove_stale(self._lake.quarantine(segment.topic), name, set(quarantine_days))
            rejected = rejected_topic(self._vault_root, segment.topic)
            self._remove_stale(rejected, name, set(quarantine_days), self._vault_fs)
        if identities.num_rows:
            write_identities(self._vault, name, identities)
        return len(raw_days) + len(quarantine_days)

    def _put(self, directory: str, name: str, rows: pa.Table) -> None:
        if directory not in self._directories:
            self._fs.create_dir(directory, recursive=True)
            self._directories.add(directory)
        try:
            write_atomically(rows, self._fs, f"{directory}/{name}")
        except FileNotFoundError:  # a purge removed this old day meanwhile; a late event brings it back
            self._fs.create_dir(directory, recursive=True)
            write_atomically(rows, self._fs, f"{directory}/{name}")

    def _remove_stale(
        self, table_root: str, name: str, written_days: set[date], fs: pafs.FileSystem | None = None
    ) -> None:
        """Delete `name` from the day directories this attempt did not write (an earlier attempt did).

        Only that exact name: the same incarnation, partition and first offset, never another life's files.
        """
        fs = fs or self._fs
        keep = {f"date={day.isoformat()}" for day in written_days}
        listing = fs.get_file_info(pafs.FileSelector(table_root, allow_not_found=True))
        candidates = [
            f"{entry.path}/{name}"
            for entry in listing
            if entry.type == pafs.FileType.Directory and entry.base_name not in keep
        ]
        if not candidates:
            return
        for entry in fs.get_file_info(candidates):
            if entry.type == pafs.FileType.File:
                fs.delete_file(entry.path)
                log.info("removed %s: left by an earlier, uncommitted attempt at the same offsets", entry.path)
