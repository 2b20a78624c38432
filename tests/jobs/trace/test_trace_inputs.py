"""What a run for D reads: partitions with a day of margin, old partitions where needed, never in-progress files."""

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from jobs.trace.day import EngineName
from jobs.trace.spark import raw_events
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import run_trace

SOURCE, EXPOSED, OTHER = "0913000001", "0913000002", "0913000003"


def test_partitions_of_a_lander_in_another_zone_are_read_with_a_days_margin(tmp_path: Path, engine: EngineName) -> None:
    """The lander files by UTC day: the first minutes of the lookback land in the partition before it."""
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault", lander_zone="UTC")
    builder.confirmed(SOURCE, "2021-07-23 09:00", "2021-07-22")  # window opens 2021-07-20 00:00 local
    for minute in (0, 5, 10, 15):  # 2021-07-19 17:00Z..: partition date=2021-07-19
        builder.sighting(SOURCE, EXPOSED, f"2021-07-20 00:{minute:02d}")
    builder.sighting(SOURCE, OTHER, "2021-07-18 10:00")  # date=2021-07-18: outside the margin, never listed
    traced = run_trace(builder, engine)
    assert traced.tiers() == {builder.person_id(EXPOSED): "F1"}
    files = json.loads(Path(traced.result.manifest).read_text())["inputs"]["proximity"]["files"]
    assert [path.split("/")[2] for path in files] == ["date=2021-07-19"]


def test_reports_landed_on_the_next_day_by_a_lander_ahead_are_read(tmp_path: Path, engine: EngineName) -> None:
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault", lander_zone="Pacific/Kiritimati")  # UTC+14
    builder.confirmed(SOURCE, "2021-08-03 22:00", "2021-08-02")  # lands in date=2021-08-04
    builder.checkin(SOURCE, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin(EXPOSED, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    traced = run_trace(builder, engine)
    assert traced.tiers() == {builder.person_id(EXPOSED): "F1"}


def test_old_partitions_still_feed_long_stays_and_cases(builder: LakeBuilder, engine: EngineName) -> None:
    builder.confirmed(SOURCE, "2021-07-01 09:00", "2021-06-30")  # reported long before the lookback
    builder.checkin(SOURCE, "V", "2021-07-10 08:00", "2021-08-03 11:00")  # checked in before the lookback
    builder.checkin(EXPOSED, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    traced = run_trace(builder, engine)
    assert traced.tiers() == {builder.person_id(EXPOSED): "F1"}


def test_in_progress_files_and_missing_topics_are_never_a_problem(tmp_path: Path, engine: EngineName) -> None:
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    builder.confirmed(SOURCE, "2021-08-02 09:00", "2021-08-02")
    builder.checkin(SOURCE, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin(EXPOSED, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.write()
    late = LakeBuilder(tmp_path / "elsewhere", tmp_path / "elsewhere-vault")
    late.case(SOURCE, "discarded", "2021-08-03 12:00", partition=7)
    late.checkin(OTHER, "V", "2021-08-03 10:00", "2021-08-03 11:00", partition=7)
    for segment in late.write():  # still being written by the lander: `.` and `_` names
        topic_day = Path(builder.lake.raw_day(segment.parent.parent.name, _day_of(segment)))
        topic_day.mkdir(parents=True, exist_ok=True)
        shutil.copy(segment, topic_day / f".{segment.name}")
        shutil.copy(segment, topic_day / f"_{segment.name}")
    assert not (tmp_path / "lake" / "raw" / "proximity").exists()
    traced = run_trace(builder, engine, write=False)
    assert traced.tiers() == {builder.person_id(EXPOSED): "F1"}
    assert traced.result.input_counts["case_reports"].rows_read == 1


@pytest.mark.parametrize("hashing", ["xxhash64", "every event_id one hash"])
def test_spark_finds_resends_by_event_id_whatever_their_hashes(
    builder: LakeBuilder, spark: SparkSession, monkeypatch: pytest.MonkeyPatch, hashing: str
) -> None:
    """Hashes only pick the rows to look at: colliding ids stay apart, and the first copy wins."""
    if hashing != "xxhash64":
        def collide() -> Column:
            return F.lit(0).cast("long")

        monkeypatch.setattr(raw_events, "event_hash", collide)
    builder.confirmed(SOURCE, "2021-08-02 09:00", "2021-08-02")
    builder.checkin(SOURCE, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin(EXPOSED, "W", "2021-08-03 10:00", "2021-08-03 11:00", event_id="twice", partition=0)
    builder.checkin(EXPOSED, "V", "2021-08-03 10:00", "2021-08-03 11:00", event_id="twice", partition=1)
    builder.checkin(OTHER, "V", "2021-08-03 10:00", "2021-08-03 11:00", event_id="once", partition=2)
    traced = run_trace(builder, "spark")
    assert traced.tiers() == {builder.person_id(OTHER): "F1"}
    counts = traced.result.input_counts["checkins"]
    assert (counts.rows_read, counts.duplicates_dropped, counts.rows_kept) == (4, 1, 3)


def _day_of(segment: Path) -> date:
    return date.fromisoformat(segment.parent.name.removeprefix("date="))


def test_a_source_stay_ending_before_the_lookback_still_exposes_with_its_linger(
    builder: LakeBuilder, engine: EngineName
) -> None:
    """The lookback of 2021-08-03 starts 2021-07-20 00:00: SOURCE left at 23:50 the night before, lingering to 00:20.

    EXPOSED stayed into the lookback. OTHER left before it began: their stay is read (as a source's, its
    linger would reach into the range) but never exposed, since it does not meet the range.
    """
    builder.confirmed(SOURCE, "2021-07-21 09:00", "2021-07-20")  # window opens 2021-07-18 00:00
    builder.checkin(SOURCE, "V", "2021-07-19 22:00", "2021-07-19 23:50")
    builder.checkin(EXPOSED, "V", "2021-07-19 23:30", "2021-07-20 01:00")
    builder.checkin(OTHER, "V", "2021-07-19 23:00", "2021-07-19 23:55")
    traced = run_trace(builder, engine)
    assert traced.tiers() == {builder.person_id(EXPOSED): "F1"}
    assert traced.exposures(EXPOSED) == [("venue", builder.at("2021-07-19 23:30"), builder.at("2021-07-20 00:20"))]
    assert traced.result.input_counts["checkins"].rows_kept == 3
