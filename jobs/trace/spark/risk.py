"""The risk score as Spark columns: `jobs.trace.risk`'s formula, operation for operation, run by the executors.

The powers are `jobs.trace.spark.powers` (the DuckDB twin's bits, not the
JVM's pow and exp), the crowding factors `jobs.trace.risk.crowding_factors`
of the counts the written contacts hold, and each person's weights are summed
in the twin's order, so both engines give every person the same score.
"""

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.trace.parameters import TraceParams
from jobs.trace.powers import LOG2_E
from jobs.trace.risk import MICROSECONDS_PER_DAY, MICROSECONDS_PER_MINUTE, TIER_BAND, crowding_factors
from jobs.trace.spark.frames import driver_rows
from jobs.trace.spark.powers import power_of_two
from jobs.trace.spark.raw_events import THRESHOLD_COLUMNS
from tracelake.core.rules import Rules


def _crowding(spark: SparkSession, contacts: DataFrame, rules: Rules) -> DataFrame:
    """venue_visitors, crowding for the counts in `contacts`: a few hundred numbers through the driver at most."""
    counts = contacts.where(F.col("channel") == "venue").select("venue_visitors").distinct().collect()
    factors = crowding_factors((row[0] for row in counts), rules.risk)
    return driver_rows(spark, "venue_visitors long, crowding double", factors)


def _weight(end: Column, start: Column, rules: Rules, params: TraceParams) -> Column:
    risk = rules.risk
    closeness_exponent = (F.col("rssi_mean") - F.col("threshold_dbm")) / F.lit(float(risk.rssi_doubling_db))
    closeness = F.coalesce(
        F.least(
            F.lit(float(risk.max_closeness)),
            F.greatest(F.lit(1.0) / F.lit(float(risk.max_closeness)), power_of_two(closeness_exponent)),
        ),
        F.lit(1.0),
    )
    recency_exponent = -(
        F.greatest(F.lit(0), F.lit(params.end_of_day_us) - end)
        / F.lit(float(MICROSECONDS_PER_DAY))
        / F.lit(float(risk.recency_half_life_days))
    )
    return (
        (end - start) / F.lit(float(MICROSECONDS_PER_MINUTE))
        * F.when(F.col("channel") == "venue", F.lit(float(risk.venue_weight)) * F.col("crowding")).otherwise(closeness)
        * F.when(F.col("imputed_checkout"), F.lit(float(risk.imputed_checkout_weight))).otherwise(F.lit(1.0))
        * power_of_two(recency_exponent)
    )


def _doses(spark: SparkSession, contacts: DataFrame, rules: Rules, params: TraceParams) -> DataFrame:
    """person, dose: the weights of each target's exposures, summed in the twin's order."""
    thresholds = driver_rows(spark, THRESHOLD_COLUMNS, params.thresholds()).select(
        F.concat("reporter_os", F.lit("-"), "contact_os").alias("os_pair"), "threshold_dbm"
    )
    start, end = F.unix_micros("exposure_start"), F.unix_micros("exposure_end")
    weighted = (
        contacts.join(F.broadcast(thresholds), "os_pair", "left")
        .join(F.broadcast(_crowding(spark, contacts, rules)), "venue_visitors", "left")
        .select(
            F.col("target_pseudonym").alias("person"),
            F.struct(
                F.col("source_pseudonym").alias("source"),
                "channel",
                start.alias("start_us"),
                end.alias("end_us"),
                "venue_id",
                _weight(end, start, rules, params).alias("weight"),
            ).alias("exposure"),
        )
    )
    return weighted.groupBy("person").agg(
        F.aggregate(
            F.array_sort(F.collect_list("exposure")), F.lit(0.0), lambda dose, exposure: dose + exposure["weight"]
        ).alias("dose")
    )


def risk_scores(
    spark: SparkSession, contacts: DataFrame, exposed: DataFrame, rules: Rules, params: TraceParams
) -> DataFrame:
    """person, risk_score of each row of `exposed` (the engine's rows), from the written `contacts`."""
    risk = rules.risk
    dose = F.coalesce(F.col("dose"), F.lit(0.0))
    dose_exponent = -(
        dose * (F.lit(1.0) + F.lit(float(risk.extra_case_weight)) * (F.size("cases") - 1))
        / F.lit(float(risk.dose_scale_minutes))
    ) * F.lit(LOG2_E)
    score = F.lit(TIER_BAND) * (F.lit(params.max_depth) - F.col("depth")) + F.lit(TIER_BAND) * (
        F.lit(1.0) - power_of_two(dose_exponent)
    )
    return exposed.join(_doses(spark, contacts, rules, params), "person", "left").select(
        "person", score.alias("risk_score")
    )
