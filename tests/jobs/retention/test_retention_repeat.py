"""A purge interrupted between carrying rows forward and deleting their old files, run again; and the
analysts' DuckDB file forgetting the purged days."""

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from jobs.publish.analyst_db import build_analyst_db
from jobs.retention.purge import CARRIED_FILE, purge
from jobs.trace.day import trace_day
from tests.jobs.lakebuilder import LakeBuilder
from tracelake.core.rules import load_rules

D = date(2021, 8, 3)
BEFORE = date(2021, 7, 14)
F0, CONTACT = "0912000001", "0912000002"


def _lake(tmp_path: Path) -> LakeBuilder:
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    builder.confirmed(F0, "2021-07-02 09:00", sample_date="2021-07-01")
    builder.checkin(F0, "V1", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin(CONTACT, "V1", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.sighting(CONTACT, "0912000003", "2021-07-02 10:00")
    builder.venue("V1", "Quán phở", "001", "79")
    builder.write()
    return builder


def test_a_purge_run_again_after_an_interruption_carries_each_row_once(tmp_path: Path) -> None:
    builder = _lake(tmp_path)
    old_day = builder.root / "raw" / "case_reports" / "date=2021-07-02"
    shutil.copytree(old_day, tmp_path / "old_reports")

    purge(str(builder.root), str(builder.vault), BEFORE, load_rules())
    shutil.copytree(tmp_path / "old_reports", old_day)
    again = purge(str(builder.root), str(builder.vault), BEFORE, load_rules())

    carried = pq.read_table(builder.root / "raw" / "case_reports" / f"date={BEFORE}" / CARRIED_FILE)
    assert carried.num_rows == 1
    assert [table.table for table in again.tables] == ["raw/case_reports"]
    assert not old_day.exists()
    result = trace_day(str(builder.root), D, load_rules(), vault=str(builder.vault), engine="duckdb")
    export = pq.read_table(Path(result.outputs["export"]) / "part-00000.parquet").to_pylist()
    assert [(row["person_id"], row["tier"], row["case_ids"]) for row in export] == [
        (builder.person_id(CONTACT), "F1", [builder.person_id(F0)])]


def test_the_analysts_file_forgets_the_purged_days(tmp_path: Path) -> None:
    builder = _lake(tmp_path)
    database = build_analyst_db(str(builder.root), rules=load_rules())

    def landed_days() -> set[tuple[str, date]]:
        with duckdb.connect(str(database), read_only=True) as con:
            return set(con.execute("SELECT topic, date FROM landed_events").fetchall())

    assert ("proximity", date(2021, 7, 2)) in landed_days()
    purge(str(builder.root), str(builder.vault), BEFORE, load_rules())
    assert ("proximity", date(2021, 7, 2)) not in landed_days()
    assert ("checkins", D) in landed_days()


def test_staged_and_withheld_runs_of_old_days_go_with_them(tmp_path: Path) -> None:
    builder = _lake(tmp_path)
    kept_day, old_day = "2021-08-03", "2021-07-02"
    staged = []
    for area in (builder.root, builder.root / "exports"):
        for day in (old_day, kept_day):
            run = area / "_publish" / day / "run-1" / "worklists" / f"date={day}"
            run.mkdir(parents=True)
            (run / "worklist.csv").write_text("+84912000002\n", encoding="utf-8")
            (area / "_publish" / day / "run-1.run.json").write_text("{}", encoding="utf-8")
            staged.append((area / "_publish" / day, day))

    result = purge(str(builder.root), str(builder.vault), BEFORE, load_rules())

    assert {path.name for path, _ in staged if path.exists()} == {kept_day}
    purged = {table.table: table.days for table in result.tables}
    assert purged["_publish"] == [old_day] and purged["exports/_publish"] == [old_day]
