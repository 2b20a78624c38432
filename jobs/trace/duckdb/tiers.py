"""Tiers in DuckDB (twin of jobs/trace/spark/tiers.py): rounds of exposures, then one row per exposed person."""

import duckdb

from jobs.trace.duckdb.candidates import Candidates
from jobs.trace.duckdb.crowding import count_venue_visitors
from jobs.trace.duckdb.exposures import judge_round
from jobs.trace.parameters import TraceParams

_FIRST_ROUND = """
CREATE OR REPLACE TEMP TABLE tiered AS SELECT person FROM cases WHERE status = 'confirmed';
CREATE OR REPLACE TEMP TABLE sources AS
SELECT person, window_start_us, window_end_us, [person] AS cases
FROM cases WHERE status = 'confirmed' AND window_end_us > window_start_us;
CREATE OR REPLACE TEMP TABLE contacts (
    source VARCHAR, source_depth INTEGER, target VARCHAR, target_depth INTEGER,
    channel VARCHAR, venue_id VARCHAR, start_us BIGINT, end_us BIGINT,
    os_pair VARCHAR, rssi_mean DOUBLE, rssi_max INTEGER, imputed_checkout BOOLEAN
);
CREATE OR REPLACE TEMP TABLE people (person VARCHAR, depth INTEGER, cases VARCHAR[]);
"""

def next_tier_select(exposures: str, sources: str) -> str:
    """The tier a round's `exposures` (source, target, start_us) make of its `sources` (person, cases):
    a window from each target's first exposure to its isolation or the end of D, and its sources' root cases.

    Its WITH clause names `isolations` too, for a query that continues it (the on-case trace's).
    """
    return f"""
WITH windows AS (
    SELECT target AS person, min(start_us) AS window_start_us FROM {exposures} GROUP BY target
), roots AS (
    SELECT e.target AS person, list_sort(list(DISTINCT c.root)) AS cases
    FROM (SELECT DISTINCT source, target FROM {exposures}) e
    JOIN (SELECT person, unnest(cases) AS root FROM {sources}) c ON c.person = e.source
    GROUP BY e.target
), isolations AS (
    SELECT person, isolated_at_us FROM cases WHERE isolated_at_us IS NOT NULL
)
SELECT w.person, w.window_start_us, coalesce(i.isolated_at_us, $end_of_day_us) AS window_end_us, r.cases
FROM windows w LEFT JOIN isolations i USING (person) JOIN roots r USING (person)"""


_NEXT_TIER = "CREATE OR REPLACE TEMP TABLE tier AS " + next_tier_select("round_exposures", "sources")

_ADVANCE = (
    """INSERT INTO contacts
    SELECT source, CAST($depth AS INTEGER) - 1, target, CAST($depth AS INTEGER), channel, venue_id, start_us, end_us,
           os_pair, rssi_mean, rssi_max, imputed_checkout
    FROM round_exposures""",
    "INSERT INTO people SELECT person, CAST($depth AS INTEGER), cases FROM tier",
)

_NEXT_SOURCES = """
INSERT INTO tiered SELECT person FROM tier;
CREATE OR REPLACE TEMP TABLE sources AS
SELECT person, window_start_us, window_end_us, cases FROM tier WHERE window_end_us > window_start_us;
"""

EXPOSED = """
WITH ordered AS (
    SELECT target, start_us, end_us,
           max(end_us) OVER (PARTITION BY target ORDER BY start_us
                             RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM contacts
), islands AS (
    SELECT target, start_us, end_us,
           sum(CASE WHEN reach IS NULL OR start_us > reach THEN 1 ELSE 0 END)
               OVER (PARTITION BY target ORDER BY start_us
                     RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS island
    FROM ordered
), union_lengths AS (
    SELECT target, CAST(sum(span_us) AS BIGINT) AS union_us FROM (
        SELECT target, max(end_us) - min(start_us) AS span_us FROM islands GROUP BY target, island
    ) GROUP BY target
), per_person AS (
    SELECT target, min(start_us) AS first_us, max(end_us) AS last_us,
           list_sort(list(DISTINCT channel)) AS channels,
           list_sort(list(DISTINCT source)) AS sources,
           coalesce(list_sort(list(DISTINCT venue_id) FILTER (WHERE venue_id IS NOT NULL)), []) AS venue_ids,
           bool_and(imputed_checkout) AS imputed_checkout
    FROM contacts GROUP BY target
)
SELECT p.target AS person, pe.depth, p.first_us, p.last_us, u.union_us,
       p.channels, p.sources, pe.cases, p.venue_ids, p.imputed_checkout
FROM per_person p JOIN union_lengths u USING (target) JOIN people pe ON pe.person = p.target
"""


def trace_tiers(con: duckdb.DuckDBPyConnection, params: TraceParams, *, prune: bool = True) -> None:
    """Fill `contacts` (all rounds, with their venue's visitors) and `people` (person, depth, cases) from `cases`.

    Each round reads only the stays and sightings near its sources (`jobs.trace.duckdb.candidates`), unless
    `prune` is off.
    """
    con.register("calendar", params.calendar())
    con.execute(_FIRST_ROUND)
    candidates = Candidates(con, params, prune=prune)
    for depth in range(1, params.max_depth + 1):
        candidates.for_round()
        if judge_round(con, params) == 0:
            break
        con.execute(_NEXT_TIER, {"end_of_day_us": params.end_of_day_us})
        for statement in _ADVANCE:
            con.execute(statement, {"depth": depth})
        con.execute(_NEXT_SOURCES)
    con.unregister("calendar")
    count_venue_visitors(con)
