"""Case status as of the end of D, in Spark: who is F0 and over which window they expose others.

The latest `confirmed`/`discarded` report decides, whatever order reports
arrived in; a tie on reported_at goes to `confirmed`, then to the report landed
later, by (landed_at NULLS FIRST, kafka_partition, kafka_offset). Isolation is
the earliest `isolated_at` of any `isolated` report.
Window starts are local midnights of arbitrary dates, taken from
`jobs.trace.parameters.midnights` so both engines agree to the microsecond: the candidate
dates of every confirmed report (a handful) go to the driver and come back as
a small table to join.
"""

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs.trace.engines import CONFIRMED, DISCARDED, ISOLATED
from jobs.trace.parameters import TraceParams, midnights
from jobs.trace.spark.frames import driver_rows


def case_rows(spark: SparkSession, reports: DataFrame, params: TraceParams) -> DataFrame:
    """person, status, window_start_us, window_end_us, isolated_at_us: one row per reported person (checkpointed)."""
    latest_first = Window.partitionBy("person").orderBy(
        F.col("reported_us").desc(),
        (F.col("kind") == CONFIRMED).desc(),
        F.col("landed_order").desc(),
        F.col("kafka_partition").desc(),
        F.col("kafka_offset").desc(),
    )
    window_start_day = F.when(
        F.col("onset_date").isNotNull(), F.date_sub("onset_date", params.days_before_onset)
    ).otherwise(F.date_sub("sample_date", params.days_before_sample))
    verdicts = (
        reports.filter(F.col("kind").isin(CONFIRMED, DISCARDED))
        .withColumn("_order", F.row_number().over(latest_first))
        .filter(F.col("_order") == 1)
        .select(
            "person",
            F.col("kind").alias("verdict"),
            F.when(F.col("kind") == CONFIRMED, window_start_day).alias("window_start_day"),
        )
    )
    isolations = (
        reports.filter((F.col("kind") == ISOLATED) & F.col("isolated_us").isNotNull())
        .groupBy("person")
        .agg(F.min("isolated_us").alias("isolated_at_us"))
    )
    people = reports.select("person").distinct()
    statuses = people.join(verdicts, "person", "left").join(isolations, "person", "left")
    candidate_days = reports.filter(F.col("kind") == CONFIRMED).select(window_start_day.alias("day")).distinct()
    start_days = [row.day for row in candidate_days.collect()]
    starts = driver_rows(
        spark, "day date, midnight_us long", midnights([day for day in start_days if day is not None], params.zone)
    )
    confirmed = F.col("verdict") == CONFIRMED
    return (
        statuses.join(F.broadcast(starts), statuses.window_start_day == starts.day, "left")
        .select(
            "person",
            F.coalesce(F.col("verdict"), F.lit(ISOLATED)).alias("status"),
            F.when(confirmed, F.col("midnight_us")).alias("window_start_us"),
            F.when(confirmed, F.coalesce(F.col("isolated_at_us"), F.lit(params.end_of_day_us))).alias("window_end_us"),
            "isolated_at_us",
        )
        .localCheckpoint()
    )
