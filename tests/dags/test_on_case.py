"""The event-driven re-trace: which reports a run covers, waiting for the lander, skipping what is covered."""

import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.dags.airflow_env import TEST_KEY, load_dag_module
from tests.dags.province import Province
from tracelake.airflow.launcher import AirflowSettings

TODAY = date(2021, 8, 4)


@dataclass
class FakeAssetEvent:
    extra: dict[str, Any] = field(default_factory=dict)


def _steps() -> Any:
    import tracelake.airflow.tasks

    return tracelake.airflow.tasks


def _settings(province: Province, lake: Path | None = None) -> AirflowSettings:
    return AirflowSettings(lake=str(lake or province.lake), vault=str(province.vault),
                           bootstrap_servers=province.bootstrap, pseudonymization_key=TEST_KEY)


def test_the_reports_of_a_run_come_from_its_asset_events(airflow_db: Path) -> None:
    steps = _steps()
    payload = {"kind": "confirmed", "reported_at": "2021-08-04T02:00:00+00:00",
               "topic": "case_reports", "partition": 3, "offset": 41}
    context = {"triggering_asset_events": {"tracelake_case_decisions": [
        FakeAssetEvent({"from_trigger": True, "payload": payload}), FakeAssetEvent({"from_trigger": True}),
    ]}}
    assert steps.triggering_reports(context) == [steps.CaseReport("confirmed", 3, 41)]
    assert steps.triggering_reports({}) == []


def test_a_run_waits_until_the_lander_has_committed_past_its_reports(airflow_db: Path, province: Province) -> None:
    steps = _steps()
    settings = _settings(province)
    landed = steps.case_reports_landing(settings, [])
    assert landed.done and landed.committed, landed.describe()
    partition, committed = next((p, offset) for p, offset in landed.committed.items() if offset > 0)
    landed_report = steps.CaseReport("confirmed", int(partition), committed - 1)
    future_report = steps.CaseReport("discarded", int(partition), committed)
    assert steps.case_reports_landing(settings, [landed_report]).done
    waiting = steps.case_reports_landing(settings, [landed_report, future_report])
    assert not waiting.done
    assert f"a discarded report at {partition}:{committed}" in waiting.describe()
    assert "confirmed report" not in waiting.describe()


def test_reports_read_by_an_earlier_retrace_skip_the_run(airflow_db: Path, province: Province, tmp_path: Path) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    steps = _steps()
    settings = _settings(province, tmp_path / "lake")
    report = steps.CaseReport("confirmed", 2, 10)
    steps.skip_if_covered(settings, TODAY, [report])
    path = steps.record_coverage(settings, TODAY, {"committed": {"2": 11}, "reports": []}, "asset_triggered__1")
    assert path.endswith(f"manifests/on_case/date={TODAY.isoformat()}/manifest.json")
    with pytest.raises(AirflowSkipException, match="already traced"):
        steps.skip_if_covered(settings, TODAY, [report])
    steps.skip_if_covered(settings, TODAY, [report, steps.CaseReport("discarded", 2, 11)])
    steps.skip_if_covered(settings, TODAY, [steps.CaseReport("discarded", 1, 0)])
    steps.skip_if_covered(settings, TODAY + timedelta(days=1), [report])


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
