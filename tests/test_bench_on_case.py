"""bench/on_case.py must not rot between the runs that measure issue #17: its options parse, it picks people
who were never reported, it reads both kinds of list, and (slow) a small run measures the whole path."""

import csv
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bench.on_case import candidates, listed_people

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2021, 8, 10)


def test_help_lists_every_option() -> None:
    shown = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "on_case.py"), "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--people", "--runs", "--engine", "--date", "--seed", "--days", "--workdir", "--keep"):
        assert option in shown.stdout


def _lines(path: Path, events: list[object]) -> None:
    path.write_text("".join(json.dumps(event) + "\n" for event in events) + "[1, 2]\n{not json\n")


def test_candidates_are_the_busiest_people_never_reported(tmp_path: Path) -> None:
    _lines(tmp_path / "case_reports.jsonl", [{"person_id": "0912 345 678", "kind": "isolated"}])
    _lines(tmp_path / "checkins.jsonl", [
        {"person_id": "0912345678", "checkin_at": "2021-08-10T09:00:00+07:00"},
        {"person_id": "0912345679", "checkin_at": "2021-08-10T09:00:00+07:00"},
        {"person_id": "0912345670", "checkin_at": "2021-08-09T09:00:00+07:00"},
    ])
    _lines(tmp_path / "proximity.jsonl", [
        {"reporter_id": "0912 345 671", "contact_id": "0912345679", "observed_at": "2021-08-10T10:00:00+07:00"},
    ])
    assert candidates(tmp_path, DAY, 5) == ["+84912345679", "+84912345671"]


def test_worklists_and_notification_lists_both_count(tmp_path: Path) -> None:
    worklist = tmp_path / "worklists" / "district=a"
    notify = tmp_path / "notifications" / "district=a"
    worklist.mkdir(parents=True)
    notify.mkdir(parents=True)
    with (worklist / "worklist.csv").open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows([["priority", "phone_or_citizen_id"], ["1", "+84912345678"]])
    with (notify / "notify.csv").open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows([["number", "citizen_id", "message"], ["+84912345679", "", "hi"],
                                   ["", "001099012345", "hi"]])
    assert listed_people(tmp_path / "worklists", tmp_path / "notifications") == {
        "+84912345678", "+84912345679", "001099012345"}


@pytest.mark.slow
def test_a_small_run_measures_report_to_worklist(tmp_path: Path) -> None:
    """The trigger, the lander, the sensor and the tasks on 3,000 people with the DuckDB twin, once."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "on_case.py"), "--people", "3000", "--runs", "1", "--engine", "duckdb",
         "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=1500, check=False,
    )
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    figures = re.findall(r"^seconds report→worklist: ([0-9.]+)$", done.stdout, re.MULTILINE)
    assert len(figures) == 2, done.stdout[-4000:]
    assert "wait_for_reports" in done.stdout and "publish_lists started → worklists published" in done.stdout
    assert not (tmp_path / "work").exists(), "the work directory is removed unless --keep"
