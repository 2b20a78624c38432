"""Spark and DuckDB on the same province must find the same people, tiers, sources, cases and minutes."""

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.random_province import build_province
from tests.jobs.tracing import DAY, Traced, run_trace


def _people(traced: Traced) -> dict[tuple[str, str, tuple[str, ...], tuple[str, ...], bool], tuple[float, float]]:
    return {
        (row["person_id"], row["tier"], tuple(row["source_ids"]), tuple(row["case_ids"]), row["imputed_checkout"]):
            (row["exposure_minutes"], row["risk_score"])
        for row in traced.export.to_pylist()
    }


def _without_minutes(table: pa.Table) -> list[dict[str, Any]]:
    return table.drop_columns(["exposure_minutes"]).to_pylist()


def _assert_engines_agree(builder: LakeBuilder) -> Traced:
    spark = run_trace(builder, "spark", write=False)
    duckdb = run_trace(builder, "duckdb", write=False)
    spark_people, duckdb_people = _people(spark), _people(duckdb)
    assert spark_people.keys() == duckdb_people.keys()
    for person, minutes_and_risk in spark_people.items():
        assert minutes_and_risk == duckdb_people[person], f"{person}: the same bits from both engines"
    assert _without_minutes(spark.contacts) == _without_minutes(duckdb.contacts)
    assert spark.cases.to_pylist() == duckdb.cases.to_pylist()
    assert spark.result.tier_counts == duckdb.result.tier_counts
    assert spark.result.input_counts == duckdb.result.input_counts
    return duckdb


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_engines_agree_on_a_random_province(tmp_path: Path, seed: int, spark: object) -> None:
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    build_province(builder, seed)
    builder.write()
    traced = _assert_engines_agree(builder)
    counts = traced.result.tier_counts
    assert counts["F0"] > 0 and counts["F1"] > 0 and counts["F2"] > 0, counts
    assert set(traced.contacts.column("channel").to_pylist()) == {"ble", "venue"}


@pytest.mark.slow
def test_engines_agree_on_the_simulated_province(tmp_path: Path, spark: object) -> None:
    simulator = pytest.importorskip("simulator")
    events = tmp_path / "events"
    simulator.simulate(3000, DAY, days=3, seed=0, out=events)
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    for topic in ("checkins", "proximity", "case_reports"):
        with (events / f"{topic}.jsonl").open("rb") as lines:
            builder.add_jsonl(topic, lines)
    builder.write()
    traced = _assert_engines_agree(builder)
    assert traced.result.tier_counts["F0"] > 0
