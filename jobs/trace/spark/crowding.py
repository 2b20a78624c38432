"""How many people were at the venue during each venue exposure: the crowding the risk score discounts.

A person among 800 workers of a factory is less likely infected by one of them
than a person at a lunch of 6 (`jobs.trace.risk`). The count is every person with a
stay at the venue that meets the exposure's interval (both ends included, as
in the exposure rule), the source and the target among them, whatever their
tier. It depends only on (venue, start, end), so each distinct interval is
counted once, and only stays within the span of its venue's intervals can meet one.

Pairing each interval with the stays at its venue costs intervals × stays, and a
busy venue has thousands of each; counting by sorted running sums does not.
A person's stays at a venue are first merged into visits (stays that overlap or
touch make one), so two visits of a person are apart by a gap of positive
length. For an interval [s, e] (s <= e, as for every exposure):

    people = visits started by e - visits ended before s - gaps left at or after s and returned by e

The first two terms count the visits meeting the interval: running counts per
venue over time. A person with m visits meeting it is counted m times there and
has exactly m - 1 gaps inside it (a gap lies inside exactly when the visits on
both of its sides meet the interval), so the last term leaves each person once.
That term asks two things of each gap (leave and return) and is answered as a
Fenwick tree would: a venue's gaps, in order of return, are cut into aligned
power-of-two blocks, the gaps returned by e are one block per set bit of their
count, and a running count over each block, ordered by leave, answers each.
"""

from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.trace.spark.venue_exposure import VENUE

_INTERVAL = ["venue_id", "start_us", "end_us"]


def _no_interval() -> list[Column]:
    """The interval columns of a timeline row that asks nothing."""
    return [F.lit(None).cast("long").alias("start_us"), F.lit(None).cast("long").alias("end_us")]


def _visits(stays: DataFrame) -> DataFrame:
    """venue_id, person, start_us, end_us: each person's stays at a venue merged where they overlap or touch.

    A stay opens a new visit when it starts after every stay of the person
    that started before it has ended; RANGE frames on the start make stays with
    the same start share one decision, as in `jobs.trace.spark.tiers`.
    """
    ordered = Window.partitionBy("venue_id", "person").orderBy("start_us")
    reach = F.max("end_us").over(ordered.rangeBetween(Window.unboundedPreceding, -1))
    return (
        stays.withColumn("_opens", F.when(reach.isNull() | (F.col("start_us") > reach), 1).otherwise(0))
        .withColumn("_visit", F.sum("_opens").over(ordered.rangeBetween(Window.unboundedPreceding, 0)))
        .groupBy("venue_id", "person", "_visit")
        .agg(F.min("start_us").alias("start_us"), F.max("end_us").alias("end_us"))
        .drop("_visit")
    )


def _gaps(visits: DataFrame) -> DataFrame:
    """venue_id, leave_us, return_us: the time between two consecutive visits of a person (leave < return)."""
    following = F.lead("start_us").over(Window.partitionBy("venue_id", "person").orderBy("start_us"))
    return visits.select("venue_id", F.col("end_us").alias("leave_us"), following.alias("return_us")).filter(
        F.col("return_us").isNotNull()
    )


def _mark(frame: DataFrame, at: str, *, arrives: int = 0, leaves: int = 0, returns: int = 0) -> DataFrame:
    """One row of the venue's timeline per row of `frame`, at `at`, adding to the running counts it names."""
    return frame.select(
        "venue_id",
        F.col(at).alias("at_us"),
        F.lit(arrives).alias("arrives"),
        F.lit(leaves).alias("leaves"),
        F.lit(returns).alias("returns"),
        *_no_interval(),
    )


def _ask(intervals: DataFrame, at: str) -> DataFrame:
    """One row of the venue's timeline per interval, at its start or end, adding nothing."""
    return intervals.select(
        "venue_id",
        F.col(at).alias("at_us"),
        F.lit(0).alias("arrives"),
        F.lit(0).alias("leaves"),
        F.lit(0).alias("returns"),
        "start_us",
        "end_us",
    )


def _sweep(intervals: DataFrame, visits: DataFrame, gaps: DataFrame) -> DataFrame:
    """venue_id, start_us, end_us, met, returned: per interval, the visits meeting it and the gaps returned by its end.

    At an interval's end the running counts give the visits started and the
    gaps returned from at or before it; at its start, the visits ended strictly
    before it.
    """
    timeline = reduce(
        DataFrame.unionByName,
        [
            _mark(visits, "start_us", arrives=1),
            _mark(visits, "end_us", leaves=1),
            _mark(gaps, "return_us", returns=1),
            _ask(intervals, "start_us"),
            _ask(intervals, "end_us"),
        ],
    )
    by_time = Window.partitionBy("venue_id").orderBy("at_us")
    so_far = by_time.rangeBetween(Window.unboundedPreceding, 0)
    before = by_time.rangeBetween(Window.unboundedPreceding, -1)
    at_end = F.col("at_us") == F.col("end_us")
    at_start = F.col("at_us") == F.col("start_us")
    return (
        timeline.select(
            *_INTERVAL,
            "at_us",
            F.sum("arrives").over(so_far).alias("arrived"),
            F.coalesce(F.sum("leaves").over(before), F.lit(0)).alias("left"),
            F.sum("returns").over(so_far).alias("returned"),
        )
        .filter(F.col("start_us").isNotNull())
        .groupBy(*_INTERVAL)
        .agg(
            (F.max(F.when(at_end, F.col("arrived"))) - F.max(F.when(at_start, F.col("left")))).alias("met"),
            F.max(F.when(at_end, F.col("returned"))).alias("returned"),
        )
    )


def _levels(count: Column) -> Column:
    """0 up to the highest set bit of `count` (> 0): `bin` spells its bits exactly."""
    return F.sequence(F.lit(0), F.length(F.bin(count)) - 1)


def _gaps_inside(asked: DataFrame, gaps: DataFrame) -> DataFrame:
    """venue_id, start_us, end_us, inside: the gaps left at or after each interval's start and returned by its end.

    `asked` holds each interval's `returned`, the gaps of its venue returned by
    its end: the first `returned` gaps in order of return. At level k, gap i is
    in block i >> k; the first r gaps are, for each set bit k of r, block
    (r >> k) - 1 of level k. In each block a running count ordered by leave,
    latest first, gives the gaps left at or after the interval's start.
    """
    indexed = gaps.select(
        "venue_id",
        "leave_us",
        (F.row_number().over(Window.partitionBy("venue_id").orderBy("return_us")) - 1).alias("index"),
        F.count("*").over(Window.partitionBy("venue_id")).alias("gaps"),
    )
    stored = indexed.withColumn("level", F.explode(_levels(F.col("gaps")))).select(
        "venue_id",
        "level",
        F.expr("shiftright(index, level)").cast("long").alias("block"),
        F.col("leave_us").alias("at_us"),
        F.lit(1).alias("gap"),
        *_no_interval(),
    )
    questions = (
        asked.filter(F.col("returned") > 0)
        .withColumn("level", F.explode(_levels(F.col("returned"))))
        .filter(F.expr("shiftright(returned, level) & 1 = 1"))
        .select(
            "venue_id",
            "level",
            F.expr("shiftright(returned, level) - 1").cast("long").alias("block"),
            F.col("start_us").alias("at_us"),
            F.lit(0).alias("gap"),
            "start_us",
            "end_us",
        )
    )
    latest_first = (
        Window.partitionBy("venue_id", "level", "block")
        .orderBy(F.col("at_us").desc())
        .rangeBetween(Window.unboundedPreceding, 0)
    )
    return (
        stored.unionByName(questions)
        .select(*_INTERVAL, F.sum("gap").over(latest_first).alias("left_after"))
        .filter(F.col("start_us").isNotNull())
        .groupBy(*_INTERVAL)
        .agg(F.sum("left_after").alias("inside"))
    )


def with_venue_visitors(contacts: DataFrame, stays: DataFrame) -> DataFrame:
    """`contacts` with `venue_visitors` (long): people present during each venue exposure, null for Bluetooth."""
    intervals = contacts.filter(F.col("channel") == VENUE).select(*_INTERVAL).distinct()
    reach = intervals.groupBy("venue_id").agg(
        F.min("start_us").alias("reach_start"), F.max("end_us").alias("reach_end")
    )
    nearby = (
        stays.join(F.broadcast(reach), "venue_id")
        .filter((F.col("start_us") <= F.col("reach_end")) & (F.col("end_us") >= F.col("reach_start")))
        .select("venue_id", "person", "start_us", "end_us")
    )
    visits = _visits(nearby)
    gaps = _gaps(visits)
    met = _sweep(intervals, visits, gaps)
    people = met.join(_gaps_inside(met, gaps), _INTERVAL, "left").select(
        *_INTERVAL, (F.col("met") - F.coalesce(F.col("inside"), F.lit(0))).cast("long").alias("people")
    )
    present = people.select(*_INTERVAL, F.when(F.col("people") > 0, F.col("people")).alias("venue_visitors"))
    return contacts.join(present, _INTERVAL, "left")
