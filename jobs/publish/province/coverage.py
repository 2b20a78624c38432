"""Bluezone coverage: of the people who scanned a QR code, how many also show up in Bluetooth sightings.

Khánh Hòa measured 36 % app coverage; BLE tracing finds little when few phones
run the app. The lake cannot see installs, only sightings, so this is a lower
bound of app adoption: a phone with the app that met nobody, or whose sightings
were not uploaded yet (Bluezone uploads when the health authority asks), does
not count. Recent days therefore rise as uploads arrive; the trend shows it.
A person belongs to the district of the venue of their first check-in that day.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jobs.publish.province.lake_views import ProvinceSources, opened
from jobs.publish.province.outputs import share
from tracelake.core.rules import Rules

TABLE = "coverage"
LOWER_BOUND = "bluezone_share_lower_bound"
DISTRICT_COLUMNS = ("date", "province_code", "district_code", "checked_in_people", "seen_by_bluezone", LOWER_BOUND)
TREND_COLUMNS = ("date", "scope", *DISTRICT_COLUMNS[1:])


@dataclass(frozen=True)
class CoverageCount:
    """People who checked in on `day` (in a district, or everywhere when `district_code` is None
    and `scope` is province) and how many of them appear in that day's sightings."""

    day: date
    scope: str
    province_code: str | None
    district_code: str | None
    checked_in_people: int
    seen_by_bluezone: int

    @property
    def lower_bound(self) -> float | None:
        return share(self.seen_by_bluezone, self.checked_in_people)

    def row(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "scope": self.scope,
            "province_code": self.province_code,
            "district_code": self.district_code,
            "checked_in_people": self.checked_in_people,
            "seen_by_bluezone": self.seen_by_bluezone,
            LOWER_BOUND: self.lower_bound,
        }


@dataclass(frozen=True)
class Coverage:
    day: date
    districts: tuple[CoverageCount, ...]
    """Day D per district; a district of None is people whose first venue is not registered."""
    trend: tuple[CoverageCount, ...]
    """Province totals for every lookback day (oldest first), then every district-day."""
    paths: Mapping[str, str] = field(default_factory=dict)

    @property
    def total(self) -> CoverageCount:
        return next(c for c in self.trend if c.scope == "province" and c.day == self.day)


_COUNTS = """
WITH day_checkin AS (
    SELECT cal.day, c.person, c.venue_id, c.checkin_us, c.event_id
    FROM checkin AS c JOIN calendar AS cal
      ON c.checkin_us >= cal.day_start_us AND c.checkin_us < cal.day_end_us
),
first_checkin AS (
    SELECT day, person, venue_id FROM day_checkin
    QUALIFY row_number() OVER (PARTITION BY day, person ORDER BY checkin_us, venue_id, event_id) = 1
)
SELECT f.day, v.province_code, v.district_code, count(*) AS checked_in_people, count(b.person) AS seen_by_bluezone
FROM first_checkin AS f
LEFT JOIN venue AS v USING (venue_id)
LEFT JOIN bluezone_person_day AS b ON b.person = f.person AND b.day = f.day
GROUP BY f.day, v.province_code, v.district_code
ORDER BY f.day, v.province_code NULLS LAST, v.district_code NULLS LAST
"""


def coverage(sources: ProvinceSources) -> Coverage:
    """Day D's coverage per district and the lookback trend (nothing written)."""
    sources.require("calendar", "venue", "checkin", "bluezone_person_day")
    by_district = [
        CoverageCount(day, "district", province, district, people, seen)
        for day, province, district, people, seen in sources.rows(_COUNTS)
    ]
    totals = [
        CoverageCount(
            day,
            "province",
            None,
            None,
            sum(c.checked_in_people for c in by_district if c.day == day),
            sum(c.seen_by_bluezone for c in by_district if c.day == day),
        )
        for day in sources.lookback_days
    ]
    return Coverage(
        day=sources.day,
        districts=tuple(c for c in by_district if c.day == sources.day),
        trend=(*totals, *by_district),
    )


def build_coverage(lake_root: str, day: date, rules: Rules, *, sources: ProvinceSources | None = None) -> Coverage:
    """Compute day D's coverage; `jobs.publish.province.public` writes what the public may see of it."""
    with opened(lake_root, day, rules, sources) as run:
        return coverage(run)
