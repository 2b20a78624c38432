"""One round of exposures in DuckDB (twin of jobs/trace/spark/venue_exposure.py and jobs/trace/spark/ble_exposure.py).

Reads `sources` (person, window_start_us, window_end_us: non-empty windows),
`tiered` (person: never a target), `stays` and `sightings` (the round's
candidates, `jobs.trace.duckdb.candidates`) and `calendar`; fills
`round_exposures`. A plain range join on the venue is enough for DuckDB.
"""

import duckdb

from jobs.trace.duckdb.sql import scalar
from jobs.trace.parameters import TraceParams

_ROUND = """
CREATE OR REPLACE TEMP TABLE round_exposures AS
WITH source_stays AS (
    SELECT s.person AS source, st.venue_id,
           greatest(st.start_us, s.window_start_us) AS s_start,
           least(st.end_us + $linger_us, s.window_end_us) AS s_end, st.imputed
    FROM stays st JOIN sources s ON st.person = s.person
), exposing_stays AS (
    SELECT * FROM source_stays WHERE s_end - s_start >= $min_overlap_us
), target_stays AS (
    SELECT * FROM stays st
    WHERE st.end_us >= $range_start_us AND NOT EXISTS (SELECT 1 FROM tiered t WHERE t.person = st.person)
), venue AS (
    SELECT src.source, t.person AS target, 'venue' AS channel, src.venue_id,
           greatest(src.s_start, t.start_us) AS start_us, least(src.s_end, t.end_us) AS end_us,
           CAST(NULL AS VARCHAR) AS os_pair, CAST(NULL AS DOUBLE) AS rssi_mean, CAST(NULL AS INTEGER) AS rssi_max,
           src.imputed OR t.imputed AS imputed_checkout
    FROM exposing_stays src JOIN target_stays t
      ON t.venue_id = src.venue_id AND t.start_us <= src.s_end AND t.end_us >= src.s_start
    WHERE t.person <> src.source
), oriented AS (
    SELECT reporter AS source, contact AS target, observed_us, rssi, reporter_os AS source_os, contact_os AS target_os
    FROM sightings WHERE reporter IN (SELECT person FROM sources)
    UNION ALL
    SELECT contact AS source, reporter AS target, observed_us, rssi, contact_os AS source_os, reporter_os AS target_os
    FROM sightings WHERE contact IN (SELECT person FROM sources)
), candidates AS (
    SELECT * FROM oriented o
    WHERE o.source <> o.target AND NOT EXISTS (SELECT 1 FROM tiered t WHERE t.person = o.target)
), marked AS (
    SELECT source, target, observed_us, rssi, source_os, target_os,
           CASE WHEN observed_us - max(observed_us) OVER (
                    PARTITION BY source, target ORDER BY observed_us
                    RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) <= $merge_gap_us
                THEN 0 ELSE 1 END AS opens
    FROM candidates
), numbered AS (
    SELECT source, target, observed_us, rssi, source_os, target_os,
           sum(opens) OVER (PARTITION BY source, target ORDER BY observed_us
                            RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS encounter
    FROM marked
), encounters AS (
    SELECT source, target, min(observed_us) AS first_us, max(observed_us) AS last_us,
           min(source_os) || '-' || min(target_os) AS os_pair, avg(rssi) AS rssi_mean, max(rssi) AS rssi_max
    FROM numbered GROUP BY source, target, encounter
), clipped AS (
    SELECT * FROM (
        SELECT e.source, e.target, e.os_pair, e.rssi_mean, e.rssi_max,
               greatest(e.first_us, s.window_start_us) AS clip_start,
               least(e.last_us, s.window_end_us) AS clip_end
        FROM encounters e JOIN sources s ON s.person = e.source
    ) WHERE clip_start < clip_end
), pieces AS (
    SELECT c.source, c.target, c.os_pair, c.rssi_mean, c.rssi_max, d.day,
           greatest(c.clip_start, d.day_start_us) AS start_us,
           least(c.clip_end, d.day_end_us) AS end_us
    FROM clipped c JOIN calendar d ON d.day_start_us < c.clip_end AND d.day_end_us > c.clip_start
), ble AS (
    SELECT source, target, 'ble' AS channel, CAST(NULL AS VARCHAR) AS venue_id, start_us, end_us,
           os_pair, rssi_mean, rssi_max, false AS imputed_checkout
    FROM pieces
    QUALIFY sum(end_us - start_us) OVER (PARTITION BY source, target, day) >= $min_cumulative_us
)
SELECT source, target, channel, venue_id, start_us, end_us, os_pair, rssi_mean, rssi_max, imputed_checkout
FROM venue WHERE end_us - start_us >= $min_overlap_us
UNION ALL
SELECT source, target, channel, venue_id, start_us, end_us, os_pair, rssi_mean, rssi_max, imputed_checkout FROM ble
"""


def judge_round(con: duckdb.DuckDBPyConnection, params: TraceParams) -> int:
    """Fill `round_exposures` for the current `sources` and `tiered`; returns its row count."""
    con.execute(
        _ROUND,
        {
            "linger_us": params.linger_us,
            "range_start_us": params.range_start_us,
            "min_overlap_us": params.min_overlap_us,
            "merge_gap_us": params.merge_gap_us,
            "min_cumulative_us": params.min_cumulative_us,
        },
    )
    return scalar(con, "SELECT count(*) FROM round_exposures")
