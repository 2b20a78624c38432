"""The rows one round of exposures can use, in Spark: read again from the files for each round's sources.

Pruning keeps exactly the rows a round and crowding can read:

- a source's exposing stay is one of its own stays: every stay of a source
  (`source_stays`);
- a target's stay must meet an exposing source stay at its venue, so it
  meets the span (`reach`) of that venue's exposing source stays, clipped to
  the sources' windows with the linger, exactly as
  `jobs.trace.spark.venue_exposure` clips them: every stay at a venue that
  meets its reach is kept (`target_stays`), whoever's and whatever its tier,
  since crowding counts everyone;
- crowding counts the people with a stay meeting an exposure's interval,
  which lies inside the reach of its venue in the round that found it (a
  clipped source stay cut by a target's), so such a stay is among that
  round's target stays (`visitor_stays`); counting distinct people, it is
  not disturbed by stays outside every interval or by a stay kept twice;
- a sighting feeds a round only when a source is on one side of it, oriented
  from the source (`sightings`).

De-duplication needs no care here: `jobs.trace.spark.raw_events` keeps only
first copies, judged against every usable row. Each round's rows are
checkpointed: the round reads them several times, and they are few.
"""

from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.trace.parameters import TraceParams
from jobs.trace.spark.raw_events import SparkInputs
from jobs.trace.spark.venue_exposure import exposing_stays, reach, within_reach


@dataclass(frozen=True)
class RoundRows:
    source_stays: DataFrame
    """Every stay of the round's sources (person, venue_id, start_us, end_us, imputed)."""
    target_stays: DataFrame
    """At least every stay meeting the reach of the sources' exposing stays at its venue."""
    sightings: DataFrame
    """source, target, observed_us, rssi, source_os, target_os: every close sighting with a source on one side,
    once per source in it."""


def _oriented(sightings: DataFrame, sources: DataFrame) -> DataFrame:
    """Each sighting from either side, kept where that side is a source: one pass over the sightings."""

    def side(source: str, target: str) -> Column:
        return F.struct(
            F.col(source).alias("source"), F.col(target).alias("target"), "observed_us", "rssi",
            F.col(f"{source}_os").alias("source_os"), F.col(f"{target}_os").alias("target_os"),
        )

    both = sightings.select(F.explode(F.array(side("reporter", "contact"), side("contact", "reporter"))).alias("o"))
    people = F.broadcast(sources.select("person"))
    return both.select("o.*").join(people, F.col("source") == people.person, "left_semi")


class Candidates:
    """Per round, the stays and sightings its sources can meet (`prune`), or every row, read once and cached
    (to check that pruning changes nothing)."""

    def __init__(self, inputs: SparkInputs, params: TraceParams, *, prune: bool = True) -> None:
        self.params = params
        self.prune = prune
        self.stays = inputs.stays if prune else inputs.stays.localCheckpoint()
        self.sightings = inputs.sightings if prune else inputs.sightings.localCheckpoint()
        self._near: list[DataFrame] = []

    def for_round(self, sources: DataFrame) -> RoundRows:
        """`sources`: person, window_start_us, window_end_us (non-empty windows)."""
        sightings = _oriented(self.sightings, sources)
        if not self.prune:
            return RoundRows(self.stays, self.stays, sightings)
        people = F.broadcast(sources.select("person"))
        source_stays = self.stays.join(people, "person", "left_semi").localCheckpoint()
        near = (
            within_reach(self.stays, reach(exposing_stays(source_stays, sources, self.params)))
            .select(*self.stays.columns)
            .localCheckpoint()
        )
        self._near.append(near)
        return RoundRows(source_stays, near, sightings.localCheckpoint())

    def visitor_stays(self) -> DataFrame:
        """At least every stay meeting an exposure of the rounds so far (`for_round`)."""
        if not self.prune:
            return self.stays
        return reduce(DataFrame.unionByName, self._near, self.stays.limit(0))
