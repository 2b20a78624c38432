"""People at the venue during each venue exposure, in DuckDB (twin of spark/crowding.py): a plain range join."""

import duckdb

_VISITORS = """
CREATE OR REPLACE TEMP TABLE {table} AS
WITH intervals AS (
    SELECT DISTINCT venue_id, start_us, end_us FROM {table} WHERE channel = 'venue'
), present AS (
    SELECT i.venue_id, i.start_us, i.end_us, CAST(count(DISTINCT s.person) AS BIGINT) AS venue_visitors
    FROM intervals i JOIN visitor_stays s
      ON s.venue_id = i.venue_id AND s.start_us <= i.end_us AND s.end_us >= i.start_us
    GROUP BY i.venue_id, i.start_us, i.end_us
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
