"""The risk score: who a district's tracers call first (the rules' `risk` section, docs/tracing.md).

Tiers say who must be told; the score orders them. Each exposure of a person
to the upstream tier weighs its minutes by how close it was, how crowded the
venue was, whether it rests on an imputed checkout, and how recent it is:

    weight = minutes × closeness × crowding × checkout × recency

- closeness: a venue minute weighs `venue_weight`; a Bluetooth minute
  2 ^ (margin / rssi_doubling_db), where the margin is the encounter's mean
  RSSI minus the threshold of its OS pair (source's OS first), kept within
  [1 / max_closeness, max_closeness];
- crowding: min(1, (crowd_reference_people / people present) ^ crowding_exponent)
  at a venue (`jobs.trace.spark.crowding` counts who was present), 1 for Bluetooth;
- checkout: `imputed_checkout_weight` when the exposure rests on a default
  stay, else 1;
- recency: 0.5 ^ (days from the exposure's end to the end of D / recency_half_life_days).

A person's dose is the sum of their exposures' weights (more sources, more
exposures, more dose), times 1 + extra_case_weight × (root F0s − 1). The score
is 100 × (max_depth − depth) + 100 × (1 − e ^ (−dose / dose_scale_minutes)):
the hundreds are the tier, so every F1 ranks above every F2, and within a tier
the score grows towards the next hundred with the dose and never reaches it.

`risk_scores` is one DuckDB query over Arrow tables (the DuckDB twin's and the
on-case merge's); `jobs.trace.spark.risk` is the same formula as Spark columns,
run by the executors. Both give the same bits: every power is
`jobs.trace.powers`' 2 ^ x, made of operations IEEE 754 rounds one way (the
engines' own pow and exp differ in the last place); the crowding factor of each
count of people present comes from `crowding_factors`, computed by the trace's
own process; and a person's weights are summed in a fixed order (a sorted
list, then its sum), whatever order the engine's rows came in.
"""

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from jobs.trace.parameters import TraceParams
from jobs.trace.powers import LOG2_E, power_of_two_sql
from tracelake.core import duckdb_memory
from tracelake.core.rules import RiskRules

MICROSECONDS_PER_DAY = 86_400_000_000
MICROSECONDS_PER_MINUTE = 60_000_000
TIER_BAND = 100.0

_SCORES = """
WITH thresholds AS (
    SELECT reporter_os || '-' || contact_os AS os_pair, threshold_dbm FROM thresholds
), exponents AS (
    SELECT c.target, c.source, c.channel, c.start_us, c.end_us, c.venue_id, c.imputed_checkout, f.crowding,
           (c.rssi_mean - t.threshold_dbm) / $doubling_db AS closeness_exponent,
           -(greatest(0, $end_of_day_us - c.end_us) / $us_per_day / $half_life_days) AS recency_exponent
    FROM contacts c LEFT JOIN thresholds t ON t.os_pair = c.os_pair
    LEFT JOIN crowding f ON f.venue_visitors = c.venue_visitors
), weighted AS (
    SELECT target, source, channel, start_us, end_us, venue_id,
           (end_us - start_us) / $us_per_minute
           * CASE WHEN channel = 'venue'
                  THEN $venue_weight * crowding
                  ELSE coalesce(least($max_closeness, greatest(1.0 / $max_closeness, {closeness})), 1.0)
             END
           * CASE WHEN imputed_checkout THEN $imputed_weight ELSE 1.0 END
           * {recency} AS weight
    FROM exponents
), doses AS (
    SELECT target,
           list_sum(list(weight ORDER BY source, channel, start_us, end_us, venue_id, weight)) AS dose
    FROM weighted GROUP BY target
), scaled AS (
    SELECT e.position, e.depth,
           -(coalesce(d.dose, 0.0) * (1.0 + $extra_case_weight * (len(e.cases) - 1)) / $dose_scale_minutes)
           * $log2_e AS dose_exponent
    FROM exposed e LEFT JOIN doses d ON d.target = e.person
)
SELECT $band * ($max_depth - depth) + $band * (1.0 - {dose}) AS risk_score
FROM scaled
ORDER BY position
""".format(
    closeness=power_of_two_sql("closeness_exponent"),
    recency=power_of_two_sql("recency_exponent"),
    dose=power_of_two_sql("dose_exponent"),
)
"""Every power is `jobs.trace.powers`' (e ^ y as 2 ^ (y × log2 e)), so Spark's column gives the same bits."""


def crowding_factors(visitors: Iterable[int | None], risk: RiskRules) -> pa.Table:
    """venue_visitors, crowding: min(1, (crowd_reference_people / people) ^ crowding_exponent) per count.

    A venue exposure's crowding depends on its count alone, so each engine
    takes it from this table, made by the one process that runs the trace.
    """
    counts = sorted({count for count in visitors if count is not None})
    factors = [
        min(1.0, (float(risk.crowd_reference_people) / max(count, 1)) ** risk.crowding_exponent) for count in counts
    ]
    return pa.table({"venue_visitors": pa.array(counts, pa.int64()), "crowding": pa.array(factors, pa.float64())})


def risk_scores(contacts: pa.Table, exposed: pa.Table, risk: RiskRules, params: TraceParams) -> pa.Array:
    """The score of each row of `exposed` (EXPOSED_ROWS), in its order, from `contacts` (CONTACT_ROWS)."""
    positioned = exposed.select(["person", "depth", "cases"]).append_column(
        "position", pa.array(range(exposed.num_rows), pa.int64())
    )
    with duckdb_memory.opened(config={"threads": 1}) as con:
        con.register("contacts", contacts)
        con.register("exposed", positioned)
        con.register("thresholds", params.thresholds())
        con.register("crowding", crowding_factors(pc.unique(contacts.column("venue_visitors")).to_pylist(), risk))
        scores = con.sql(
            _SCORES,
            params={
                "us_per_minute": float(MICROSECONDS_PER_MINUTE),
                "us_per_day": float(MICROSECONDS_PER_DAY),
                "end_of_day_us": params.end_of_day_us,
                "venue_weight": risk.venue_weight,
                "max_closeness": risk.max_closeness,
                "doubling_db": risk.rssi_doubling_db,
                "imputed_weight": risk.imputed_checkout_weight,
                "half_life_days": risk.recency_half_life_days,
                "extra_case_weight": risk.extra_case_weight,
                "dose_scale_minutes": risk.dose_scale_minutes,
                "max_depth": params.max_depth,
                "band": TIER_BAND,
                "log2_e": LOG2_E,
            },
        ).to_arrow_table()
    return scores.column("risk_score").combine_chunks().cast(pa.float64())
