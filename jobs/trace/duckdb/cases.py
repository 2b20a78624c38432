"""Case status as of the end of D, in DuckDB (twin of jobs/trace/spark/cases.py): table `cases`."""

import duckdb

from jobs.trace.parameters import TraceParams, midnights

_STATUSES = """
CREATE OR REPLACE TEMP TABLE statuses AS
WITH verdicts AS (
    SELECT person, kind AS verdict,
           CASE WHEN kind = 'confirmed' THEN
               CASE WHEN onset_date IS NOT NULL THEN onset_date - CAST($days_before_onset AS INTEGER)
                    ELSE sample_date - CAST($days_before_sample AS INTEGER) END
           END AS window_start_day
    FROM reports
    WHERE kind IN ('confirmed', 'discarded')
    QUALIFY row_number() OVER (
        PARTITION BY person
        ORDER BY reported_us DESC, (kind = 'confirmed') DESC, landed_order DESC, kafka_partition DESC, kafka_offset DESC
    ) = 1
), isolations AS (
    SELECT person, min(isolated_us) AS isolated_at_us
    FROM reports WHERE kind = 'isolated' AND isolated_us IS NOT NULL
    GROUP BY person
)
SELECT p.person, v.verdict, v.window_start_day, i.isolated_at_us
FROM (SELECT DISTINCT person FROM reports) p
LEFT JOIN verdicts v USING (person)
LEFT JOIN isolations i USING (person)
"""

_CASES = """
CREATE OR REPLACE TEMP TABLE cases AS
SELECT s.person,
       coalesce(s.verdict, 'isolated') AS status,
       CASE WHEN s.verdict = 'confirmed' THEN m.midnight_us END AS window_start_us,
       CASE WHEN s.verdict = 'confirmed' THEN coalesce(s.isolated_at_us, $end_of_day_us) END AS window_end_us,
       s.isolated_at_us
FROM statuses s LEFT JOIN window_midnights m ON m.day = s.window_start_day
"""


def build_cases(con: duckdb.DuckDBPyConnection, params: TraceParams) -> None:
    con.execute(
        _STATUSES,
        {"days_before_onset": params.days_before_onset, "days_before_sample": params.days_before_sample},
    )
    start_days = con.execute(
        "SELECT DISTINCT window_start_day FROM statuses WHERE window_start_day IS NOT NULL"
    ).fetchall()
    con.register("window_midnights", midnights([day for (day,) in start_days], params.zone))
    con.execute(_CASES, {"end_of_day_us": params.end_of_day_us})
    con.unregister("window_midnights")
    con.execute("DROP TABLE statuses")
