"""Bluetooth exposures in Spark: close sightings of a pair become encounters, judged per local day.

Both directions of a pair describe the same encounter, so sightings are
oriented source→target before merging. Gaps are measured to the previous
*instant* and encounters numbered over RANGE frames, so sightings at the same
instant (both phones logging each other) always fall in one encounter whatever
order a sort leaves them in. Merging happens before clipping to the
source's window, and the clipped encounters are cut at local midnights (taken
from the shared calendar) so each local day's total is judged on its own.
"""

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from jobs.trace.parameters import TraceParams

BLE = "ble"
RSSI_COLUMNS = ("os_pair", "rssi_mean", "rssi_max")
"""Of the encounter a piece was cut from: its OS pair (source-target) and its close sightings' RSSI, both ways."""


def ble_exposures(
    sightings: DataFrame, sources: DataFrame, tiered: DataFrame, calendar: DataFrame, params: TraceParams
) -> DataFrame:
    """source, target, channel, venue_id (null), start_us, end_us per exposing piece of an encounter.

    `sightings`: source, target, observed_us, rssi, source_os, target_os, every close sighting with a source on
    one side, once per source in it (`jobs.trace.spark.candidates`).
    """
    oriented = (
        sightings
        .join(F.broadcast(tiered.select(F.col("person").alias("target"))), "target", "left_anti")
        .filter(F.col("source") != F.col("target"))
    )
    in_time = Window.partitionBy("source", "target").orderBy("observed_us")
    earlier = F.max("observed_us").over(in_time.rangeBetween(Window.unboundedPreceding, -1))
    gap = F.col("observed_us") - earlier
    encounters = (
        oriented.withColumn("_opens", F.when(earlier.isNull() | (gap > params.merge_gap_us), 1).otherwise(0))
        .withColumn("_encounter", F.sum("_opens").over(in_time.rangeBetween(Window.unboundedPreceding, 0)))
        .groupBy("source", "target", "_encounter")
        .agg(
            F.min("observed_us").alias("first_us"),
            F.max("observed_us").alias("last_us"),
            F.concat_ws("-", F.min("source_os"), F.min("target_os")).alias("os_pair"),
            F.avg("rssi").alias("rssi_mean"),
            F.max("rssi").alias("rssi_max"),
        )
    )
    windows = F.broadcast(sources.select(F.col("person").alias("source"), "window_start_us", "window_end_us"))
    clipped = (
        encounters.join(windows, "source")
        .select(
            "source",
            "target",
            *RSSI_COLUMNS,
            F.greatest("first_us", "window_start_us").alias("clip_start"),
            F.least("last_us", "window_end_us").alias("clip_end"),
        )
        .filter(F.col("clip_start") < F.col("clip_end"))
    )
    days = F.broadcast(calendar)
    pieces = clipped.join(
        days, (days.day_start_us < clipped.clip_end) & (days.day_end_us > clipped.clip_start)
    ).select(
        "source",
        "target",
        *RSSI_COLUMNS,
        "day",
        F.greatest("clip_start", "day_start_us").alias("start_us"),
        F.least("clip_end", "day_end_us").alias("end_us"),
    )
    per_day = Window.partitionBy("source", "target", "day")
    return (
        pieces.withColumn("_day_total", F.sum(F.col("end_us") - F.col("start_us")).over(per_day))
        .filter(F.col("_day_total") >= params.min_cumulative_us)
        .select(
            "source",
            "target",
            F.lit(BLE).alias("channel"),
            F.lit(None).cast("string").alias("venue_id"),
            "start_us",
            "end_us",
            *RSSI_COLUMNS,
        )
    )
