"""The event-driven re-trace in Airflow: its reports from the asset events, the skip, and a whole run."""

import shutil
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from streams.case_landing import CaseReport
from tests.dags.airflow_env import TEST_KEY, load_dag_module
from tests.dags.province import Province
from tracelake.airflow.launcher import AirflowSettings

if TYPE_CHECKING:
    from tests.jobs.lakebuilder import LakeBuilder

TODAY = date(2021, 8, 4)


@dataclass
class FakeAssetEvent:
    extra: dict[str, Any] = field(default_factory=dict)


def _steps() -> Any:
    import tracelake.airflow.tasks

    return tracelake.airflow.tasks


def test_the_reports_of_a_run_come_from_its_asset_events(airflow_db: Path) -> None:
    steps = _steps()
    payload = {"kind": "confirmed", "reported_at": "2021-08-04T02:00:00+00:00",
               "topic": "case_reports", "partition": 3, "offset": 41}
    context = {"triggering_asset_events": {"tracelake_case_decisions": [
        FakeAssetEvent({"from_trigger": True, "payload": payload}), FakeAssetEvent({"from_trigger": True}),
    ]}}
    assert steps.triggering_reports(context) == [CaseReport("confirmed", 3, 41)]
    assert steps.triggering_reports({}) == []


def test_reports_read_by_an_earlier_retrace_skip_the_run(airflow_db: Path, tmp_path: Path) -> None:
    """The decision is `jobs.trace.case_coverage`'s (tests/jobs/trace); here, that Airflow hears it as a skip."""
    from airflow.sdk.exceptions import AirflowSkipException

    steps = _steps()
    settings = AirflowSettings(lake=str(tmp_path / "lake"), vault=str(tmp_path / "vault"))
    report = CaseReport("confirmed", 2, 10)
    steps.skip_if_covered(settings, TODAY, [report])
    landing = {"committed": {"2": 11}, "reports": [asdict(report)]}
    path = steps.record_coverage(settings, TODAY, landing, "asset_triggered__1")
    assert path.endswith(f"manifests/on_case/date={TODAY.isoformat()}/manifest.json")
    with pytest.raises(AirflowSkipException, match="already traced"):
        steps.skip_if_covered(settings, TODAY, [report])
    steps.skip_if_covered(settings, TODAY, [report, CaseReport("discarded", 2, 11)])


@pytest.mark.slow
def test_a_manual_run_retraces_today_exports_and_records_what_it_covered(
    airflow_db: Path, province: Province, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, vault = tmp_path / "lake", tmp_path / "vault"
    shutil.copytree(province.lake / "raw", lake / "raw")
    shutil.copytree(province.vault, vault)
    for name, value in {"TRACELAKE_LAKE": str(lake), "TRACELAKE_VAULT": str(vault),
                        "TRACELAKE_BOOTSTRAP_SERVERS": province.bootstrap, "TRACELAKE_SPARK_MASTER": "local[2]",
                        "TRACELAKE_PSEUDONYMIZATION_KEY": TEST_KEY}.items():
        monkeypatch.setenv(name, value)
    module = load_dag_module("tracelake_on_case")
    run = module.DAG.test()
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert str(run.state) == "success", states
    assert set(states.values()) == {"success"}
    today = module.steps.today({"dag_run": run}, module.RULES.zone)
    assert (lake / "exports" / "exposures" / f"date={today.isoformat()}").is_dir()
    assert (lake / "manifests" / "on_case" / f"date={today.isoformat()}" / "manifest.json").is_file()


def _two_venues(tmp_path: Path) -> tuple["LakeBuilder", AirflowSettings]:
    """An F0 and a contact at venue V the day before TODAY, two people at venue W on TODAY, nobody else."""
    from tests.jobs.lakebuilder import LakeBuilder

    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    builder.checkin("0912000001", "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin("0912000002", "V", "2021-08-03 10:10", "2021-08-03 11:10")
    builder.checkin("0912000003", "W", "2021-08-04 09:00", "2021-08-04 10:00")
    builder.checkin("0912000004", "W", "2021-08-04 09:00", "2021-08-04 10:00")
    builder.confirmed("0912000001", "2021-08-04 08:00", "2021-08-04")
    builder.write()
    return builder, AirflowSettings(lake=str(builder.root), vault=str(builder.vault), trace_engine="duckdb")


def test_the_trace_step_traces_new_f0s_into_the_published_day(airflow_db: Path, tmp_path: Path) -> None:
    """The on-case trace step says which trace it ran: D whole before any trace of D, then only the new F0."""
    from jobs.publication import held
    from tracelake.core.rules import load_rules

    steps = _steps()
    builder, settings = _two_venues(tmp_path)
    rules = load_rules()

    first = steps.trace(settings, rules, TODAY, on_case=True)
    assert (first["mode"], first["reason"]) == ("full", "no published trace of D yet")
    held(settings.lake, TODAY).publish()
    builder.confirmed("0912000003", "2021-08-04 20:00", "2021-08-04")
    builder.write()
    second = steps.trace(settings, rules, TODAY, on_case=True)
    assert second["mode"] == "incremental", second["reason"]
    assert second["tiers"] == {"F0": 2, "F1": 2, "F2": 0}


def _listed(lake: Path, day: date) -> set[str]:
    import csv

    people: set[str] = set()
    for path in (lake / "exports" / "worklists" / f"date={day.isoformat()}").glob("district=*/worklist.csv"):
        with path.open(encoding="utf-8-sig", newline="") as rows:
            people.update(row["phone_or_citizen_id"] for row in csv.DictReader(rows))
    return people


def _tree(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*"))
            if path.is_file()}


def test_the_lists_are_published_before_the_rest_of_the_day(airflow_db: Path, tmp_path: Path) -> None:
    """publish_lists publishes the held tables with worklists made from them; every other output of D stays the
    previous run's, whole, until the export publishes D anew from the same tables."""
    from jobs.publish.day import export_day
    from tracelake.core.lake import Lake
    from tracelake.core.rules import load_rules

    steps = _steps()
    builder, settings = _two_venues(tmp_path)
    rules = load_rules()
    lake = Lake(settings.lake)
    report, analysts = Path(lake.report_day(TODAY)), Path(lake.duckdb_file)

    steps.trace(settings, rules, TODAY, on_case=True)
    first = steps.publish_lists(settings, rules, TODAY)
    assert first["worklists"]["people"] == 1
    assert _listed(builder.root, TODAY) == {"+84912000002"}
    assert not report.exists() and not analysts.exists()
    export_day(settings.lake, TODAY, rules, vault=settings.vault_location)
    before = (_tree(report), analysts.read_bytes())

    builder.confirmed("0912000003", "2021-08-04 20:00", "2021-08-04")
    builder.write()
    assert steps.trace(settings, rules, TODAY, on_case=True)["mode"] == "incremental"
    assert _listed(builder.root, TODAY) == {"+84912000002"}, "nothing is published before the lists are"
    second = steps.publish_lists(settings, rules, TODAY)
    assert second["worklists"]["people"] == 2
    assert _listed(builder.root, TODAY) == {"+84912000002", "+84912000004"}
    assert (_tree(report), analysts.read_bytes()) == before, "the rest of D is the previous run's until the export"
    export_day(settings.lake, TODAY, rules, vault=settings.vault_location)
    assert _tree(report) != before[0]
    assert _listed(builder.root, TODAY) == {"+84912000002", "+84912000004"}
    again = steps.publish_lists(settings, rules, TODAY)
    assert again["run"] != second["run"], "a retry with no run held builds the lists from D's published tables"
    assert again["worklists"]["people"] == 2
    assert _listed(builder.root, TODAY) == {"+84912000002", "+84912000004"}

