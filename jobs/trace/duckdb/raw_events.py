"""Raw events into DuckDB: table `reports`, views `all_stays` and `all_sightings` (close ones) read per question.

Same reading as the Spark job (jobs/trace/spark/raw_events.py): unusable rows dropped
and counted (`jobs.trace.usable`), first copy of each event_id by
(landed_at NULLS FIRST, kafka_partition, kafka_offset), then exact instants.
Files are read by column name, over an empty table of the lake's schema: files
landed before a column existed (`landed_at`) read it as null.

Stays and sightings are not materialized: the tiers ask the views only for the
rows near a tier's sources (`jobs.trace.duckdb.tiers`), so the lookback is
scanned a few times but no row is copied or joined unless it can matter.
De-duplication stays exact whatever a question keeps: the resent event_ids
and the position of their first copy are found once over every usable row
(copies counted per 64-bit hash of event_id, then the rows of repeated
hashes grouped by the event_id itself), and keeping a row only when it is
its event's first copy is a test of that row alone, so it commutes with any
other filter on rows. The same small table gives the manifest its exact
counts.
"""

from collections.abc import Sequence

import duckdb

from jobs.trace.duckdb.sql import scalar
from jobs.trace.duckdb.usable import REASON, judged, landed_order, release, usable
from jobs.trace.engines import TopicCounts
from jobs.trace.parameters import TraceParams
from jobs.trace.plan import TRACED_TOPICS, InputPlan
from jobs.trace.usable import unusable_counts
from schemas.lake import RAW

_POSITION = "event_id, landed_order, kafka_partition, kafka_offset"

_NARROWED = {
    "checkins": """
        person_pseudonym AS person, venue_id, epoch_us(checkin_at) AS start_us,
        coalesce(epoch_us(checkout_at), epoch_us(checkin_at) + {default_stay_us}) AS end_us,
        checkout_at IS NULL AS imputed""",
    "proximity": """
        reporter_pseudonym AS reporter, contact_pseudonym AS contact, epoch_us(observed_at) AS observed_us,
        rssi, reporter_os, contact_os""",
    "case_reports": """
        person_pseudonym AS person, kind, epoch_us(reported_at) AS reported_us, sample_date, onset_date,
        epoch_us(isolated_at) AS isolated_us""",
}
"""What tracing reads of each topic's usable rows, named as the tiers use them."""

_IN_RANGE = {
    "checkins": "start_us < {range_end_us} AND end_us + {linger_us} >= {range_start_us}",
    "proximity": "observed_us >= {range_start_us} AND observed_us < {range_end_us}",
    "case_reports": "reported_us < {range_end_us}",
}
"""The rows a topic keeps: stays that can meet the range with the linger a source adds (a target's own stay
must meet the range, `jobs.trace.duckdb.exposures` checks), sightings observed in it, reports up to the end of D."""

_KEPT = {
    "checkins": ("all_stays", "SELECT event_id, person, venue_id, start_us, end_us, imputed FROM {first}"),
    "proximity": (
        "all_sightings",
        """SELECT s.reporter, s.contact, s.observed_us, s.rssi, s.reporter_os, s.contact_os
           FROM {first} s JOIN thresholds t ON s.reporter_os = t.reporter_os AND s.contact_os = t.contact_os
           WHERE s.rssi >= t.threshold_dbm""",
    ),
    "case_reports": (
        "reports",
        """SELECT person, kind, reported_us, sample_date, onset_date, isolated_us, landed_order,
                  kafka_partition, kafka_offset FROM {first}""",
    ),
}
"""Per topic, the view (a table for the few reports) the tiers read, over the first copies in range."""

_COPIES = """
CREATE OR REPLACE TEMP TABLE {topic}_copies AS
WITH suspects AS (SELECT hash(event_id) AS h FROM {topic}_usable GROUP BY h HAVING count(*) > 1)
SELECT {position}, in_range FROM {topic}_usable WHERE hash(event_id) IN (SELECT h FROM suspects)
"""

_RESENT = """
CREATE OR REPLACE TEMP TABLE {topic}_resent AS
SELECT event_id, count(*) AS copies,
       min({{'landed': landed_order, 'partition': kafka_partition, 'offset': kafka_offset}}) AS first
FROM {topic}_copies GROUP BY event_id HAVING count(*) > 1
"""

_IS_FIRST = """(r.event_id IS NULL OR (e.landed_order = r.first.landed AND e.kafka_partition = r.first.partition
                                        AND e.kafka_offset = r.first.offset))"""

_FIRST_COPIES = """(
    SELECT e.* FROM {topic}_usable e LEFT JOIN {topic}_resent r USING (event_id) WHERE e.in_range AND {is_first}
)"""

_LATER_COPIES_IN_RANGE = """
SELECT count(*) FROM {topic}_copies e JOIN {topic}_resent r USING (event_id) WHERE e.in_range AND NOT {is_first}
"""


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _files(empty: str, files: Sequence[str]) -> str:
    """The planned files by column name, with every column of the lake's schema (null where a file lacks it).

    The list is spelled out, not a parameter, so views can read it again for each question.
    """
    if not files:
        return empty
    listed = ", ".join(_text(path) for path in files)
    return f"(SELECT * FROM {empty} UNION ALL BY NAME SELECT * FROM read_parquet([{listed}], union_by_name = true))"


def _load_topic(con: duckdb.DuckDBPyConnection, topic: str, files: Sequence[str], params: TraceParams) -> TopicCounts:
    empty = f"{topic}_empty"
    con.register(empty, RAW[topic].empty_table())
    rows = judged(con, topic, _files(empty, files), {}, params)
    bounds = {
        "range_start_us": params.range_start_us,
        "range_end_us": params.range_end_us,
        "default_stay_us": params.default_stay_us,
        "linger_us": params.linger_us,
    }
    narrowed = _NARROWED[topic].format(**bounds)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {topic}_usable AS SELECT *, ({_IN_RANGE[topic].format(**bounds)}) AS in_range "
        f"FROM (SELECT {_POSITION}, {narrowed} FROM "
        f"(SELECT *, {landed_order(params)} AS landed_order FROM {usable(rows)}))"
    )
    judgements = con.execute(f"SELECT {REASON}, count(*) FROM {rows} GROUP BY ALL").fetchall()
    in_range = scalar(con, f"SELECT count(*) FROM {topic}_usable WHERE in_range")
    con.execute(_COPIES.format(topic=topic, position=_POSITION))
    con.execute(_RESENT.format(topic=topic))
    duplicates = scalar(con, f"SELECT coalesce(sum(copies - 1), 0) FROM {topic}_resent")
    later_in_range = scalar(con, _LATER_COPIES_IN_RANGE.format(topic=topic, is_first=_IS_FIRST))
    name, kept = _KEPT[topic]
    first = _FIRST_COPIES.format(topic=topic, is_first=_IS_FIRST)
    kind = "TABLE" if topic == "case_reports" else "VIEW"
    con.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS {kept.format(first=first)}")
    release(con, topic)
    return TopicCounts(
        files=len(files),
        rows_read=sum(int(count) for _, count in judgements),
        duplicates_dropped=duplicates,
        rows_kept=in_range - later_in_range,
        unusable=unusable_counts({reason: int(count) for reason, count in judgements if reason is not None}),
    )


def load_inputs(con: duckdb.DuckDBPyConnection, plan: InputPlan, params: TraceParams) -> dict[str, TopicCounts]:
    """Create `reports`, `all_stays` and `all_sightings`; resends are found on (event_id, position) alone, like Spark.

    The views and the tables behind them live as long as the connection.
    """
    con.register("thresholds", params.thresholds())
    return {topic: _load_topic(con, topic, plan.files[topic], params) for topic in TRACED_TOPICS}
