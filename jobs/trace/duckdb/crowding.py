"""People at the venue during each venue exposure, in DuckDB (twin of spark/crowding.py).

The count is every person with a stay at the venue meeting the exposure's
interval, both ends included. Pairing each interval with every stay at its
venue costs intervals × stays, which at the busy venues of a province is more
rows than memory holds. As in Spark's twin, a person's stays at a venue are
merged into visits (stays that overlap or touch make one), and for an interval
[s, e] (s <= e, as for every exposure):

    people = visits started by e - visits ended before s - gaps left at or after s and returned by e

The first two terms are running counts per venue, read with ASOF joins; the
last takes each person counted m times back to once (m visits meeting the
interval have m - 1 gaps inside it). Only gaps are paired with intervals, and a
person leaves and comes back to one venue far less often than they visit it.
"""

import duckdb

_VISITORS = """
CREATE OR REPLACE TEMP TABLE {table} AS
WITH intervals AS (
    SELECT DISTINCT venue_id, start_us, end_us FROM {table} WHERE channel = 'venue'
), ordered AS (
    SELECT venue_id, person, start_us, end_us,
           max(end_us) OVER (PARTITION BY venue_id, person ORDER BY start_us, end_us
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM visitor_stays
    WHERE venue_id IN (SELECT venue_id FROM intervals)
), numbered AS (
    SELECT venue_id, person, start_us, end_us,
           sum(CASE WHEN reach IS NULL OR start_us > reach THEN 1 ELSE 0 END)
               OVER (PARTITION BY venue_id, person ORDER BY start_us, end_us ROWS UNBOUNDED PRECEDING) AS visit
    FROM ordered
), visits AS (
    SELECT venue_id, person, min(start_us) AS arrived_us, max(end_us) AS left_us
    FROM numbered GROUP BY venue_id, person, visit
), arrivals AS (
    SELECT venue_id, arrived_us, sum(count(*)) OVER (PARTITION BY venue_id ORDER BY arrived_us) AS arrived
    FROM visits GROUP BY venue_id, arrived_us
), departures AS (
    SELECT venue_id, left_us, sum(count(*)) OVER (PARTITION BY venue_id ORDER BY left_us) AS departed
    FROM visits GROUP BY venue_id, left_us
), gaps AS (
    SELECT * FROM (
        SELECT venue_id, left_us, lead(arrived_us) OVER (PARTITION BY venue_id, person ORDER BY arrived_us) AS back_us
        FROM visits
    ) WHERE back_us IS NOT NULL
), started AS (
    SELECT i.venue_id, i.start_us, i.end_us, coalesce(a.arrived, 0) AS arrived
    FROM intervals i ASOF LEFT JOIN arrivals a ON i.venue_id = a.venue_id AND i.end_us >= a.arrived_us
), meeting AS (
    SELECT s.venue_id, s.start_us, s.end_us, s.arrived - coalesce(d.departed, 0) AS visits
    FROM started s ASOF LEFT JOIN departures d ON s.venue_id = d.venue_id AND s.start_us > d.left_us
), inside AS (
    SELECT i.venue_id, i.start_us, i.end_us, count(*) AS gaps
    FROM intervals i JOIN gaps g
      ON g.venue_id = i.venue_id AND g.left_us >= i.start_us AND g.back_us <= i.end_us
    GROUP BY i.venue_id, i.start_us, i.end_us
), present AS (
    SELECT m.venue_id, m.start_us, m.end_us,
           CAST(nullif(m.visits - coalesce(g.gaps, 0), 0) AS BIGINT) AS venue_visitors
    FROM meeting m LEFT JOIN inside g
      ON g.venue_id = m.venue_id AND g.start_us = m.start_us AND g.end_us = m.end_us
)
SELECT c.*, p.venue_visitors
FROM {table} c LEFT JOIN present p
  ON p.venue_id = c.venue_id AND p.start_us = c.start_us AND p.end_us = c.end_us
"""


def count_venue_visitors(con: duckdb.DuckDBPyConnection, table: str = "contacts") -> None:
    """Add `venue_visitors` to `table` (null for Bluetooth), counted over `visitor_stays`: every stay near
    the rounds' sources (`jobs.trace.duckdb.candidates`), a superset of those meeting any exposure.

    `table` holds exposures of the rounds that filled `visitor_stays`: all of the day's (`contacts`), or only
    those of the sources an on-case trace judged again (`jobs.trace.duckdb.changed_sources`)."""
    con.execute(_VISITORS.format(table=table))
