"""Raw events into DuckDB temp tables: `stays`, `sightings` (close ones), `reports`.

Same reading as the Spark job (jobs/trace/spark/raw_events.py): unusable rows dropped
and counted (`jobs.trace.usable`), first copy of each event_id by
(landed_at NULLS FIRST, kafka_partition, kafka_offset), then exact instants.
Files are read by column name, over an empty table of the lake's schema: files
landed before a column existed (`landed_at`) read it as null.
"""


import duckdb

from jobs.trace.duckdb.sql import scalar
from jobs.trace.duckdb.usable import judged, landed_order, reason_counts, release, usable
from jobs.trace.engines import TopicCounts
from jobs.trace.parameters import TraceParams
from jobs.trace.plan import InputPlan
from jobs.trace.usable import unusable_counts
from schemas.lake import RAW

_FILES = "(SELECT * FROM {empty} UNION ALL BY NAME SELECT * FROM read_parquet($files, union_by_name = true))"
"""The planned files by column name, with every column of the lake's schema (null where a file lacks it)."""

_RESENT = """
CREATE OR REPLACE TEMP TABLE resent AS
SELECT event_id, count(*) AS copies,
       min({{'landed': landed_order, 'partition': kafka_partition, 'offset': kafka_offset}}) AS first
FROM {source} GROUP BY event_id HAVING count(*) > 1
"""

_FIRST_COPIES = """(
    SELECT events.* FROM {source} events LEFT JOIN resent USING (event_id)
    WHERE resent.event_id IS NULL
       OR (events.landed_order = resent.first.landed AND events.kafka_partition = resent.first.partition
           AND events.kafka_offset = resent.first.offset)
)"""

_STAYS = """
CREATE OR REPLACE TEMP TABLE stays AS
SELECT person, venue_id, start_us, end_us, imputed FROM (
    SELECT person_pseudonym AS person, venue_id, epoch_us(checkin_at) AS start_us,
           coalesce(epoch_us(checkout_at), epoch_us(checkin_at) + $default_stay_us) AS end_us,
           checkout_at IS NULL AS imputed
    FROM {events}
)
WHERE start_us < $range_end_us AND end_us + $linger_us >= $range_start_us
"""

_SIGHTINGS_IN_RANGE = """
CREATE OR REPLACE TEMP TABLE sightings_in_range AS
SELECT reporter_pseudonym AS reporter, contact_pseudonym AS contact, epoch_us(observed_at) AS observed_us,
       rssi, reporter_os, contact_os
FROM {events}
WHERE epoch_us(observed_at) >= $range_start_us AND epoch_us(observed_at) < $range_end_us
"""

_CLOSE_SIGHTINGS = """
CREATE OR REPLACE TEMP TABLE sightings AS
SELECT s.reporter, s.contact, s.observed_us, s.rssi, s.reporter_os, s.contact_os
FROM sightings_in_range s JOIN thresholds t ON s.reporter_os = t.reporter_os AND s.contact_os = t.contact_os
WHERE s.rssi >= t.threshold_dbm
"""

_REPORTS = """
CREATE OR REPLACE TEMP TABLE reports AS
SELECT person_pseudonym AS person, kind, epoch_us(reported_at) AS reported_us, sample_date, onset_date,
       epoch_us(isolated_at) AS isolated_us, landed_order, kafka_partition, kafka_offset
FROM {events}
WHERE epoch_us(reported_at) < $range_end_us
"""


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return scalar(con, f"SELECT count(*) FROM {table}")


def load_inputs(con: duckdb.DuckDBPyConnection, plan: InputPlan, params: TraceParams) -> dict[str, TopicCounts]:
    """Fill `stays`, `sightings` and `reports`; resends are found on (event_id, position) alone, like Spark."""
    bounds = {"range_start_us": params.range_start_us, "range_end_us": params.range_end_us}
    con.register("thresholds", params.thresholds())
    steps = {
        "checkins": ((_STAYS, {**bounds, "default_stay_us": params.default_stay_us, "linger_us": params.linger_us}),),
        "proximity": ((_SIGHTINGS_IN_RANGE, bounds), (_CLOSE_SIGHTINGS, {})),
        "case_reports": ((_REPORTS, {"range_end_us": params.range_end_us}),),
    }
    kept_tables = {"checkins": "stays", "proximity": "sightings_in_range", "case_reports": "reports"}
    counts: dict[str, TopicCounts] = {}
    for topic, statements in steps.items():
        files = list(plan.files[topic])
        empty = f"{topic}_empty"
        con.register(empty, RAW[topic].empty_table())
        if files:
            source = _FILES.format(empty=empty)
            files_parameter = {"files": files}
        else:
            source, files_parameter = empty, {}
        rows = judged(con, topic, source, files_parameter, params)
        ordered = f"(SELECT *, {landed_order(params)} AS landed_order FROM {usable(rows)})"
        con.execute(_RESENT.format(source=ordered), files_parameter)
        events = _FIRST_COPIES.format(source=ordered)
        for statement, parameters in statements:
            uses_files = "{events}" in statement
            con.execute(statement.format(events=events), {**parameters, **(files_parameter if uses_files else {})})
        rows_read = scalar(con, f"SELECT count(*) FROM {source}", files_parameter)
        duplicates = scalar(con, "SELECT coalesce(sum(copies - 1), 0) FROM resent")
        kept = _count(con, kept_tables[topic])
        counts[topic] = TopicCounts(
            files=len(files),
            rows_read=rows_read,
            duplicates_dropped=duplicates,
            rows_kept=kept,
            unusable=unusable_counts(reason_counts(con, rows, files_parameter)),
        )
        con.unregister(empty)
        release(con, topic)
    con.execute("DROP TABLE sightings_in_range")
    con.execute("DROP TABLE resent")
    return counts
