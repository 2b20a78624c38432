"""What the landing of day D should look like, read back from the lake's segment files.

The lander writes each Kafka segment `[first offset, next offset)` of a
partition as files named `<topic>+<partition>+<incarnation>+<first offset>.parquet`
(tracelake.core.lake; older lakes have names without the incarnation), one per
local day its events fall on, in raw/ (valid events) and quarantine/ (the
rest). So every message of a segment is in exactly one of those files, and the
offsets of a segment's rows, across all its files, must run from its first
offset without a gap or a repeat (true of the contract topics: not
compacted, written by idempotent, non-transactional producers, so Kafka
leaves no holes in their offsets). Checking that for every segment that
brought rows of day D catches a lost or doubled file without asking Kafka.

The same segments give the quarantined share of the messages that delivered
day D: the quarantine is partitioned by arrival day and raw by event day, so
comparing the two `date=D` directories would compare different messages.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from tracelake.core.lake import Lake, filesystem, is_hidden, parse_segment_file_name


@dataclass
class Segment:
    topic: str
    partition: int
    incarnation: str | None
    first_offset: int
    files: list[str] = field(default_factory=list)
    raw_rows: int = 0
    quarantined_rows: int = 0
    offsets: list[pa.Array] = field(default_factory=list)
    """The `kafka_offset` column of each of its files, as Arrow arrays (millions of rows on a province day)."""

    @property
    def rows(self) -> int:
        return self.raw_rows + self.quarantined_rows

    @property
    def contiguous(self) -> bool:
        """The offsets, sorted, are exactly first_offset, first_offset + 1, ...: as many distinct values as rows,
        the least the first offset and the greatest the last."""
        values = pa.chunked_array(self.offsets, pa.int64())
        count = len(values)
        if count == 0:
            return True
        if values.null_count or pc.count_distinct(values).as_py() != count:
            return False
        bounds = pc.min_max(values)
        return bool(bounds["min"].as_py() == self.first_offset
                    and bounds["max"].as_py() == self.first_offset + count - 1)


def _day_directories(fs: pafs.FileSystem, table_root: str) -> list[str]:
    entries = fs.get_file_info(pafs.FileSelector(table_root, allow_not_found=True))
    return [
        entry.path
        for entry in entries
        if entry.type == pafs.FileType.Directory and entry.base_name.startswith("date=")
    ]


def _visible_files(fs: pafs.FileSystem, directory: str) -> list[pafs.FileInfo]:
    if fs.get_file_info(directory).type != pafs.FileType.Directory:
        return []
    return [
        entry
        for entry in fs.get_file_info(pafs.FileSelector(directory))
        if entry.type == pafs.FileType.File and not is_hidden(entry.base_name)
    ]


def day_segments(lake: Lake, topic: str, day: date) -> list[Segment]:
    """Every segment with rows in `raw/<topic>/date=D`, with all its rows from every day directory."""
    fs, _ = filesystem(lake.root)
    _, raw_day = filesystem(lake.raw_day(topic, day))
    segments: dict[str, Segment] = {}
    for entry in _visible_files(fs, raw_day):
        parsed = parse_segment_file_name(entry.base_name)
        if parsed is not None and parsed.topic == topic:
            segments[entry.base_name] = Segment(topic, parsed.partition, parsed.incarnation, parsed.first_offset)
    if not segments:
        return []
    found: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for table_root, quarantined in ((lake.raw(topic), False), (lake.quarantine(topic), True)):
        _, root = filesystem(table_root)
        for directory in _day_directories(fs, root):
            for entry in _visible_files(fs, directory):
                if entry.base_name in segments:
                    found[entry.base_name].append((entry.path, quarantined))
    for name, files in found.items():
        segment = segments[name]
        for path, quarantined in files:
            offsets = ds.dataset(path, format="parquet", filesystem=fs).to_table(columns=["kafka_offset"])
            values = offsets["kafka_offset"].cast(pa.int64())
            segment.files.append(path)
            segment.offsets.extend(values.chunks)
            if quarantined:
                segment.quarantined_rows += len(values)
            else:
                segment.raw_rows += len(values)
    return sorted(
        segments.values(), key=lambda segment: (segment.partition, segment.incarnation or "", segment.first_offset)
    )


SEGMENT_COLUMNS = (
    "topic", "partition", "incarnation", "first_offset", "files", "rows", "quarantined", "offsets_contiguous"
)


def segments_frame(segments: Mapping[str, list[Segment]]) -> pd.DataFrame:
    """One row per segment that brought rows of day D: its rows and whether its offsets are whole."""
    records = [
        {
            "topic": topic,
            "partition": segment.partition,
            "incarnation": segment.incarnation,
            "first_offset": segment.first_offset,
            "files": len(segment.files),
            "rows": segment.rows,
            "quarantined": segment.quarantined_rows,
            "offsets_contiguous": segment.contiguous,
        }
        for topic, topic_segments in segments.items()
        for segment in topic_segments
    ]
    return pd.DataFrame.from_records(records, columns=list(SEGMENT_COLUMNS))


def landing_frame(
    landed: Mapping[str, int],
    rows_in_files: Mapping[str, int],
    segments: Mapping[str, list[Segment]],
) -> pd.DataFrame:
    """One row per topic: rows read back vs the lander's count, and the quarantined share of D's segments."""
    records = []
    for topic, topic_segments in segments.items():
        total = sum(segment.rows for segment in topic_segments)
        quarantined = sum(segment.quarantined_rows for segment in topic_segments)
        records.append(
            {
                "topic": topic,
                "rows_in_files": rows_in_files[topic],
                "rows_landed": landed.get(topic, 0),
                "segment_rows": total,
                "segment_quarantined": quarantined,
                "quarantine_share": quarantined / total if total else 0.0,
            }
        )
    return pd.DataFrame.from_records(records)
