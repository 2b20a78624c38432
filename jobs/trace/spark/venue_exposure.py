"""Venue exposures in Spark: stays of a tier's sources against everyone else's stays at the same venue.

No cartesian product: both sides are cut into hour buckets and equi-joined on
(venue_id, bucket). Only the part of a source's stay inside its window is cut
(with the linger), and others' stays only across the hours sources were there
and only when they meet the run's range (the linger can reach into the range
from a source's stay that ended before it, never a target's).
A pair of stays meets in every bucket they share, so it is kept only in the
bucket holding the later start, which both always contain when they overlap.
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.trace.parameters import TraceParams

BUCKET_US = 3_600_000_000
"""Join granularity only: any width gives the same exposures."""

VENUE = "venue"


def _bucket(column: str) -> Column:
    return F.expr(f"{column} div {BUCKET_US}")


def exposing_stays(stays: DataFrame, sources: DataFrame, params: TraceParams) -> DataFrame:
    """source, venue_id, s_start, s_end, s_imputed: the sources' stays with the linger, clipped to their windows,
    long enough to expose anyone (`stays` holds at least every stay of the sources)."""
    windows = sources.select("person", "window_start_us", "window_end_us")
    return (
        stays.join(F.broadcast(windows), "person")
        .select(
            F.col("person").alias("source"),
            "venue_id",
            F.greatest("start_us", "window_start_us").alias("s_start"),
            F.least(F.col("end_us") + F.lit(params.linger_us), F.col("window_end_us")).alias("s_end"),
            F.col("imputed").alias("s_imputed"),
        )
        .filter(F.col("s_end") - F.col("s_start") >= params.min_overlap_us)
    )


def reach(exposing: DataFrame) -> DataFrame:
    """venue_id, reach_start, reach_end: the span of the exposing stays at each venue."""
    return exposing.groupBy("venue_id").agg(F.min("s_start").alias("reach_start"), F.max("s_end").alias("reach_end"))


def within_reach(stays: DataFrame, reaches: DataFrame) -> DataFrame:
    """The stays meeting their venue's reach (both ends included, as in the exposure rule), with the reach."""
    return stays.join(F.broadcast(reaches), "venue_id").filter(
        (F.col("start_us") <= F.col("reach_end")) & (F.col("end_us") >= F.col("reach_start"))
    )


def venue_exposures(
    source_stays: DataFrame, target_stays: DataFrame, sources: DataFrame, tiered: DataFrame, params: TraceParams
) -> DataFrame:
    """source, target, channel, venue_id, start_us, end_us, imputed_checkout for each pair of stays judged an
    exposure (imputed when either stay lacked a checkout).

    `source_stays`: at least every stay of the sources; `target_stays`: at least every stay meeting `reach`
    (`jobs.trace.spark.candidates`); `sources`: person, window_start_us, window_end_us (non-empty windows);
    `tiered`: person, everyone already in this or a lower tier (never a target).
    """
    exposing = exposing_stays(source_stays, sources, params)
    reaches = reach(exposing)
    source_buckets = exposing.withColumn("bucket", F.explode(F.sequence(_bucket("s_start"), _bucket("s_end"))))
    target_buckets = (
        within_reach(target_stays.join(F.broadcast(tiered.select("person")), "person", "left_anti"), reaches)
        .filter(F.col("end_us") >= params.range_start_us)
        .select(
            F.col("person").alias("target"),
            "venue_id",
            F.col("start_us").alias("t_start"),
            F.col("end_us").alias("t_end"),
            F.col("imputed").alias("t_imputed"),
            F.greatest(_bucket("start_us"), _bucket("reach_start")).alias("first_bucket"),
            F.least(_bucket("end_us"), _bucket("reach_end")).alias("last_bucket"),
        )
        .withColumn("bucket", F.explode(F.sequence("first_bucket", "last_bucket")))
    )
    pairs = (
        source_buckets.join(target_buckets, ["venue_id", "bucket"])
        .filter(F.col("source") != F.col("target"))
        .withColumn("start_us", F.greatest("s_start", "t_start"))
        .withColumn("end_us", F.least("s_end", "t_end"))
        .filter(F.col("bucket") == _bucket("start_us"))
        .filter(F.col("end_us") - F.col("start_us") >= params.min_overlap_us)
    )
    return pairs.select(
        "source",
        "target",
        F.lit(VENUE).alias("channel"),
        "venue_id",
        "start_us",
        "end_us",
        F.lit(None).cast("string").alias("os_pair"),
        F.lit(None).cast("double").alias("rssi_mean"),
        F.lit(None).cast("int").alias("rssi_max"),
        (F.col("s_imputed") | F.col("t_imputed")).alias("imputed_checkout"),
    )
