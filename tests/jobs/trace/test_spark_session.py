"""The Spark session: sized for this small host when local, left to the cluster's own sizing otherwise."""

import sys
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from jobs.trace.day import _engine, trace_day
from jobs.trace.spark.engine import SparkEngine
from jobs.trace.spark.session import (
    DEFAULT_DRIVER_MEMORY,
    DRIVER_MEMORY,
    LOCAL_SIZING,
    PYTHON,
    SESSION_CONF,
    is_local,
    session_conf,
)
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.random_province import build_province
from tests.jobs.tracing import DAY
from tracelake.core.rules import load_rules
from tracelake.core.settings import Settings


def test_a_local_master_gets_the_small_hosts_sizing_and_this_interpreter() -> None:
    for master in ("local", "local[2]", "local[*]"):
        conf = session_conf(master)
        assert conf[DRIVER_MEMORY] == DEFAULT_DRIVER_MEMORY == Settings().spark_driver_memory, master
        assert conf["spark.sql.shuffle.partitions"] == "8", master
        assert conf[PYTHON] == sys.executable, master


def test_a_local_sessions_heap_is_a_setting_handed_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACELAKE_SPARK_DRIVER_MEMORY", "3g")
    heap = Settings().spark_driver_memory
    engine = _engine("spark", "local[2]", heap)
    assert isinstance(engine, SparkEngine)
    assert engine.driver_memory == "3g"
    assert session_conf("local[2]", engine.driver_memory)[DRIVER_MEMORY] == "3g"
    assert DRIVER_MEMORY not in session_conf("spark://spark-master:7077", "3g")


def test_a_cluster_master_keeps_its_own_sizing() -> None:
    for master in ("spark://spark-master:7077", "yarn", "k8s://https://cluster:6443", "local-cluster[2,1,1024]"):
        conf = session_conf(master)
        assert not is_local(master)
        assert conf == SESSION_CONF, master
        assert not set(conf) & set(LOCAL_SIZING), master
        assert PYTHON not in conf, f"{master}: a cluster's workers run their own Python"


def test_the_session_conf_holds_what_results_and_logs_depend_on_everywhere() -> None:
    conf = session_conf("spark://spark-master:7077")
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert "log4j2.configurationFile" in conf["spark.driver.extraJavaOptions"]


def test_local_python_workers_run_this_interpreter(spark: SparkSession) -> None:
    def worker_python(_: int) -> str:
        import sys as worker_sys

        return worker_sys.executable

    assert spark.conf.get(PYTHON) == sys.executable
    assert spark.sparkContext.parallelize([0], 1).map(worker_python).collect() == [sys.executable]


def test_a_trace_runs_no_python_on_the_executors(spark: SparkSession, builder: LakeBuilder, tmp_path: Path) -> None:
    """A stock Spark worker has no Python with pyarrow (jobs.trace.spark.frames): here the executors have none."""
    build_province(builder, seed=5, people=200)
    builder.write()
    context = spark.sparkContext
    python = context.pythonExec
    context.pythonExec = str(tmp_path / "no-python-on-the-executors")
    try:
        result = trace_day(str(builder.root), DAY, load_rules(), vault=str(builder.vault), engine="spark")
    finally:
        context.pythonExec = python
    assert result.tier_counts["F1"] > 0 and result.tier_counts["F2"] > 0
