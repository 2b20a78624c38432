"""How many people were at the venue during each venue exposure: the crowding the risk score discounts.

A person among 800 workers of a factory is less likely infected by one of them
than a person at a lunch of 6 (`jobs.trace.risk`). The count is every person with a
stay at the venue that meets the exposure's interval (both ends included, as
in the exposure rule), the source and the target among them, whatever their
tier. It depends only on (venue, start, end), so each distinct interval is
counted once. As in `jobs.trace.spark.venue_exposure`, intervals and stays meet on
(venue, hour bucket) instead of a cartesian product; stays are cut only across
the hours the venue's exposures span, and a person met in several buckets
counts once.
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.trace.spark.venue_exposure import BUCKET_US, VENUE

_INTERVAL = ["venue_id", "start_us", "end_us"]


def _bucket(column: str) -> Column:
    return F.expr(f"{column} div {BUCKET_US}")


def with_venue_visitors(contacts: DataFrame, stays: DataFrame) -> DataFrame:
    """`contacts` with `venue_visitors` (long): people present during each venue exposure, null for Bluetooth."""
    intervals = contacts.filter(F.col("channel") == VENUE).select(*_INTERVAL).distinct()
    reach = intervals.groupBy("venue_id").agg(
        F.min("start_us").alias("reach_start"), F.max("end_us").alias("reach_end")
    )
    interval_buckets = intervals.withColumn("bucket", F.explode(F.sequence(_bucket("start_us"), _bucket("end_us"))))
    stay_buckets = (
        stays.join(F.broadcast(reach), "venue_id")
        .filter((F.col("start_us") <= F.col("reach_end")) & (F.col("end_us") >= F.col("reach_start")))
        .select(
            "venue_id",
            "person",
            F.col("start_us").alias("p_start"),
            F.col("end_us").alias("p_end"),
            F.greatest(_bucket("start_us"), _bucket("reach_start")).alias("first_bucket"),
            F.least(_bucket("end_us"), _bucket("reach_end")).alias("last_bucket"),
        )
        .withColumn("bucket", F.explode(F.sequence("first_bucket", "last_bucket")))
    )
    present = (
        interval_buckets.join(stay_buckets, ["venue_id", "bucket"])
        .filter((F.col("p_start") <= F.col("end_us")) & (F.col("p_end") >= F.col("start_us")))
        .groupBy(*_INTERVAL)
        .agg(F.countDistinct("person").cast("long").alias("venue_visitors"))
    )
    return contacts.join(present, _INTERVAL, "left")
