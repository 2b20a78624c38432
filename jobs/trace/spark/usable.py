"""The checks of `jobs.trace.usable` as Spark columns: each raw row gets the reason it cannot be used, or null.

Instants are compared as epoch microseconds (`unix_micros` reads the stored
long as it is, even at the ends of its range), so nothing overflows before a
row is judged, and a row's reason is the first failing check: Spark's
`CASE WHEN` evaluates in order.
"""

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.trace.parameters import TraceParams
from jobs.trace.spark.frames import driver_rows
from jobs.trace.usable import (
    CHECKS,
    LATEST_US,
    NO_LANDING,
    Between,
    CaseDate,
    Check,
    Differ,
    Instant,
    NotBefore,
    OneOf,
    Required,
    case_date_bounds,
    case_date_columns,
    case_date_window,
    reasons,
)

REASON = "_unusable"
LANDED_ORDER = "landed_order"


def _bounds_of(column: str) -> tuple[str, str, str]:
    return f"_{column}_day", f"_{column}_from", f"_{column}_until"


def _failing(check: Check, earliest_us: int) -> Column:
    """True when a row fails `check`; null (not taken) when a present-only check meets a null."""
    match check:
        case Required(column, None):
            return F.col(column).isNull()
        case Required(column, kind):
            return (F.col("kind") == kind) & F.col(column).isNull()
        case OneOf(column, values):
            return ~F.col(column).isin(*values)
        case Instant(column):
            return ~F.unix_micros(column).between(earliest_us, LATEST_US)
        case Between(column, low, high):
            return ~F.col(column).between(low, high)
        case CaseDate(column):
            _, reported_from, reported_until = _bounds_of(column)
            reported = F.unix_micros("reported_at")
            plausible = (reported >= F.col(reported_from)) & (reported < F.col(reported_until))
            return F.col(column).isNotNull() & ~F.coalesce(plausible, F.lit(False))
        case NotBefore(later, earlier, _):
            return F.unix_micros(later) < F.unix_micros(earlier)
        case Differ(first, second, _):
            return F.col(first) == F.col(second)
    raise TypeError(f"no Spark form for {check!r}")


def _reason(topic: str, earliest_us: int) -> Column:
    first, *rest = CHECKS[topic]
    reason = F.when(_failing(first, earliest_us), first.reason)
    for check in rest:
        reason = reason.when(_failing(check, earliest_us), check.reason)
    return reason


def _with_case_date_bounds(
    spark: SparkSession, raw: DataFrame, columns: Sequence[str], params: TraceParams
) -> DataFrame:
    """Each case date column gets the reported_at range that makes it plausible (null when none does)."""
    first, last = case_date_window(params.earliest_us)
    candidates = (
        raw.select(F.explode(F.array(*columns)).alias("day"))
        .filter(F.col("day").between(F.lit(first), F.lit(last)))
        .distinct()
    )
    table = case_date_bounds([row.day for row in candidates.collect()], params.zone, params.earliest_us)
    bounds = driver_rows(spark, "day date, reported_from_us long, reported_until_us long", table)
    for column in columns:
        day, reported_from, reported_until = _bounds_of(column)
        named = bounds.select(
            F.col("day").alias(day),
            F.col("reported_from_us").alias(reported_from),
            F.col("reported_until_us").alias(reported_until),
        )
        raw = raw.join(F.broadcast(named), raw[column] == named[day], "left")
    return raw


def judged(spark: SparkSession, raw: DataFrame, topic: str, params: TraceParams) -> DataFrame:
    """`raw` with a `_unusable` column: the reason a row cannot be traced, null for a usable row."""
    reason = _reason(topic, params.earliest_us)
    columns = case_date_columns(topic)
    if not columns:
        return raw.withColumn(REASON, reason)
    bounded = _with_case_date_bounds(spark, raw, columns, params)
    helpers = [name for column in columns for name in _bounds_of(column)]
    return bounded.withColumn(REASON, reason).drop(*helpers)


def landed_order(params: TraceParams) -> Column:
    """landed_at as epoch microseconds where plausible, else NO_LANDING: copies of an event sort on it first."""
    landed = F.unix_micros("landed_at")
    return F.when(landed.between(params.earliest_us, LATEST_US), landed).otherwise(F.lit(NO_LANDING))


def reason_counts(topic: str) -> list[Column]:
    """Aggregates counting each reason of `topic`, aliased by position in `reasons(topic)`."""
    return [
        F.count_if(F.col(REASON) == reason).alias(f"unusable_{index}") for index, reason in enumerate(reasons(topic))
    ]


def counted_reasons(topic: str, metrics: dict[str, int]) -> dict[str, int]:
    return {reason: int(metrics.get(f"unusable_{index}") or 0) for index, reason in enumerate(reasons(topic))}
