"""Venue risk: which places spread exposure, so inspections and closures go where they matter.

Bắc Giang's outbreak ran through factories; a workplace that produced many
exposures, hosted several F0 visits or draws a crowd is where a risk
assessment pays off first. Exposures are the contact graph's venue edges at
that venue (every tier's), F0 visits are F0 stays (with the linger) that
overlap the F0's window, and the volume is the venue's check-ins on day D.
Visitors (distinct people who checked in over the lookback) decide whether
the public may see the venue at all (`jobs.publish.province.figures`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jobs.publish.province.lake_views import ProvinceSources, opened
from tracelake.core.rules import Rules

TABLE = "venue_risk"
COLUMNS = (
    "rank", "venue_id", "venue_name", "venue_kind", "province_code", "district_code", "registered",
    "exposures", "exposed_people", "f0_visits", "f0_cases", "checkins", "lat", "lon",
)


@dataclass(frozen=True)
class VenueRisk:
    rank: int
    venue_id: str
    venue_name: str | None
    venue_kind: str | None
    province_code: str | None
    district_code: str | None
    exposures: int
    exposed_people: int
    f0_visits: int
    f0_cases: int
    checkins: int
    lat: float | None
    lon: float | None
    visitors: int
    """Distinct people who checked in over the lookback, D included."""

    @property
    def registered(self) -> bool:
        return self.venue_name is not None

    def row(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "venue_id": self.venue_id,
            "venue_name": self.venue_name,
            "venue_kind": self.venue_kind,
            "province_code": self.province_code,
            "district_code": self.district_code,
            "registered": str(self.registered).lower(),
            "exposures": self.exposures,
            "exposed_people": self.exposed_people,
            "f0_visits": self.f0_visits,
            "f0_cases": self.f0_cases,
            "checkins": self.checkins,
            "lat": self.lat,
            "lon": self.lon,
        }


@dataclass(frozen=True)
class VenueRiskRanking:
    day: date
    venues: tuple[VenueRisk, ...]
    """Every registered venue and every venue with an exposure, F0 visit or check-in on D, ranked."""
    paths: Mapping[str, str] = field(default_factory=dict)

    @property
    def exposures(self) -> int:
        return sum(v.exposures for v in self.venues)


_RANKING = """
WITH exposure AS (
    SELECT venue_id, count(*) AS exposures, count(DISTINCT target_pseudonym) AS exposed_people
    FROM contact WHERE channel = 'venue' AND venue_id IS NOT NULL GROUP BY venue_id
),
f0_visit AS (
    SELECT venue_id, count(DISTINCT event_id) AS f0_visits, count(DISTINCT person) AS f0_cases
    FROM f0_stay GROUP BY venue_id
),
volume AS (
    SELECT c.venue_id, count(*) AS checkins
    FROM checkin AS c CROSS JOIN run
    WHERE c.checkin_us >= run.day_start_us AND c.checkin_us < run.day_end_us
    GROUP BY c.venue_id
),
visit AS (
    SELECT c.venue_id, count(DISTINCT c.person) AS visitors
    FROM checkin AS c CROSS JOIN run
    WHERE c.checkin_us >= run.lookback_start_us
    GROUP BY c.venue_id
),
place AS (
    SELECT venue_id FROM venue UNION SELECT venue_id FROM exposure
    UNION SELECT venue_id FROM f0_visit UNION SELECT venue_id FROM volume
),
measured AS (
    SELECT p.venue_id, v.name, v.kind, v.province_code, v.district_code,
           coalesce(e.exposures, 0) AS exposures, coalesce(e.exposed_people, 0) AS exposed_people,
           coalesce(f.f0_visits, 0) AS f0_visits, coalesce(f.f0_cases, 0) AS f0_cases,
           coalesce(k.checkins, 0) AS checkins, v.lat, v.lon, coalesce(s.visitors, 0) AS visitors
    FROM place AS p
    LEFT JOIN venue AS v USING (venue_id) LEFT JOIN exposure AS e USING (venue_id)
    LEFT JOIN f0_visit AS f USING (venue_id) LEFT JOIN volume AS k USING (venue_id)
    LEFT JOIN visit AS s USING (venue_id)
)
SELECT row_number() OVER (ORDER BY exposures DESC, f0_visits DESC, checkins DESC, venue_id) AS rank, *
FROM measured ORDER BY rank
"""


def venue_risk(sources: ProvinceSources) -> VenueRiskRanking:
    """Day D's venues ranked by exposures, then F0 visits, then check-ins (nothing written)."""
    sources.require("venue", "checkin", "f0_stay", "contact")
    return VenueRiskRanking(day=sources.day, venues=tuple(VenueRisk(*row) for row in sources.rows(_RANKING)))


def build_venue_risk(
    lake_root: str, day: date, rules: Rules, *, sources: ProvinceSources | None = None
) -> VenueRiskRanking:
    """Compute day D's ranking; `jobs.publish.province.public` writes what the public may see of it."""
    with opened(lake_root, day, rules, sources) as run:
        return venue_risk(run)
