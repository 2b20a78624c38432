"""Every DAG file parses cleanly, offline and light, and declares what operators need.

Parsing happens in a fresh interpreter with sockets disabled, the way the DAG
processor does it (dags/ on sys.path), so a DAG that reaches for the network or
imports Spark at parse time fails here, not in production every 30 seconds.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dags.airflow_env import DAGS, airflow_env, load_dag_module

HEAVY_MODULES = ("pyspark", "great_expectations", "duckdb", "kafka")
"""Nothing a DAG file may import at parse time: Spark, GX, DuckDB, the lander's Kafka client."""

PARSE_SCRIPT = r"""
import json, socket, sys


def _offline(*args, **kwargs):
    raise OSError("network access while parsing DAG files")

socket.socket.connect = _offline
socket.socket.connect_ex = _offline
socket.create_connection = _offline
socket.getaddrinfo = _offline

from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
dags = {}
for dag_id, dag in bag.dags.items():
    dags[dag_id] = {
        "tags": sorted(dag.tags),
        "doc_md": bool(dag.doc_md and dag.doc_md.strip()),
        "max_active_runs": dag.max_active_runs,
        "timetable": type(dag.timetable).__name__,
        "fileloc": dag.fileloc,
        "tasks": {
            task.task_id: {
                "owner": task.owner,
                "retries": task.retries,
                "backoff": bool(task.retry_exponential_backoff),
                "outlets": [getattr(outlet, "name", str(outlet)) for outlet in task.outlets],
            }
            for task in dag.tasks
        },
    }
heavy = [name for name in sys.argv[2].split(",") if name in sys.modules]
print("RESULT " + json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()},
                               "dags": dags, "heavy": heavy, "files": sorted(bag.dagbag_stats and
                               [stat.file for stat in bag.dagbag_stats] or [])}))
"""


@pytest.fixture(scope="module")
def parsed(airflow_db: Path) -> dict:  # type: ignore[type-arg]
    environment = {**os.environ, **airflow_env(), "PYTHONPATH": str(DAGS)}
    environment.pop("TRACELAKE_PSEUDONYMIZATION_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", PARSE_SCRIPT, str(DAGS), ",".join(HEAVY_MODULES)],
        env=environment, capture_output=True, text=True, timeout=300, check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, f"parsing dags/ failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return json.loads(lines[-1][len("RESULT "):])  # type: ignore[no-any-return]


def test_every_dag_file_imports_without_errors_or_network(parsed: dict) -> None:  # type: ignore[type-arg]
    assert parsed["errors"] == {}
    assert set(parsed["dags"]) == {"tracelake_daily", "tracelake_on_case", "tracelake_staff_check"}


def test_the_dag_folder_holds_dag_files_only(parsed: dict) -> None:  # type: ignore[type-arg]
    """One DAG per file and nothing else (the steps are in tracelake/airflow/): Airflow parses every `.py`
    here, so a helper module in dags/ would be parsed as a DAG file, and imported twice under two names."""
    dag_files = sorted(Path(dag["fileloc"]).name for dag in parsed["dags"].values())
    assert len(set(dag_files)) == len(dag_files), "one DAG per file"
    entries = sorted(path.name for path in DAGS.iterdir() if path.name != "__pycache__")
    assert entries == sorted([".airflowignore", *dag_files])
    ignored = (DAGS / ".airflowignore").read_text(encoding="utf-8").split("\n")
    assert "__pycache__/" in ignored, "what Python leaves beside the DAG files is not one"


def test_parsing_imports_no_spark_nor_other_heavy_library(parsed: dict) -> None:  # type: ignore[type-arg]
    assert parsed["heavy"] == []


def test_every_dag_has_tags_docs_an_owner_and_retries_with_backoff(parsed: dict) -> None:  # type: ignore[type-arg]
    for dag_id, dag in parsed["dags"].items():
        assert dag["tags"] and "tracelake" in dag["tags"], dag_id
        assert dag["doc_md"], dag_id
        assert dag["max_active_runs"] == 1, dag_id
        for task_id, task in dag["tasks"].items():
            assert task["owner"] == "tracelake", (dag_id, task_id)
            assert task["retries"] >= 2, (dag_id, task_id)
            assert task["backoff"], (dag_id, task_id)


def test_the_daily_dag_follows_local_days_and_publishes_its_exports(parsed: dict) -> None:  # type: ignore[type-arg]
    daily = parsed["dags"]["tracelake_daily"]
    assert daily["timetable"] == "CronDataIntervalTimetable"
    assert list(daily["tasks"]) == ["wait_for_landing", "validate_raw", "trace", "validate_outputs", "export", "purge"]
    assert set(daily["tasks"]["export"]["outlets"]) == {
        "tracelake_exposures_export", "tracelake_analyst_db", "tracelake_worklists", "tracelake_daily_report"}


def test_the_case_dag_is_scheduled_by_a_kafka_asset_watcher(airflow_db: Path) -> None:
    module = load_dag_module("tracelake_on_case")
    assert module.DAG.max_active_runs == 1
    assert [asset.name for asset in module.DAG.timetable.asset_condition.objects] == [
        "tracelake_case_decisions"]
    (watcher,) = module.CASE_DECISIONS.watchers
    classpath, kwargs = watcher.trigger.serialize()
    assert classpath.endswith("AwaitMessageTrigger")
    assert kwargs["topics"] == ["case_reports"]
    assert kwargs["apply_function"] == "tracelake.airflow.launcher.case_decision"


def test_a_daily_run_traces_the_local_day_that_has_just_ended(airflow_db: Path) -> None:
    """The run for D starts at local midnight after D, and its logical date is D's local midnight."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    from tracelake.core.days import run_day

    module = load_dag_module("tracelake_daily")
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    timetable = coerce_to_core_timetable(module.DAG.timetable)
    earliest = datetime(2021, 8, 3, tzinfo=zone)
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(earliest=earliest, latest=None, catchup=True)
    )
    assert info is not None and info.data_interval is not None
    assert info.data_interval.start == earliest
    assert info.run_after == datetime(2021, 8, 4, tzinfo=zone)
    assert run_day(info.logical_date, info.run_after, zone).isoformat() == "2021-08-03"
