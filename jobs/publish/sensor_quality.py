"""Bluetooth sensor quality of day D: phones with a wrong clock, bursts of copies, implausible RSSI.

Tracers should know when the sightings behind today's tiers look wrong, but
a count must never quietly become a filter: these checks change no tier,
they are only counted, per day, for the tracers' report and the analysts.
Each sighting the trace can use (`jobs.trace.usable`) is read once (the first copy
of a resent event_id): the others are already counted in the manifest. An
implausible `landed_at` reads as missing, as it does in the trace.

Clock checks judge the sightings that reached the lake on D (the lander's
`landed_at`, else the Kafka timestamp, on local day D), whatever day they
were observed, since a phone with a wrong clock files its sightings under
a wrong day. A reporter's lead is the largest `observed_at - upload` among them:

- `clock_ahead`: the lead is over `CLOCK_TOLERANCE`: the phone saw something
  after it was uploaded, so its clock runs ahead;
- `clock_behind`: the lead is under minus (lookback + 1) days: even its
  newest sighting is older than Bluezone keeps sightings (the rules'
  lookback), so its clock runs behind, or old data is being replayed.

Signal checks judge the sightings observed on local day D:

- `burst`: the same reporter, contact, instant and RSSI under several
  event_ids (a phone or an uploader repeating itself); `sightings` counts
  the extra copies;
- `rssi_implausible`: outside `PLAUSIBLE_RSSI`, the range phones report
  (the contract accepts -127..20, where -127 is often "no value");
- `rssi_outlier`: more than `OUTLIER_Z` standard deviations from the
  reporter's own mean of the day, for reporters with at least
  `OUTLIER_MIN_SIGHTINGS` sightings.
"""

from datetime import date, timedelta

import duckdb
import pyarrow as pa

from jobs.publication import DIRECT, DayOutputs
from jobs.publish.curated_day import write_curated_day
from jobs.publish.day_views import DayViews
from jobs.trace.duckdb.usable import plausible_landing, usable_view
from schemas.lake import SENSOR_QUALITY
from tracelake.core.lake import SENSOR_QUALITY_TABLE
from tracelake.core.rules import Rules

CLOCK_TOLERANCE = timedelta(minutes=5)
PLAUSIBLE_RSSI = (-110, -20)
OUTLIER_Z = 4.0
OUTLIER_MIN_SIGHTINGS = 10
LANDED, OBSERVED = "landed", "observed"
CHECKS: tuple[tuple[str, str], ...] = (
    ("clock_ahead", LANDED),
    ("clock_behind", LANDED),
    ("burst", OBSERVED),
    ("rssi_implausible", OBSERVED),
    ("rssi_outlier", OBSERVED),
)

_ONCE = f"""
SELECT * FROM (SELECT * REPLACE ({plausible_landing()} AS landed_at) FROM {usable_view("proximity", "raw_sightings")})
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY landed_at NULLS FIRST, kafka_partition, kafka_offset) = 1
"""

_LANDED = f"""
CREATE OR REPLACE TEMP TABLE landed AS
SELECT reporter_pseudonym AS reporter, observed_at - coalesce(landed_at, kafka_timestamp) AS lead
FROM ({_ONCE})
WHERE CAST(coalesce(landed_at, kafka_timestamp) AT TIME ZONE $zone AS DATE) = $day
"""

_CLOCKS = """
WITH reporters AS (SELECT reporter, max(lead) AS lead, count(*) AS sightings FROM landed GROUP BY reporter)
SELECT count(*) FILTER (WHERE lead > $tolerance),
       coalesce(sum(sightings) FILTER (WHERE lead > $tolerance), 0),
       count(*) FILTER (WHERE lead < -$kept),
       coalesce(sum(sightings) FILTER (WHERE lead < -$kept), 0),
       count(*), coalesce(sum(sightings), 0)
FROM reporters
"""

_OBSERVED = f"""
CREATE OR REPLACE TEMP TABLE observed AS
SELECT event_id, reporter_pseudonym AS reporter, contact_pseudonym AS contact, observed_at, rssi
FROM ({_ONCE})
WHERE date BETWEEN $day - 1 AND $day + 1 AND CAST(observed_at AT TIME ZONE $zone AS DATE) = $day
"""

_SIGNALS = """
WITH copies AS (
    SELECT reporter, count(*) - 1 AS extra FROM observed
    GROUP BY reporter, contact, observed_at, rssi HAVING count(*) > 1
), stats AS (
    SELECT reporter, avg(rssi) AS mean, stddev_pop(rssi) AS spread, count(*) AS sightings
    FROM observed GROUP BY reporter
), outliers AS (
    SELECT o.reporter FROM observed o JOIN stats s USING (reporter)
    WHERE s.sightings >= $min_sightings AND s.spread > 0 AND abs(o.rssi - s.mean) > $z * s.spread
), implausible AS (
    SELECT reporter FROM observed WHERE rssi NOT BETWEEN $low AND $high
)
SELECT (SELECT count(DISTINCT reporter) FROM copies), (SELECT coalesce(sum(extra), 0) FROM copies),
       (SELECT count(DISTINCT reporter) FROM implausible), (SELECT count(*) FROM implausible),
       (SELECT count(DISTINCT reporter) FROM outliers), (SELECT count(*) FROM outliers),
       (SELECT count(DISTINCT reporter) FROM observed), (SELECT count(*) FROM observed)
"""


def sensor_quality_table(con: duckdb.DuckDBPyConnection, day: date, rules: Rules) -> pa.Table:
    """D's checks from the analysts' views registered in `con` (`jobs.publish.analyst_db.register_lake_views`)."""
    where = {"day": day, "zone": rules.timezone}
    con.execute(_LANDED, where)
    kept = timedelta(days=rules.lookback_days + 1)
    clocks = con.execute(_CLOCKS, {"tolerance": CLOCK_TOLERANCE, "kept": kept}).fetchall()[0]
    con.execute(_OBSERVED, where)
    low, high = PLAUSIBLE_RSSI
    signals = con.execute(
        _SIGNALS, {"min_sightings": OUTLIER_MIN_SIGHTINGS, "z": OUTLIER_Z, "low": low, "high": high}
    ).fetchall()[0]
    con.execute("DROP TABLE landed")
    con.execute("DROP TABLE observed")
    counts = [clocks[0:2], clocks[2:4], signals[0:2], signals[2:4], signals[4:6]]
    totals = {LANDED: clocks[4:6], OBSERVED: signals[6:8]}
    rows = [
        {"check": check, "population": population, "reporters": reporters, "sightings": sightings,
         "of_reporters": totals[population][0], "of_sightings": totals[population][1]}
        for (check, population), (reporters, sightings) in zip(CHECKS, counts, strict=True)
    ]
    return pa.Table.from_pylist(rows, schema=SENSOR_QUALITY)


def write_sensor_quality(
    lake_root: str, day: date, rules: Rules, *, outputs: DayOutputs = DIRECT, views: DayViews | None = None
) -> pa.Table:
    """Count D's checks and write them to `curated/sensor_quality/date=D/` (where `outputs` stages it)."""
    return write_curated_day(
        lake_root, day, rules, SENSOR_QUALITY_TABLE, sensor_quality_table, outputs=outputs, views=views
    )
