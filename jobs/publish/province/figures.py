"""What each audience may see of one province run: which venues are named, and every count of people.

Per-venue figures follow the notices' visitor floor: a venue that had a
notice range withheld for having fewer visitors than the floor, or that had
from 1 to floor - 1 visitors over the lookback, is in no public file or page
(not its name, its id or its figures). A venue nobody visited carries no
figure about people and may still be listed (a silent QR point).

Counts of people (check-ins, exposures, F0 visits, people seen by Bluezone)
are protected by `jobs.disclosure`, as one set of groups per table family:
venues add up to their district and districts to the province (the map, the
venue ranking and the compliance summary print the same figures), and a
coverage row's people who checked in are those seen by Bluezone plus those
not seen. The tracers' figures hide nothing and list every venue.
"""

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from jobs.disclosure import Disclosure, Figure, Group, protect
from jobs.publish.province.coverage import Coverage, CoverageCount
from jobs.publish.province.notices import Notices
from jobs.publish.province.venue_risk import VenueRisk, VenueRiskRanking

ADDITIVE = ("checkins", "exposures", "f0_visits")
"""Per-venue counts that add up to a district's and the province's (the map prints those totals)."""
PER_VENUE = ("exposed_people", "f0_cases")
"""Per-venue counts of distinct people: no total adds them up, so only their own size hides them."""
PROVINCE = ("province",)
COVERAGE_MEASURES = ("checked_in", "seen", "unseen")


def district_key(province_code: str | None, district_code: str | None) -> tuple[str, str | None, str | None]:
    return ("district", province_code, district_code)


def coverage_key(count: CoverageCount) -> tuple[Hashable, ...]:
    return (count.scope, count.day, count.province_code, count.district_code)


@dataclass(frozen=True)
class ProvinceFigures:
    """The counts of people of one province run as one audience sees them."""

    public: bool
    unlisted: frozenset[str]
    """Venue ids that appear nowhere for this audience."""
    venues: Disclosure[Any]
    """Keys `(venue_id, measure)`, `(district_key(...), measure)` and `(PROVINCE, measure)`."""
    coverage: Disclosure[Any]
    """Keys `(*coverage_key(count), measure)` for every row of the coverage trend."""
    visitor_floor: int

    @classmethod
    def of(cls, notices: Notices, risk: VenueRiskRanking, coverage: Coverage, *, public: bool) -> "ProvinceFigures":
        floor = notices.visitor_floor
        unlisted = frozenset(
            {r.venue_id for r in notices.ranges if r.visitors < floor}
            | {v.venue_id for v in risk.venues if 0 < v.visitors < floor}
        ) if public else frozenset()
        return cls(
            public=public,
            unlisted=unlisted,
            venues=_venue_figures(risk, unlisted, public=public),
            coverage=_coverage_figures(coverage, public=public),
            visitor_floor=floor,
        )

    def listed(self, venue_id: str) -> bool:
        return venue_id not in self.unlisted

    def venue(self, venue: VenueRisk, measure: str) -> Figure:
        return self.venues.figure((venue.venue_id, measure))

    def district(self, province_code: str | None, district_code: str | None, measure: str) -> Figure:
        key = (district_key(province_code, district_code), measure)
        return self.venues.figure(key) if key in self.venues.counts else 0

    def province(self, measure: str) -> Figure:
        return self.venues.figure((PROVINCE, measure))

    def people(self, count: CoverageCount, measure: str) -> Figure:
        return self.coverage.figure((*coverage_key(count), measure))

    def lower_bound(self, count: CoverageCount) -> float | None:
        """Bluezone's share among people who checked in; None when either count is hidden."""
        key = coverage_key(count)
        return self.coverage.share((*key, "seen"), (*key, "checked_in"))


def _venue_figures(risk: VenueRiskRanking, unlisted: frozenset[str], *, public: bool) -> Disclosure[Any]:
    counts: dict[Any, int] = {}
    districts: dict[tuple[str, str | None, str | None], list[VenueRisk]] = {}
    for venue in risk.venues:
        for measure in (*ADDITIVE, *PER_VENUE):
            counts[(venue.venue_id, measure)] = getattr(venue, measure)
        districts.setdefault(district_key(venue.province_code, venue.district_code), []).append(venue)
    groups: list[Group[Any]] = []
    for measure in ADDITIVE:
        for district, venues in districts.items():
            counts[(district, measure)] = sum(getattr(venue, measure) for venue in venues)
            groups.append(Group((district, measure), tuple((venue.venue_id, measure) for venue in venues)))
        counts[(PROVINCE, measure)] = sum(getattr(venue, measure) for venue in risk.venues)
        groups.append(Group((PROVINCE, measure), tuple((district, measure) for district in districts)))
    withheld = [(venue_id, measure) for venue_id in sorted(unlisted) for measure in (*ADDITIVE, *PER_VENUE)
                if (venue_id, measure) in counts]
    return protect(counts, groups, public=public, withheld=withheld)


def _coverage_figures(coverage: Coverage, *, public: bool) -> Disclosure[Any]:
    counts: dict[Any, int] = {}
    groups: list[Group[Any]] = []
    by_day: dict[Any, list[CoverageCount]] = {}
    for count in coverage.trend:
        key = coverage_key(count)
        counts[(*key, "checked_in")] = count.checked_in_people
        counts[(*key, "seen")] = count.seen_by_bluezone
        counts[(*key, "unseen")] = count.checked_in_people - count.seen_by_bluezone
        groups.append(Group((*key, "checked_in"), ((*key, "seen"), (*key, "unseen"))))
        if count.scope != "province":
            by_day.setdefault(count.day, []).append(count)
    for total in (c for c in coverage.trend if c.scope == "province"):
        rows = by_day.get(total.day, [])
        for measure in COVERAGE_MEASURES:
            groups.append(Group((*coverage_key(total), measure), tuple((*coverage_key(c), measure) for c in rows)))
    return protect(counts, groups, public=public)
