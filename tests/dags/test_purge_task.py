"""The daily DAG's purge task, run by Airflow alone: day D's window keeps D and the 20 days before it."""

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.dags.airflow_env import TEST_KEY, load_dag_module
from tests.jobs.lakebuilder import LakeBuilder

D = date(2021, 8, 3)


@pytest.mark.slow
def test_the_purge_task_deletes_the_days_before_d_s_window(
    airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault", key=TEST_KEY.encode())
    builder.checkin("0912000001", "V1", "2021-07-13 10:00", "2021-07-13 11:00")
    builder.checkin("0912000002", "V1", "2021-07-14 10:00", "2021-07-14 11:00")
    builder.write()
    monkeypatch.setenv("TRACELAKE_LAKE", str(builder.root))
    monkeypatch.setenv("TRACELAKE_VAULT", str(builder.vault))
    monkeypatch.setenv("TRACELAKE_PSEUDONYMIZATION_KEY", TEST_KEY)
    dag = load_dag_module("tracelake_daily").DAG.partial_subset("purge", include_upstream=False)

    run = dag.test(logical_date=datetime.combine(D, datetime.min.time(), tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))

    assert {ti.task_id: str(ti.state) for ti in run.get_task_instances()} == {"purge": "success"}
    assert sorted(path.name for path in (builder.root / "raw" / "checkins").iterdir()) == ["date=2021-07-14"]
    record = builder.root / "manifests" / "purge" / "date=2021-07-14" / "purge.json"
    (purge_run,) = json.loads(record.read_text())["runs"]
    assert [(table["table"], table["days"]) for table in purge_run["tables"]] == [("raw/checkins", ["2021-07-13"])]
