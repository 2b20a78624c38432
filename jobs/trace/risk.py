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

The whole computation is one DuckDB query over the engine's Arrow tables, the
same for both engines. A person's weights are summed in a fixed order (a
list, then its sum) so a re-run gives the same bits whatever order the
engine's rows came in.
"""

import duckdb
import pyarrow as pa

from jobs.trace.parameters import TraceParams
from tracelake.core.rules import RiskRules

MICROSECONDS_PER_DAY = 86_400_000_000
MICROSECONDS_PER_MINUTE = 60_000_000
TIER_BAND = 100.0

_SCORES = """
WITH thresholds AS (
    SELECT reporter_os || '-' || contact_os AS os_pair, threshold_dbm FROM thresholds
), weighted AS (
    SELECT c.target, c.source, c.channel, c.start_us, c.end_us, c.venue_id,
           (c.end_us - c.start_us) / $us_per_minute
           * CASE WHEN c.channel = 'venue'
                  THEN $venue_weight
                       * least(1.0, pow($crowd_reference / greatest(c.venue_visitors, 1), $crowd_exponent))
                  ELSE coalesce(least($max_closeness, greatest(1.0 / $max_closeness,
                           pow(2.0, (c.rssi_mean - t.threshold_dbm) / $doubling_db))), 1.0)
             END
           * CASE WHEN c.imputed_checkout THEN $imputed_weight ELSE 1.0 END
           * pow(0.5, greatest(0, $end_of_day_us - c.end_us) / $us_per_day / $half_life_days) AS weight
    FROM contacts c LEFT JOIN thresholds t ON t.os_pair = c.os_pair
), doses AS (
    SELECT target,
           list_sum(list(weight ORDER BY source, channel, start_us, end_us, venue_id, weight)) AS dose
    FROM weighted GROUP BY target
)
SELECT $band * ($max_depth - e.depth)
       + $band * (1.0 - exp(-coalesce(d.dose, 0.0) * (1.0 + $extra_case_weight * (len(e.cases) - 1))
                             / $dose_scale_minutes)) AS risk_score
FROM exposed e LEFT JOIN doses d ON d.target = e.person
ORDER BY e.position
"""


def risk_scores(contacts: pa.Table, exposed: pa.Table, risk: RiskRules, params: TraceParams) -> pa.Array:
    """The score of each row of `exposed` (EXPOSED_ROWS), in its order, from `contacts` (CONTACT_ROWS)."""
    positioned = exposed.select(["person", "depth", "cases"]).append_column(
        "position", pa.array(range(exposed.num_rows), pa.int64())
    )
    with duckdb.connect(config={"threads": 1}) as con:
        con.register("contacts", contacts)
        con.register("exposed", positioned)
        con.register("thresholds", params.thresholds())
        scores = con.sql(
            _SCORES,
            params={
                "us_per_minute": float(MICROSECONDS_PER_MINUTE),
                "us_per_day": float(MICROSECONDS_PER_DAY),
                "end_of_day_us": params.end_of_day_us,
                "venue_weight": risk.venue_weight,
                "crowd_reference": float(risk.crowd_reference_people),
                "crowd_exponent": risk.crowding_exponent,
                "max_closeness": risk.max_closeness,
                "doubling_db": risk.rssi_doubling_db,
                "imputed_weight": risk.imputed_checkout_weight,
                "half_life_days": risk.recency_half_life_days,
                "extra_case_weight": risk.extra_case_weight,
                "dose_scale_minutes": risk.dose_scale_minutes,
                "max_depth": params.max_depth,
                "band": TIER_BAND,
            },
        ).to_arrow_table()
    return scores.column("risk_score").combine_chunks().cast(pa.float64())
