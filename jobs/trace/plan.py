"""Which raw files a run for day D reads: the same list for both engines, recorded in the manifest.

The lander's `date=` partitions follow its own time zone, which may differ from
the rules', so each topic is read with a day of margin and filtered on exact
instants afterwards. Names starting with `.` or `_` are segments still being
written (or bookkeeping) and are never read.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow.fs as pafs

from tracelake.core.lake import Lake, children, filesystem, is_part_file, partition_day

TRACED_TOPICS: tuple[str, ...] = ("checkins", "proximity", "case_reports")


@dataclass(frozen=True)
class InputPlan:
    """Raw segment files per topic, as the engines should open them (absolute path or URI)."""

    lake_root: str
    files: Mapping[str, tuple[str, ...]]
    total_bytes: int = 0
    """Parquet bytes of all planned files: lets an engine size its work to the day."""

    def relative(self, topic: str) -> list[str]:
        prefix = self.lake_root.rstrip("/") + "/"
        return [path[len(prefix):] if path.startswith(prefix) else path for path in self.files[topic]]


def partition_range(topic: str, day: date, lookback_days: int) -> tuple[date | None, date]:
    """Inclusive [first, last] partition days of `topic` (None: from the beginning).

    A stay may be long and a case report only has to be reported by the end of
    D, so check-ins and reports are read from the beginning; sightings only
    from the lookback.
    """
    last = day + timedelta(days=1)
    if topic == "proximity":
        return day - timedelta(days=lookback_days + 1), last
    return None, last


def _base_name(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2]


def raw_files(lake: Lake, topic: str, first: date | None, last: date) -> tuple[tuple[str, ...], int]:
    """The visible segment files of `topic`'s partitions from `first` (None: the beginning) to `last`, inclusive,
    as engines open them (absolute path or URI), and their bytes; none for a topic not landed yet."""
    fs, root = filesystem(lake.root)
    uri_prefix = lake.root[: len(lake.root) - len(root)] if "://" in lake.root else ""
    found: list[str] = []
    total_bytes = 0
    for partition in children(fs, Lake(root).raw(topic)):
        landed_day = partition_day(_base_name(partition.path))
        if partition.type != pafs.FileType.Directory or landed_day is None:
            continue
        if landed_day > last or (first is not None and landed_day < first):
            continue
        for segment in children(fs, partition.path):
            if segment.type == pafs.FileType.File and is_part_file(_base_name(segment.path)):
                found.append(uri_prefix + segment.path)
                total_bytes += segment.size or 0
    return tuple(sorted(found)), total_bytes


def plan_inputs(lake: Lake, day: date, lookback_days: int) -> InputPlan:
    """List the visible segment files of each traced topic's partitions; a missing topic is empty."""
    files: dict[str, tuple[str, ...]] = {}
    total_bytes = 0
    for topic in TRACED_TOPICS:
        files[topic], size = raw_files(lake, topic, *partition_range(topic, day, lookback_days))
        total_bytes += size
    return InputPlan(lake_root=lake.root, files=files, total_bytes=total_bytes)
