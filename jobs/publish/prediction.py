"""How well each rule predicts: of the people a channel flagged F1, the share who became F0 within 14 days.

A health department can only tune its rules if it sees what they buy: a
Bluetooth rule that flags many people who never fall ill costs calls and
quarantines, a venue kind whose visitors often do is worth the QR codes. So,
from the curated tables of every run day up to D (pseudonyms only):

- a person counts once per group (channel; venue kind), from the first run
  day an F1 edge of that group named them, with the earliest exposure of those
  edges; in the Bluetooth breakdowns (OS pair; RSSI band of `BAND_DBM` by
  the encounter's mean RSSI; both together) once per breakdown, in the group
  of their closest encounter (highest mean RSSI), from their first Bluetooth
  flag: otherwise someone met on five evenings at five distances would sit in
  every band and blur them all;
- they became F0 when a run day from that first flag on, and at most
  `FOLLOW_UP_DAYS` after the local day of that exposure, lists them as a
  confirmed case;
- `pending` counts those still within their follow-up on D who have not (yet):
  the share is a lower bound until they are out of it.

Each share carries a 95 % Wilson interval, which stays inside [0, 1] and
means something for the small counts of a rare group. The table goes to
`curated/prediction/date=D/` for analysts and onto the tracers' report.
"""

import math
from datetime import date

import duckdb
import pyarrow as pa

from jobs.publication import DIRECT, DayOutputs
from jobs.publish.curated_day import write_curated_day
from jobs.publish.day_views import DayViews
from schemas.lake import PREDICTION
from tracelake.core.lake import PREDICTION_TABLE
from tracelake.core.rules import Rules

FOLLOW_UP_DAYS = 14
BAND_DBM = 5
Z_95 = 1.959963984540054
BREAKDOWNS = ("channel", "venue_kind", "os_pair", "rssi_band", "os_pair_rssi_band")
"""In the order the table and the report list them."""

_PREDICTION = """
WITH flags AS (
    SELECT c.target_pseudonym AS person, c.date AS flagged_on, c.channel, c.exposure_start,
           coalesce(v.kind, 'unknown') AS venue_kind,
           coalesce(array_to_string(list_sort(string_split(c.os_pair, '-')), '-'), 'unknown') AS os_pair,
           c.rssi_mean, CAST(floor(c.rssi_mean / $band) * $band AS INTEGER) AS rssi_from
    FROM contacts c LEFT JOIN venues v ON v.venue_id = c.venue_id
    WHERE c.target_tier = 'F1' AND c.date <= $day
), closest AS (
    SELECT person, min(flagged_on) AS flagged_on, min(exposure_start) AS exposure_start,
           arg_max(os_pair, {'mean': rssi_mean, 'os_pair': os_pair}) AS os_pair,
           arg_max(rssi_from, {'mean': rssi_mean, 'os_pair': os_pair}) AS rssi_from
    FROM flags WHERE channel = 'ble' GROUP BY person
), grouped AS (
    SELECT person, flagged_on, exposure_start, 'channel' AS breakdown, channel, channel AS label,
           NULL::INTEGER AS rssi_from
    FROM flags
    UNION ALL
    SELECT person, flagged_on, exposure_start, 'venue_kind', channel, venue_kind, NULL
    FROM flags WHERE channel = 'venue'
    UNION ALL
    SELECT person, flagged_on, exposure_start, 'os_pair', 'ble', os_pair, NULL
    FROM closest
    UNION ALL
    SELECT person, flagged_on, exposure_start, 'rssi_band', 'ble', printf('%d..%d dBm', rssi_from, rssi_from + $band),
           rssi_from
    FROM closest WHERE rssi_from IS NOT NULL
    UNION ALL
    SELECT person, flagged_on, exposure_start, 'os_pair_rssi_band', 'ble',
           printf('%s %d..%d dBm', os_pair, rssi_from, rssi_from + $band), rssi_from
    FROM closest WHERE rssi_from IS NOT NULL
), people AS (
    SELECT breakdown, channel, label, rssi_from, person, min(flagged_on) AS flagged_on,
           CAST(min(exposure_start) AT TIME ZONE $zone AS DATE) AS exposed_on
    FROM grouped GROUP BY ALL
), confirmed AS (
    SELECT DISTINCT person_pseudonym AS person, date FROM cases WHERE status = 'confirmed' AND date <= $day
), outcomes AS (
    SELECT p.breakdown, p.channel, p.label, p.rssi_from, p.person, p.exposed_on,
           min(c.date) FILTER (WHERE c.date <= p.exposed_on + $follow_up) AS confirmed_on
    FROM people p LEFT JOIN confirmed c ON c.person = p.person AND c.date >= p.flagged_on
    GROUP BY ALL
)
SELECT breakdown, channel, label, rssi_from, count(*) AS flagged,
       count(confirmed_on) AS became_f0,
       count(*) FILTER (WHERE confirmed_on IS NULL AND exposed_on + $follow_up > $day) AS pending
FROM outcomes GROUP BY ALL
"""

_FIRST_RUN_DAY = "SELECT min(date) FROM contacts WHERE date <= $day"


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a binomial share; (0, 1) when nothing was tried."""
    if trials == 0:
        return 0.0, 1.0
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def _order(row: dict[str, object]) -> tuple[int, str, str, int]:
    """Breakdowns in BREAKDOWNS order, OS pairs together, strongest band first."""
    band, label = row["rssi_from"], str(row["label"])
    if not isinstance(band, int):
        return BREAKDOWNS.index(str(row["breakdown"])), str(row["channel"]), label, 0
    os_pair = label.rsplit(" ", 2)[0] if row["breakdown"] == "os_pair_rssi_band" else ""
    return BREAKDOWNS.index(str(row["breakdown"])), str(row["channel"]), os_pair, -band


def prediction_table(con: duckdb.DuckDBPyConnection, day: date, rules: Rules) -> pa.Table:
    """The table of D from the analysts' views registered in `con` (`jobs.publish.analyst_db.register_lake_views`)."""
    parameters = {"day": day, "zone": rules.timezone, "band": BAND_DBM, "follow_up": FOLLOW_UP_DAYS}
    cursor = con.execute(_PREDICTION, parameters)
    names = [column[0] for column in cursor.description or ()]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    first_run_day = con.execute(_FIRST_RUN_DAY, {"day": day}).fetchall()[0][0]
    for row in rows:
        low, high = wilson(row["became_f0"], row["flagged"])
        band = row["rssi_from"]
        row.update(
            share=row["became_f0"] / row["flagged"],
            ci_low=low,
            ci_high=high,
            rssi_to=None if band is None else band + BAND_DBM,
            follow_up_days=FOLLOW_UP_DAYS,
            first_run_day=first_run_day,
            rules_version=rules.version,
        )
    return pa.Table.from_pylist(sorted(rows, key=_order), schema=PREDICTION)


def write_prediction(
    lake_root: str, day: date, rules: Rules, *, outputs: DayOutputs = DIRECT, views: DayViews | None = None
) -> pa.Table:
    """Compute D's table and write it to `curated/prediction/date=D/` (where `outputs` stages it)."""
    return write_curated_day(
        lake_root, day, rules, PREDICTION_TABLE, prediction_table, outputs=outputs, views=views
    )
