"""Reading only the rows near each round's sources gives what reading every row gives, in both engines.

Random provinces of a few hundred people, with resends that moved the stay or
the sighting (the first copy decides), so a pruned round that kept a later
copy, missed a first one, or left out a stay crowding counts would show.
"""

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyspark.sql import SparkSession

from jobs.trace.duckdb import DuckDBEngine
from jobs.trace.parameters import TraceParams
from jobs.trace.plan import InputPlan, plan_inputs
from jobs.trace.spark.cases import case_rows
from jobs.trace.spark.raw_events import read_inputs
from jobs.trace.spark.tiers import trace_tiers
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.random_province import build_province
from tests.jobs.tracing import DAY
from tracelake.core.lake import Lake
from tracelake.core.rules import load_rules

SEEDS = [3, 4, 5]


def _rows(table: pa.Table) -> list[tuple[str, ...]]:
    """Rows in a fixed order; means of RSSI to 9 places, as summing in another order may move the last bit."""
    return sorted(tuple(str(_rounded(value)) for value in row.values()) for row in table.to_pylist())


def _rounded(value: Any) -> Any:
    return round(value, 9) if isinstance(value, float) else value


def _province(tmp_path: Path, seed: int, day: date = DAY) -> tuple[InputPlan, TraceParams]:
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    build_province(builder, seed, people=300)
    builder.write()
    rules = load_rules()
    lake = Lake(str(builder.root.resolve()))
    return plan_inputs(lake, day, rules.lookback_days), TraceParams.from_rules(rules, day)


@pytest.mark.parametrize("seed", SEEDS)
def test_duckdb_pruned_and_unpruned_agree(tmp_path: Path, seed: int) -> None:
    plan, params = _province(tmp_path, seed)
    pruned = DuckDBEngine().run(plan, params)
    unpruned = DuckDBEngine(prune=False).run(plan, params)
    assert pruned.tier_counts[1] > 0 and pruned.tier_counts[2] > 0, pruned.tier_counts
    assert _rows(pruned.contacts) == _rows(unpruned.contacts)
    assert _rows(pruned.exposed) == _rows(unpruned.exposed)
    assert pruned.inputs == unpruned.inputs
    assert sum(counts.duplicates_dropped for counts in pruned.inputs.values()) > 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS[:2])
def test_spark_pruned_and_unpruned_agree(tmp_path: Path, seed: int, spark: SparkSession) -> None:
    plan, params = _province(tmp_path, seed)
    inputs = read_inputs(spark, plan, params)
    cases = case_rows(spark, inputs.reports, params)
    pruned = trace_tiers(spark, inputs, cases, params)
    unpruned = trace_tiers(spark, inputs, cases, params, prune=False)
    reference = DuckDBEngine(prune=False).run(plan, params)
    pruned_contacts = pruned.contacts.toArrow()
    assert pruned_contacts.num_rows > 0
    assert _rows(pruned_contacts) == _rows(unpruned.contacts.toArrow())
    assert _rows(pruned.exposed.toArrow()) == _rows(unpruned.exposed.toArrow())
    assert inputs.counts == reference.inputs
