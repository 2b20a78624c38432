"""The on-case re-trace's record: which case reports D's outputs include, and when a new run would add nothing."""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from jobs.trace.case_coverage import already_traced, record_coverage

TODAY = date(2021, 8, 4)


@dataclass(frozen=True)
class Report:
    """A report's Kafka position, as the streams side's `CaseReport` carries it."""

    partition: int
    offset: int


def test_reports_read_by_an_earlier_retrace_need_no_new_one(tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    report = Report(2, 10)
    assert already_traced(lake, TODAY, [report]) is None, "no re-trace of the day yet"
    reports = [{"kind": "confirmed", "partition": 2, "offset": 10}]
    path = record_coverage(lake, TODAY, {"2": 11}, reports, "asset_triggered__1")
    assert path.endswith(f"manifests/on_case/date={TODAY.isoformat()}/manifest.json")
    reason = already_traced(lake, TODAY, [report])
    assert reason == (f"already traced: the re-trace of {TODAY.isoformat()} by asset_triggered__1 read the lake "
                      "after these 1 report(s) were landed")
    assert already_traced(lake, TODAY, [report, Report(2, 11)]) is None, "a report landed after that re-trace"
    assert already_traced(lake, TODAY, [Report(1, 0)]) is None, "a partition that re-trace never read"
    assert already_traced(lake, TODAY + timedelta(days=1), [report]) is None, "another day"
    assert already_traced(lake, TODAY, []) is None, "a manual run always runs"


def test_the_record_keeps_positions_only_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    reports = [{"kind": "discarded", "partition": 0, "offset": 3}]
    record_coverage(str(lake), TODAY, {"0": 4, "1": 0}, reports, "manual__1")
    record_coverage(str(lake), TODAY, {"0": 5, "1": 0}, reports, "manual__2")
    directory = lake / "manifests" / "on_case" / f"date={TODAY.isoformat()}"
    assert [path.name for path in directory.iterdir()] == ["manifest.json"]
    record = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    assert record["recorded_at"]
    del record["recorded_at"]
    assert record == {"job": "on_case", "day": TODAY.isoformat(), "run_id": "manual__2",
                      "case_reports_committed": {"0": 5, "1": 0}, "reports": reports}
