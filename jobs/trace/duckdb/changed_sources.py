"""D's tiers again after new F0s, judging only the sources whose window is new or moved (the on-case trace).

Reads `cases` (as of now, `jobs.trace.duckdb.cases`), the published trace's
rows (`published_cases`, `published_contacts` in engine form with
`venue_visitors`, `published_people`: person, depth, window_start_us, cases)
and the views of `jobs.trace.duckdb.raw_events`. Fills `new_contacts` (the
exposures judged anew), `dropped_pairs` (the (target depth, source, target)
whose published rows all go, with how many), `touched` (whoever's exposed row
may differ from the published one), and `contacts`/`people` restricted to the
touched, for the full trace's `EXPOSED` query. D's exposures are then the
published ones without the dropped pairs' rows, with the new ones: the caller
merges them (`jobs.trace.merge`) without this connection copying them all.

Why rounds over the changed sources give the full trace's rows: an exposure
of round k depends only on its source's window, the two people's stays and
sightings, and the target not being tiered before round k. So, round by
round, a published row stays unless its source's window changed (or the
source left that tier) or its target is now tiered earlier; the rows of the
sources whose window is new or moved are judged again, with the same SQL as
the full trace (`judge_round`, `Candidates`, `count_venue_visitors`). A
person's window and root cases change only when one of their rows or one of
their sources' cases does. The one thing an addition cannot show is someone
leaving the tiers before round k: they would become a target of every
unchanged source, so `NotAnAddition` is raised and the caller traces D whole.
"""

import duckdb

from jobs.trace.duckdb.candidates import Candidates
from jobs.trace.duckdb.crowding import count_venue_visitors
from jobs.trace.duckdb.exposures import judge_round
from jobs.trace.duckdb.sql import scalar
from jobs.trace.duckdb.tiers import next_tier_select
from jobs.trace.parameters import TraceParams


class NotAnAddition(Exception):
    """What changed since the published trace is not only new F0s: D must be traced whole (the message says why)."""


_CHANGED_CASES = """
CREATE OR REPLACE TEMP TABLE changed_cases AS
SELECT coalesce(n.person, o.person) AS person, n.status AS status, o.status AS published_status
FROM cases n FULL OUTER JOIN published_cases o USING (person)
WHERE n.status IS DISTINCT FROM o.status OR n.window_start_us IS DISTINCT FROM o.window_start_us
   OR n.window_end_us IS DISTINCT FROM o.window_end_us OR n.isolated_at_us IS DISTINCT FROM o.isolated_at_us
"""

_PUBLISHED_TIERED = """
SELECT person FROM published_cases WHERE status = 'confirmed' UNION SELECT person FROM published_people
"""

_CONFLICTS = f"""
SELECT count(*) FROM changed_cases c
WHERE NOT (c.status = 'confirmed' AND c.published_status IS DISTINCT FROM 'confirmed')
  AND c.person IN ({_PUBLISHED_TIERED})
"""
"""Changed case rows of people the published trace tiered, other than their becoming F0: a retraction, a
moved window, an isolation of a tiered person."""

_START = """
CREATE OR REPLACE TEMP TABLE tiered (person VARCHAR);
CREATE OR REPLACE TEMP TABLE tiered_before (person VARCHAR);
CREATE OR REPLACE TEMP TABLE touched (person VARCHAR);
CREATE OR REPLACE TEMP TABLE people (person VARCHAR, depth INTEGER, cases VARCHAR[]);
CREATE OR REPLACE TEMP TABLE kept_contacts AS SELECT * FROM published_contacts LIMIT 0;
CREATE OR REPLACE TEMP TABLE dropped_pairs (target_depth INTEGER, source VARCHAR, target VARCHAR, "rows" BIGINT);
CREATE OR REPLACE TEMP TABLE new_contacts (
    source VARCHAR, source_depth INTEGER, target VARCHAR, target_depth INTEGER,
    channel VARCHAR, venue_id VARCHAR, start_us BIGINT, end_us BIGINT,
    os_pair VARCHAR, rssi_mean DOUBLE, rssi_max INTEGER, imputed_checkout BOOLEAN
);
CREATE OR REPLACE TEMP TABLE layer AS
SELECT person, window_start_us, window_end_us, [person] AS cases FROM cases WHERE status = 'confirmed';
CREATE OR REPLACE TEMP TABLE published_layer AS
SELECT person, window_start_us, window_end_us, [person] AS cases FROM published_cases WHERE status = 'confirmed';
"""
"""`layer`: depth k-1 as of now (F0s first); `published_layer`: the same depth as published."""

_ROUND = (
    "INSERT INTO tiered SELECT person FROM layer",
    "INSERT INTO tiered_before SELECT person FROM published_layer",
    """CREATE OR REPLACE TEMP TABLE stale AS
    SELECT person FROM (SELECT person, window_start_us, window_end_us FROM published_layer
                        EXCEPT SELECT person, window_start_us, window_end_us FROM layer)""",
    """CREATE OR REPLACE TEMP TABLE sources AS
    SELECT n.person, n.window_start_us, n.window_end_us, n.cases FROM layer n
    WHERE n.window_end_us > n.window_start_us AND NOT EXISTS (
        SELECT 1 FROM published_layer o WHERE o.person = n.person
          AND o.window_start_us IS NOT DISTINCT FROM n.window_start_us
          AND o.window_end_us IS NOT DISTINCT FROM n.window_end_us)""",
    """CREATE OR REPLACE TEMP TABLE new_roots AS
    SELECT person FROM (SELECT person, cases FROM layer EXCEPT SELECT person, cases FROM published_layer)""",
    """CREATE OR REPLACE TEMP TABLE round_published AS
    SELECT *, source IN (SELECT person FROM stale) OR target IN (SELECT person FROM tiered) AS dropped
    FROM published_contacts WHERE target_depth = $depth""",
)
"""Before judging round k: who is tiered, whose published rows of round k go (`stale` sources, targets
tiered earlier now), who is judged again (`sources`), whose root cases changed (`new_roots`)."""

_LEFT_TIERS = "SELECT count(*) FROM tiered_before WHERE person NOT IN (SELECT person FROM tiered)"

_NO_ROUND = """
CREATE OR REPLACE TEMP TABLE round_exposures AS
SELECT source, target, channel, venue_id, start_us, end_us, os_pair, rssi_mean, rssi_max, imputed_checkout
FROM new_contacts LIMIT 0
"""
"""`judge_round`'s result when no source of the round changed."""

_ADVANCE = (
    """CREATE OR REPLACE TEMP TABLE round_touched AS
    SELECT target AS person FROM round_published WHERE dropped OR source IN (SELECT person FROM new_roots)
    UNION SELECT target FROM round_exposures""",
    """INSERT INTO new_contacts
    SELECT source, CAST($depth AS INTEGER) - 1, target, CAST($depth AS INTEGER), channel, venue_id, start_us, end_us,
           os_pair, rssi_mean, rssi_max, imputed_checkout
    FROM round_exposures""",
    """INSERT INTO kept_contacts SELECT * EXCLUDE (dropped) FROM round_published
    WHERE NOT dropped AND target IN (SELECT person FROM round_touched)""",
    """INSERT INTO dropped_pairs SELECT target_depth, source, target, count(*) FROM round_published
    WHERE dropped GROUP BY ALL""",
    """CREATE OR REPLACE TEMP TABLE round_rows AS
    SELECT source, target, start_us FROM round_published
    WHERE NOT dropped AND target IN (SELECT person FROM round_touched)
    UNION ALL SELECT source, target, start_us FROM round_exposures""",
    "CREATE OR REPLACE TEMP TABLE next_layer AS "
    + next_tier_select("round_rows", "layer")
    + """
    UNION ALL
    SELECT p.person, p.window_start_us, coalesce(i.isolated_at_us, $end_of_day_us), p.cases
    FROM published_people p LEFT JOIN isolations i USING (person)
    WHERE p.depth = $depth AND p.person NOT IN (SELECT person FROM round_touched)""",
    "INSERT INTO touched SELECT person FROM round_touched",
    """INSERT INTO people SELECT person, CAST($depth AS INTEGER), cases FROM next_layer
    WHERE person IN (SELECT person FROM round_touched)""",
    """CREATE OR REPLACE TEMP TABLE published_layer AS
    SELECT p.person, p.window_start_us, coalesce(c.isolated_at_us, $end_of_day_us) AS window_end_us, p.cases
    FROM published_people p LEFT JOIN published_cases c USING (person) WHERE p.depth = $depth""",
    "CREATE OR REPLACE TEMP TABLE layer AS SELECT * FROM next_layer",
)
"""After round k: the targets whose row may change, the round's rows new, kept (of those targets: all that
`contacts` needs) and dropped, and depth k as of now (judged again for the touched, as published for the rest)
and as published. A published row is dropped with every row of its (source, target) in the round: the reasons,
a stale source and a target tiered earlier, are the pair's."""

_FINISH = (
    "CREATE OR REPLACE TEMP TABLE touched AS SELECT DISTINCT person FROM touched",
    """CREATE OR REPLACE TEMP TABLE contacts AS
    SELECT * FROM (SELECT * FROM kept_contacts UNION ALL SELECT * FROM new_contacts)
    WHERE target IN (SELECT person FROM people)""",
)


def _execute(con: duckdb.DuckDBPyConnection, statement: str, values: dict[str, int]) -> None:
    """`statement` with the values it names (DuckDB refuses named values a statement does not use)."""
    con.execute(statement, {name: value for name, value in values.items() if f"${name}" in statement})


def new_cases(con: duckdb.DuckDBPyConnection) -> int:
    """How many people are F0 now and were not in the published trace; raises `NotAnAddition` when any other
    case row of a person it tiered changed."""
    con.execute(_CHANGED_CASES)
    conflicts = scalar(con, _CONFLICTS)
    if conflicts:
        raise NotAnAddition(
            f"{conflicts} person(s) the published trace tiered changed case status, window or isolation "
            "other than by becoming F0"
        )
    return scalar(
        con, "SELECT count(*) FROM changed_cases WHERE status = 'confirmed' AND published_status IS DISTINCT FROM "
        "'confirmed'"
    )


def trace_changed_sources(con: duckdb.DuckDBPyConnection, params: TraceParams) -> int:
    """Fill `new_contacts`, `dropped_pairs`, `touched`, `contacts` and `people` (see the module); returns the
    exposures judged anew.

    Raises `NotAnAddition` when someone the published trace tiered before a round is no longer tiered then.
    """
    con.register("calendar", params.calendar())
    con.execute(_START)
    candidates = Candidates(con, params)
    for depth in range(1, params.max_depth + 1):
        values = {"depth": depth, "end_of_day_us": params.end_of_day_us}
        for statement in _ROUND:
            _execute(con, statement, values)
        left = scalar(con, _LEFT_TIERS)
        if left:
            raise NotAnAddition(f"{left} person(s) the published trace tiered before round {depth} no longer are")
        if scalar(con, "SELECT count(*) FROM sources"):
            candidates.for_round()
            judge_round(con, params)
        else:
            con.execute(_NO_ROUND)
        for statement in _ADVANCE:
            _execute(con, statement, values)
    con.unregister("calendar")
    count_venue_visitors(con, "new_contacts")
    for statement in _FINISH:
        con.execute(statement)
    return scalar(con, "SELECT count(*) FROM new_contacts")
