"""Which raw rows older than the retention window a trace inside the window still reads.

A run for D reads check-ins and case reports from the beginning of the lake
(jobs.trace.plan.partition_range), so purging their old days must not change what
any day that can still be traced sees, that is every D whose whole lookback,
`D - lookback_days - 1`, is inside the window. Of the rows on days before the
window, such a run still needs:

- check-ins whose stay, default stay and linger included, reaches the
  window's first local midnight (a stay that ends earlier lies before every
  such D's lookback);
- per person, the `confirmed`/`discarded` reports with the latest
  `reported_at` (every older verdict is outranked whatever arrives later) and
  the `isolated` reports with the earliest `isolated_at` (only the earliest
  counts): the person's status and isolation stay what they were;
- every copy of an event_id still kept or seen inside the window, so the
  engines pick the same first copy of a resent event as before.

Sightings are read only over the lookback: none of theirs is needed.
"""

from datetime import date

import pyarrow as pa
import pyarrow.dataset as ds

from schemas.lake import RAW
from tracelake.core import duckdb_memory
from tracelake.core.days import duration_micros, epoch_micros, local_midnight
from tracelake.core.rules import Rules

CARRIED_TOPICS = ("checkins", "case_reports")

_NEEDED_FIRST_COPIES = {
    "checkins": """
        WHERE coalesce(epoch_us(checkout_at), epoch_us(checkin_at) + $default_stay_us) + $linger_us >= $window_start_us
    """,
    "case_reports": """
        QUALIFY (kind IN ('confirmed', 'discarded') AND reported_at = max(reported_at)
            FILTER (WHERE kind IN ('confirmed', 'discarded')) OVER (PARTITION BY person_pseudonym))
        OR (kind = 'isolated' AND isolated_at IS NOT DISTINCT FROM min(isolated_at)
            FILTER (WHERE kind = 'isolated') OVER (PARTITION BY person_pseudonym))
    """,
}


def copy_order(schema: pa.Schema) -> str:
    """The engines' order of an event_id's copies: the first one landed counts."""
    position = "kafka_partition, kafka_offset"
    return f"landed_at NULLS FIRST, {position}" if "landed_at" in schema.names else position


def still_needed(
    topic: str, old: ds.Dataset, window: ds.Dataset, rules: Rules, before: date
) -> pa.Table:
    """The rows of `old` (days before `before`) that a trace inside the window still needs, as landed."""
    schema = RAW[topic]
    con = duckdb_memory.connect()
    try:
        con.register("old_rows", old)
        con.register("window_rows", window)
        con.execute("CREATE TEMP TABLE old_ids AS SELECT DISTINCT event_id FROM old_rows")
        con.execute(
            f"""
            CREATE TEMP TABLE kept_ids AS
            SELECT event_id FROM (
                SELECT * FROM old_rows
                QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY {copy_order(schema)}) = 1
            )
            {_NEEDED_FIRST_COPIES[topic]}
            UNION
            SELECT DISTINCT w.event_id FROM window_rows w SEMI JOIN old_ids o ON w.event_id = o.event_id
            """,
            _parameters(topic, rules, before),
        )
        ids = con.sql("SELECT event_id FROM kept_ids").to_arrow_table()["event_id"]
    finally:
        con.close()
    return old.to_table(filter=ds.field("event_id").isin(ids.combine_chunks())).cast(schema)


def _parameters(topic: str, rules: Rules, before: date) -> dict[str, int]:
    if topic != "checkins":
        return {}
    return {
        "default_stay_us": duration_micros(rules.default_stay),
        "linger_us": duration_micros(rules.linger),
        "window_start_us": epoch_micros(local_midnight(before, rules.zone)),
    }
