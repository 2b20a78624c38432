"""A day traced on a Spark standalone cluster (`--master spark://…`) comes out as traced locally and by DuckDB.

Local mode runs every task inside the driver's JVM; on a cluster the plan is
shipped to executors in other JVMs that read the lake themselves. The cluster
trace runs as an operator runs it, `tracelake trace --master`, in a process
of its own: a process has one SparkSession, and this one's is local. It runs
while this process traces the same day locally: a cluster run mostly waits on
its executors, and the test stays short on a small machine.
"""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from jobs.trace.day import EngineName, trace_day
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.random_province import build_province
from tests.jobs.trace.spark_cluster import StandaloneCluster, standalone_cluster
from tests.jobs.tracing import DAY, read_table
from tracelake.core.lake import Lake
from tracelake.core.rules import load_rules

TABLES = ("contacts", "exposures", "cases")
"""The curated tables compared; the tracers' export is compared besides them."""


@pytest.fixture
def spark_cluster(tmp_path: Path) -> Iterator[StandaloneCluster]:
    with standalone_cluster(tmp_path / "cluster", workers=2, cores=1, memory="1g") as cluster:
        yield cluster


def _copy(builder: LakeBuilder, root: Path) -> tuple[Path, Path]:
    """The same raw lake and vault again: each trace writes its outputs and audit records into its own."""
    lake, vault = root / "lake", root / "vault"
    shutil.copytree(builder.root, lake)
    shutil.copytree(builder.vault, vault)
    return lake, vault


def _start_trace_on_cluster(cluster: StandaloneCluster, lake: Path, vault: Path) -> subprocess.Popen[str]:
    """`tracelake trace --master spark://…` as an operator runs it, in a process of its own."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("TRACELAKE_")}
    environment.update(cluster.driver_environment, TRACELAKE_VAULT=str(vault), COLUMNS="200")
    # The job runs no Python on the executors (a stock apache/spark image has none with pyarrow): one would fail.
    environment["PYSPARK_PYTHON"] = str(lake.parent / "no-python-on-the-executors")
    return subprocess.Popen(
        [sys.executable, "-m", "tracelake", "trace", "--lake", str(lake), "--date", DAY.isoformat(),
         "--engine", "spark", "--master", cluster.master],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment, cwd=lake.parent,
    )


def _trace_here(lake: Path, vault: Path, engine: EngineName) -> None:
    trace_day(str(lake), DAY, load_rules(), vault=str(vault), engine=engine)


def _outputs(lake: Path) -> dict[str, pa.Table]:
    layout = Lake(str(lake))
    tables = {name: read_table(layout.curated_day(name, DAY)) for name in TABLES}
    tables["export"] = read_table(layout.export_day("exposures", DAY))
    return tables


def _sorted(table: pa.Table) -> pa.Table:
    """Rows in the order of every column that is neither a float nor a list (Arrow sorts neither)."""
    keys = [
        (field.name, "ascending")
        for field in table.schema
        if not pa.types.is_floating(field.type) and not pa.types.is_list(field.type)
    ]
    return table.sort_by(keys)


def _assert_same(expected: pa.Table, actual: pa.Table, what: str) -> None:
    """Equal tables, to the bit: every float is a sum in a fixed order or `jobs.trace.powers`' power of two."""
    assert actual.schema == expected.schema, what
    assert _sorted(actual).to_pylist() == _sorted(expected).to_pylist(), what


def _counted(lake: Path) -> dict[str, object]:
    """What the manifest counted: rows read and dropped per topic, people per tier (paths are lake-relative)."""
    document = json.loads(Path(Lake(str(lake)).manifest("trace", DAY)).read_bytes())
    return {key: document[key] for key in ("inputs", "tier_counts")}


@pytest.mark.slow
def test_a_day_traced_on_a_standalone_cluster_matches_local_spark_and_duckdb(
    tmp_path: Path, spark_cluster: StandaloneCluster, spark: object
) -> None:
    builder = LakeBuilder(tmp_path / "built" / "lake", tmp_path / "built" / "vault")
    build_province(builder, seed=3, people=300)
    builder.write()
    lakes = {run: _copy(builder, tmp_path / run) for run in ("cluster", "spark", "duckdb")}

    with _start_trace_on_cluster(spark_cluster, *lakes["cluster"]) as on_cluster:
        try:
            _trace_here(*lakes["spark"], "spark")
            _trace_here(*lakes["duckdb"], "duckdb")
            output, errors = on_cluster.communicate(timeout=600)
        finally:
            on_cluster.kill()
    assert on_cluster.returncode == 0, output[-2000:] + errors[-3000:]

    applications = spark_cluster.status()["completedapps"]
    assert isinstance(applications, list) and [app["name"] for app in applications] == ["tracelake-trace"]
    cluster = _outputs(lakes["cluster"][0])
    assert set(cluster["contacts"].column("channel").to_pylist()) == {"ble", "venue"}
    assert set(cluster["export"].column("tier").to_pylist()) == {"F1", "F2"}
    for run in ("spark", "duckdb"):
        other = _outputs(lakes[run][0])
        for name, table in cluster.items():
            _assert_same(other[name], table, f"cluster vs {run}: {name}")
        assert _counted(lakes["cluster"][0]) == _counted(lakes[run][0]), run
