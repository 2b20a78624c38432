"""The staff-check DAG with `dag.test()`: triggered with a roster, it writes the check; a bad roster fails at once."""

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.dags.airflow_env import load_dag_module
from tests.jobs.lakebuilder import TEST_KEY
from tests.jobs.staff_lake import build_lake, write_roster

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

pytestmark = pytest.mark.slow


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    build_lake(tmp_path / "lake", tmp_path / "vault")
    monkeypatch.setenv("TRACELAKE_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("TRACELAKE_VAULT", str(tmp_path / "vault"))
    monkeypatch.setenv("TRACELAKE_PSEUDONYMIZATION_KEY", TEST_KEY.decode())
    return tmp_path / "lake"


def _trigger(conf: dict[str, object], minute: int) -> tuple[str, str, dict[str, object] | None]:
    """One manual run queued on 2021-08-11 at 09:`minute` local (the minute keeps run ids apart)."""
    module = load_dag_module("tracelake_staff_check")
    run = module.DAG.test(run_after=datetime(2021, 8, 11, 9, minute, tzinfo=ZONE), run_conf=conf)
    (instance,) = run.get_task_instances()
    return str(run.state), str(instance.try_number), instance.xcom_pull(task_ids="staff_check")


def test_a_triggered_run_checks_the_roster_of_the_day_given(airflow_db: Path, lake: Path, tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "roster.csv", bom=True)
    state, _tries, summary = _trigger({"roster": str(roster), "day": "2021-08-10", "days": 7}, minute=1)
    assert state == "success"
    assert summary == {"day": "2021-08-10", "rows": 12, "staff": 9, "duplicates": 1, "rejected": 2, "checked_in": 5,
                       "bluezone": 4, "neither": 3, "agencies": 2}
    with (lake / "exports" / "staff_check" / "date=2021-08-10" / "neither.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 3
    assert (lake / "public" / "staff_check_agencies" / "date=2021-08-10" / "agencies.parquet").is_file()


def test_without_a_day_it_checks_the_local_day_the_run_was_queued(airflow_db: Path, lake: Path,
                                                                  tmp_path: Path) -> None:
    state, _tries, summary = _trigger({"roster": str(write_roster(tmp_path / "roster.csv"))}, minute=2)
    assert state == "success"
    assert summary is not None and summary["day"] == "2021-08-11"


def test_a_roster_without_a_name_column_fails_at_once(airflow_db: Path, lake: Path, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("Agency,Phone\r\nSở Y tế,0912345001\r\n", encoding="utf-8")
    state, tries, summary = _trigger({"roster": str(roster), "day": "2021-08-10"}, minute=3)
    assert (state, tries, summary) == ("failed", "1", None)
    assert not (lake / "exports").exists()


def test_the_dag_is_triggered_by_hand_only(airflow_db: Path) -> None:
    module = load_dag_module("tracelake_staff_check")
    assert module.DAG.schedule is None
    assert set(module.DAG.params) == {"roster", "day", "days"}
    assert module.DAG.params["days"] == 7
