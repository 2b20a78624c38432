"""2 ^ x: DuckDB's text, Spark's column and the Python reference give the same bits, close to the truth."""

import math
import random
from collections.abc import Sequence

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.trace.powers import LIMIT, LOG2_E, MAX_EXPONENT, power_of_two, power_of_two_sql
from jobs.trace.spark.powers import power_of_two as spark_power_of_two

WHOLE = range(-int(LIMIT), int(LIMIT) + 1)
EDGES = [
    0.0, -0.0, 0.5, -0.5, 0.49999999999999994, -0.5000000000000001, 1.0, -1.0, 1e-300, -1e-300,
    1023.0, 1023.5, 1024.0, -1022.0, -1074.0, -1075.0, -1099.5, 1099.5, LIMIT, -LIMIT, 1e6, -1e6,
    1e308, -1e308, math.inf, -math.inf, 5e-324, 2.0 ** 52 + 0.5, -(2.0 ** 52) - 0.5,
]


def _bits(values: Sequence[float | None]) -> list[str | None]:
    return [None if value is None else value.hex() for value in values]


def _duckdb(xs: list[float]) -> list[float | None]:
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT {power_of_two_sql('x')} FROM unnest($xs::DOUBLE[]) WITH ORDINALITY AS t(x, i) ORDER BY i",
            {"xs": xs},
        ).fetchall()
    return [row[0] for row in rows]


def _spark(spark: SparkSession, xs: list[float]) -> list[float | None]:
    frame = spark.createDataFrame([(i, x) for i, x in enumerate(xs)], "i long, x double")
    return [row[0] for row in frame.orderBy("i").select(spark_power_of_two(F.col("x"))).collect()]


def _samples(count: int, seed: int) -> list[float]:
    """Exponents as the score meets them: small margins, days over half-lives, doses over scales."""
    rng = random.Random(seed)
    spans = (1.0, 8.0, 60.0, 1100.0)
    return [rng.uniform(-span, span) for _ in range(count) for span in spans]


def test_every_whole_power_is_exact_in_both_engines(spark: SparkSession) -> None:
    with duckdb.connect() as con:
        duck = [row[0] for row in con.execute(
            "SELECT pow(2.0::DOUBLE, k::DOUBLE) FROM range($low, $high) t(k) ORDER BY k",
            {"low": WHOLE.start, "high": WHOLE.stop},
        ).fetchall()]
    frame = spark.range(WHOLE.start, WHOLE.stop).select(F.pow(F.lit(2.0), F.col("id")).alias("power"))
    sparks = [row[0] for row in frame.orderBy("id").collect()]
    expected = [math.ldexp(1.0, k) if k <= 1023 else math.inf for k in WHOLE]
    assert _bits(duck) == _bits(expected)
    assert _bits(sparks) == _bits(expected)


def test_duckdb_and_spark_give_the_reference_bits(spark: SparkSession) -> None:
    xs = EDGES + [k + shift for k in range(-1100, 1101, 7) for shift in (-0.5, 0.25, 0.5)] + _samples(2000, 7)
    expected = _bits([power_of_two(x) for x in xs])
    assert _bits(_duckdb(xs)) == expected
    assert _bits(_spark(spark, xs)) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False), min_size=1, max_size=50))
def test_duckdb_gives_the_reference_bits_for_any_double(xs: list[float]) -> None:
    assert _bits(_duckdb(xs)) == _bits([power_of_two(x) for x in xs])


def test_the_result_is_within_two_ulps_of_the_truth() -> None:
    for x in [*EDGES, *_samples(2000, 11)]:
        clamped = min(max(x, -LIMIT), LIMIT)
        try:
            truth = math.pow(2.0, clamped)
        except OverflowError:
            truth = math.inf
        result = power_of_two(x)
        if math.floor(clamped + 0.5) > MAX_EXPONENT:
            assert result == math.inf, "2 ^ 1024 is out of range, though 2 ^ 1023.5 is not"
        elif math.isinf(truth) or truth == 0.0:
            assert result == truth, x
        else:
            assert abs(result - truth) <= 2 * math.ulp(truth), (x, result, truth)


def test_e_to_the_y_is_two_to_the_y_log2_e() -> None:
    assert power_of_two(-1.0 * LOG2_E) == pytest.approx(math.exp(-1.0), rel=4e-16)
    assert power_of_two(-30.0 * LOG2_E) == pytest.approx(math.exp(-30.0), rel=1e-14)
