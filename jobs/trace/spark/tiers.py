"""Tiers in Spark: F0s expose F1s, F1s expose F2s, ... up to the rules' max_depth.

Each round judges exposures with the previous tier as sources and everyone
already tiered (F0 included, empty window or not) excluded as a target, so a
person keeps only the highest tier. A round's exposures and people are
checkpointed, not merely cached: the next round, the contact graph and the
per-person rows all read them, each round refers to the previous ones several
times, and without cutting the lineage the query plans (and Spark's planning
time) grow exponentially with the depth.
"""

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs.trace.engines import CONFIRMED
from jobs.trace.parameters import TraceParams
from jobs.trace.spark.ble_exposure import ble_exposures
from jobs.trace.spark.candidates import Candidates
from jobs.trace.spark.crowding import with_venue_visitors
from jobs.trace.spark.frames import driver_rows
from jobs.trace.spark.raw_events import SparkInputs
from jobs.trace.spark.venue_exposure import venue_exposures

_ROUND_COLUMNS = (
    "source string, target string, channel string, venue_id string, start_us long, end_us long, "
    "os_pair string, rssi_mean double, rssi_max int, imputed_checkout boolean, source_depth int, target_depth int"
)


@dataclass(frozen=True)
class SparkTiers:
    contacts: DataFrame
    """CONTACT_ROWS: every exposure of every round."""
    exposed: DataFrame
    """EXPOSED_ROWS: one row per exposed person."""


def _next_tier(
    exposures: DataFrame, sources: DataFrame, isolations: DataFrame, depth: int, params: TraceParams
) -> DataFrame:
    """person, depth, window_start_us, window_end_us, cases for the people a round exposed.

    The window opens at the earliest exposure and closes at isolation, else the
    end of D; the root cases are the sources' own cases (an F0's case is itself).
    """
    windows = exposures.groupBy(F.col("target").alias("person")).agg(F.min("start_us").alias("window_start_us"))
    cases = (
        exposures.select(F.col("source").alias("person"), F.col("target")).distinct()
        .join(sources.select("person", "cases"), "person")
        .select("target", F.explode("cases").alias("case"))
        .groupBy(F.col("target").alias("person"))
        .agg(F.array_sort(F.collect_set("case")).alias("cases"))
    )
    return (
        windows.join(isolations, "person", "left")
        .join(cases, "person")
        .select(
            "person",
            F.lit(depth).alias("depth"),
            "window_start_us",
            F.coalesce(F.col("isolated_at_us"), F.lit(params.end_of_day_us)).alias("window_end_us"),
            "cases",
        )
    )


def _union_length(contacts: DataFrame) -> DataFrame:
    """target, union_us: the length of the union of each person's exposure intervals.

    An interval opens a new island when it starts after every interval that
    started before it has ended. RANGE frames on the start make intervals with
    the same start share one decision, so ties cannot be split by sort order.
    """
    ordered = Window.partitionBy("target").orderBy("start_us")
    reach = F.max("end_us").over(ordered.rangeBetween(Window.unboundedPreceding, -1))
    islands = (
        contacts.select("target", "start_us", "end_us")
        .withColumn("_opens", F.when(reach.isNull() | (F.col("start_us") > reach), 1).otherwise(0))
        .withColumn("_island", F.sum("_opens").over(ordered.rangeBetween(Window.unboundedPreceding, 0)))
        .groupBy("target", "_island")
        .agg((F.max("end_us") - F.min("start_us")).alias("span_us"))
    )
    return islands.groupBy("target").agg(F.sum("span_us").alias("union_us"))


def _exposed(contacts: DataFrame, people: DataFrame) -> DataFrame:
    per_person = contacts.groupBy("target").agg(
        F.min("start_us").alias("first_us"),
        F.max("end_us").alias("last_us"),
        F.array_sort(F.collect_set("channel")).alias("channels"),
        F.array_sort(F.collect_set("source")).alias("sources"),
        F.array_sort(F.collect_set("venue_id")).alias("venue_ids"),
        F.bool_and("imputed_checkout").alias("imputed_checkout"),
    )
    return (
        per_person.join(_union_length(contacts), "target")
        .join(people.select(F.col("person").alias("target"), "depth", "cases"), "target")
        .select(
            F.col("target").alias("person"),
            "depth",
            "first_us",
            "last_us",
            "union_us",
            "channels",
            "sources",
            "cases",
            "venue_ids",
            "imputed_checkout",
        )
    )


def trace_tiers(
    spark: SparkSession, inputs: SparkInputs, cases: DataFrame, params: TraceParams, *, prune: bool = True
) -> SparkTiers:
    """Each round reads only the stays and sightings near its sources (`jobs.trace.spark.candidates`), unless
    `prune` is off."""
    candidates = Candidates(inputs, params, prune=prune)
    calendar = driver_rows(spark, "day date, day_start_us long, day_end_us long", params.calendar())
    isolations = cases.filter(F.col("isolated_at_us").isNotNull()).select("person", "isolated_at_us")
    f0 = cases.filter(F.col("status") == CONFIRMED)
    tiered = f0.select("person")
    sources = f0.filter(F.col("window_end_us") > F.col("window_start_us")).select(
        "person", "window_start_us", "window_end_us", F.array("person").alias("cases")
    )
    rounds: list[DataFrame] = []
    people: list[DataFrame] = []
    for depth in range(1, params.max_depth + 1):
        rows = candidates.for_round(sources)
        exposures = (
            venue_exposures(rows.source_stays, rows.target_stays, sources, tiered, params)
            .unionByName(
                ble_exposures(rows.sightings, sources, tiered, calendar, params)
                .withColumn("imputed_checkout", F.lit(False))
            )
            .withColumn("source_depth", F.lit(depth - 1))
            .withColumn("target_depth", F.lit(depth))
            .localCheckpoint()
        )
        if exposures.isEmpty():
            break
        tier = _next_tier(exposures, sources, isolations, depth, params).localCheckpoint()
        rounds.append(exposures)
        people.append(tier)
        tiered = tiered.unionByName(tier.select("person"))
        sources = tier.filter(F.col("window_end_us") > F.col("window_start_us")).select(
            "person", "window_start_us", "window_end_us", "cases"
        )
    if not rounds:
        empty = driver_rows(spark, _ROUND_COLUMNS)
        empty_people = driver_rows(spark, "person string, depth int, cases array<string>")
        return SparkTiers(
            contacts=with_venue_visitors(empty, candidates.visitor_stays()), exposed=_exposed(empty, empty_people)
        )
    contacts = rounds[0]
    everyone = people[0].select("person", "depth", "cases")
    for more, tier in zip(rounds[1:], people[1:], strict=True):
        contacts = contacts.unionByName(more)
        everyone = everyone.unionByName(tier.select("person", "depth", "cases"))
    return SparkTiers(
        contacts=with_venue_visitors(contacts, candidates.visitor_stays()), exposed=_exposed(contacts, everyone)
    )
