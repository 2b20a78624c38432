"""The rows one round of exposures can use, in DuckDB (twin of jobs/trace/spark/candidates.py).

Fills `stays` and `sightings` for the round's `sources` from the views of
`jobs.trace.duckdb.raw_events`, and adds to `visitor_stays`, which crowding
counts over (`jobs.trace.duckdb.crowding`). Pruning keeps exactly the rows a
round and crowding can read:

- a source's exposing stay is one of its own stays: every stay of a source;
- a target's stay must meet an exposing source stay at its venue, so it
  meets the span (`reach`) of that venue's exposing source stays, clipped to
  the sources' windows with the linger, exactly as `jobs.trace.duckdb.exposures`
  clips them; every stay at a venue that meets its reach is kept, whoever's
  and whatever its tier, since crowding counts everyone;
- crowding counts the people with a stay meeting an exposure's interval,
  which lies inside the reach of its venue in the round that found it
  (it is a clipped source stay cut by a target's), so such a stay is among
  that round's stays near the sources;
- a sighting feeds a round only when a source is on one side of it.

De-duplication needs no care here: the views keep only first copies, judged
against every usable row (`jobs.trace.duckdb.raw_events`).
"""

import duckdb

from jobs.trace.parameters import TraceParams

_EVERY_ROW = (
    "CREATE OR REPLACE TEMP VIEW stays AS SELECT * FROM all_stays",
    "CREATE OR REPLACE TEMP VIEW sightings AS SELECT * FROM all_sightings",
    "CREATE OR REPLACE TEMP VIEW visitor_stays AS SELECT * FROM all_stays",
)

_NO_VISITORS = "CREATE OR REPLACE TEMP TABLE visitor_stays AS SELECT * FROM all_stays LIMIT 0"

_NEAR_SOURCES = (
    "CREATE OR REPLACE TEMP TABLE source_stays AS SELECT * FROM all_stays WHERE person IN (SELECT person FROM sources)",
    """CREATE OR REPLACE TEMP TABLE nearby_stays AS
    WITH clipped AS (
        SELECT st.venue_id, greatest(st.start_us, s.window_start_us) AS s_start,
               least(st.end_us + $linger_us, s.window_end_us) AS s_end
        FROM source_stays st JOIN sources s ON st.person = s.person
    ), reach AS (
        SELECT venue_id, min(s_start) AS reach_start, max(s_end) AS reach_end
        FROM clipped WHERE s_end - s_start >= $min_overlap_us GROUP BY venue_id
    )
    SELECT st.* FROM all_stays st JOIN reach r USING (venue_id)
    WHERE st.start_us <= r.reach_end AND st.end_us >= r.reach_start""",
    "CREATE OR REPLACE TEMP TABLE stays AS SELECT * FROM source_stays UNION SELECT * FROM nearby_stays",
    "INSERT INTO visitor_stays SELECT * FROM nearby_stays",
    """CREATE OR REPLACE TEMP TABLE sightings AS
    SELECT * FROM all_sightings
    WHERE reporter IN (SELECT person FROM sources) OR contact IN (SELECT person FROM sources)""",
)


class Candidates:
    """Per round, the stays and sightings its sources can meet (`prune`), or every row (to check that pruning
    changes nothing)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, params: TraceParams, *, prune: bool = True) -> None:
        self.con = con
        self.params = params
        self.prune = prune
        for statement in (_NO_VISITORS,) if prune else _EVERY_ROW:
            con.execute(statement)

    def for_round(self) -> None:
        """Fill `stays` and `sightings` for the current `sources`; add the stays near them to `visitor_stays`."""
        if not self.prune:
            return
        parameters = {"linger_us": self.params.linger_us, "min_overlap_us": self.params.min_overlap_us}
        for statement in _NEAR_SOURCES:
            self.con.execute(statement, parameters if "$" in statement else {})
