"""The landing check reads segments by the core's parser: today's names and those of lakes from before incarnations."""

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jobs.validation.landing import day_segments
from tracelake.core.lake import Lake, in_progress_name, segment_file_name

DAY = date(2021, 8, 3)
LEGACY_NAME = "checkins+0+00000000000000000010.parquet"


def _offsets(path: Path, offsets: list[int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"kafka_offset": pa.array(offsets, pa.int64())}), path)


def test_segments_of_both_name_forms_gather_their_rows_from_raw_and_quarantine(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path))
    raw, quarantine = Path(lake.raw_day("checkins", DAY)), Path(lake.quarantine_day("checkins", date(2021, 8, 4)))
    named = segment_file_name("checkins", 1, "a1", 0)
    _offsets(raw / LEGACY_NAME, [10, 11])
    _offsets(raw / named, [0, 1])
    _offsets(quarantine / named, [2])
    _offsets(Path(in_progress_name(str(raw / segment_file_name("checkins", 2, "a1", 0)))), [0])
    _offsets(raw / segment_file_name("proximity", 0, "a1", 0), [0])

    segments = day_segments(lake, "checkins", DAY)

    assert [(s.partition, s.incarnation, s.first_offset) for s in segments] == [(0, None, 10), (1, "a1", 0)]
    legacy, current = segments
    assert (legacy.raw_rows, legacy.quarantined_rows, legacy.contiguous) == (2, 0, True)
    assert (current.raw_rows, current.quarantined_rows, current.contiguous) == (2, 1, True)
    assert len(current.files) == 2
