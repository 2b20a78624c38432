"""The daily DAG end to end with `dag.test()`: a simulated province, published to a real broker, landed by the
real lander, then validated, traced with Spark and exported by Airflow in this process.
"""

import hashlib
import json
import logging
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from tests.dags.airflow_env import TEST_KEY, load_dag_module
from tests.dags.province import DAY, Province

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TASKS = ["wait_for_landing", "validate_raw", "trace", "validate_outputs", "export", "purge"]

pytestmark = pytest.mark.slow


def _service_env(monkeypatch: pytest.MonkeyPatch, lake: Path, vault: Path, bootstrap: str, key: bool = True) -> None:
    monkeypatch.setenv("TRACELAKE_LAKE", str(lake))
    monkeypatch.setenv("TRACELAKE_VAULT", str(vault))
    monkeypatch.setenv("TRACELAKE_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("TRACELAKE_SPARK_MASTER", "local[2]")
    monkeypatch.setenv("TRACELAKE_LANDING_POKE_SECONDS", "1")
    monkeypatch.setenv("TRACELAKE_LANDING_TIMEOUT_MINUTES", "1")
    if key:
        monkeypatch.setenv("TRACELAKE_PSEUDONYMIZATION_KEY", TEST_KEY)
    else:
        monkeypatch.delenv("TRACELAKE_PSEUDONYMIZATION_KEY", raising=False)


def _run_day(day: date) -> tuple[str, dict[str, str]]:
    """One `dag.test()` of the daily DAG for local day `day`: the run's state and each task's state."""
    module = load_dag_module("tracelake_daily")
    run = module.DAG.test(logical_date=datetime.combine(day, datetime.min.time(), tzinfo=ZONE))
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    return str(run.state), states


def _digest(directory: Path) -> dict[str, str]:
    """Content of every visible file under `directory`, Parquet compared by its rows (not its write metadata)."""
    digests = {}
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(directory).parts):
            continue
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            body = table.sort_by([(name, "ascending") for name in table.column_names if _sortable(table, name)])
            digests[str(path.relative_to(directory))] = hashlib.sha256(str(body.to_pylist()).encode()).hexdigest()
        else:
            digests[str(path.relative_to(directory))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def _sortable(table: Any, name: str) -> bool:
    import pyarrow as pa

    return not pa.types.is_list(table.schema.field(name).type)


def _day_outputs(lake: Path, day: date) -> dict[str, str]:
    found: dict[str, str] = {}
    for table in ("curated/contacts", "curated/exposures", "curated/cases", "exports/exposures", "exports/worklists"):
        directory = lake / table / f"date={day.isoformat()}"
        if directory.is_dir():
            found.update({f"{table}/{name}": digest for name, digest in _digest(directory).items()})
    return found


def test_a_landed_day_is_validated_traced_and_exported(
    airflow_db: Path, province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Then re-running the day gives the same outputs, running D never touches D-1, and the twin agrees."""
    _service_env(monkeypatch, province.lake, province.vault, province.bootstrap)
    before = DAY - timedelta(days=1)

    state, tasks = _run_day(before)
    assert state == "success", tasks
    yesterday = _day_outputs(province.lake, before)
    assert any(name.startswith("exports/exposures/") for name in yesterday)

    state, tasks = _run_day(DAY)
    assert state == "success", tasks
    assert tasks == dict.fromkeys(TASKS, "success")
    first = _day_outputs(province.lake, DAY)
    assert any(name.startswith("exports/exposures/") for name in first)
    assert any(name.startswith("exports/worklists/") for name in first)
    assert (province.lake / "tracelake.duckdb").is_file()
    assert (province.lake / "reports" / f"date={DAY.isoformat()}" / "index.html").is_file()
    assert (province.lake / "exports" / "notices" / f"date={DAY.isoformat()}").is_dir()
    assert (province.lake / "manifests" / "trace" / f"date={DAY.isoformat()}" / "manifest.json").is_file()
    docs = province.lake / "validation" / f"date={DAY.isoformat()}"
    assert (docs / "index.html").is_file()
    assert '"success": true' in (docs / "summary-raw.json").read_text()
    assert '"success": true' in (docs / "summary-outputs.json").read_text()

    state, tasks = _run_day(DAY)
    assert state == "success", tasks
    assert _day_outputs(province.lake, DAY) == first, "re-running D must leave the same outputs"
    assert _day_outputs(province.lake, before) == yesterday, "running D must not touch D-1"

    monkeypatch.setenv("TRACELAKE_TRACE_ENGINE", "duckdb")
    state, tasks = _run_day(DAY)
    assert state == "success", tasks
    assert _day_outputs(province.lake, DAY) == first, "the DuckDB twin must give the DAG the same outputs"
    manifest = province.lake / "manifests" / "trace" / f"date={DAY.isoformat()}" / "manifest.json"
    assert json.loads(manifest.read_text())["engine"] == "duckdb"


def _corrupt_checkins(lake: Path) -> int:
    """Make one check-in leave before it arrived and move one to the next day: two rows a lander never writes."""
    import pyarrow as pa

    directory = lake / "raw" / "checkins" / f"date={DAY.isoformat()}"
    path = max(directory.glob("*.parquet"), key=lambda file: pq.read_metadata(file).num_rows)
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0]["checkout_at"] = rows[0]["checkin_at"] - timedelta(hours=1)
    rows[1]["checkin_at"] += timedelta(days=1)
    rows[1]["checkout_at"] = None
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    return 2


def test_a_corrupted_raw_partition_fails_validation_and_nothing_is_exported(
    airflow_db: Path, province: Province, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
) -> None:
    lake, vault = tmp_path / "lake", tmp_path / "vault"
    shutil.copytree(province.lake, lake, ignore=shutil.ignore_patterns("exports", "curated", "validation", "manifests",
                                                                     "tracelake.duckdb"))
    shutil.copytree(province.vault, vault)
    _corrupt_checkins(lake)
    _service_env(monkeypatch, lake, vault, province.bootstrap)

    with caplog.at_level(logging.INFO):
        state, tasks = _run_day(DAY)
    assert state == "failed"
    assert tasks["wait_for_landing"] == "success"
    assert tasks["validate_raw"] == "failed"
    assert {tasks[name] for name in ("trace", "validate_outputs", "export")} == {"upstream_failed"}
    assert not (lake / "exports").exists(), "nothing may be exported for a day that failed validation"
    assert not (lake / "curated").exists()

    log = caplog.text + "".join(capfd.readouterr())
    assert ("raw_checkins: expect_column_pair_values_a_to_be_greater_than_b(checkout_at, checkin_at) "
            "failed on 1 bad row(s)") in log
    assert "raw_checkins: expect_column_values_to_be_between(checkin_at) failed on 1 bad row(s)" in log
    summary = (lake / "validation" / f"date={DAY.isoformat()}" / "summary-raw.json").read_text()
    assert '"success": false' in summary


def test_the_dag_refuses_to_run_without_a_pseudonymization_key(
    airflow_db: Path, province: Province, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
) -> None:
    _service_env(monkeypatch, tmp_path / "lake", tmp_path / "vault", province.bootstrap, key=False)
    with caplog.at_level(logging.INFO):
        state, tasks = _run_day(DAY)
    assert state == "failed"
    assert tasks["wait_for_landing"] == "failed"
    assert "TRACELAKE_PSEUDONYMIZATION_KEY" in caplog.text + "".join(capfd.readouterr())
    assert not (tmp_path / "lake").exists()


def test_a_day_without_checkins_or_sightings_is_traced_from_its_lookback(
    airflow_db: Path, province: Province, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Nothing happened on D + 3, yet the cases of the days before still have contacts inside its lookback."""
    lake, vault = tmp_path / "lake", tmp_path / "vault"
    shutil.copytree(province.lake, lake, ignore=shutil.ignore_patterns("exports", "curated", "validation", "manifests",
                                                                     "tracelake.duckdb"))
    shutil.copytree(province.vault, vault)
    _service_env(monkeypatch, lake, vault, province.bootstrap)
    monkeypatch.setenv("TRACELAKE_TRACE_ENGINE", "duckdb")
    quiet = DAY + timedelta(days=3)
    assert not list((lake / "raw").glob(f"*/date={quiet.isoformat()}"))

    state, tasks = _run_day(quiet)
    assert state == "success", tasks
    assert tasks == dict.fromkeys(TASKS, "success")
    export = pq.read_table(lake / "exports" / "exposures" / f"date={quiet.isoformat()}")
    assert export.num_rows > 0
    assert set(export.column("tier").to_pylist()) >= {"F1"}
