"""Province outputs for day D: public venue notices, QR compliance, Bluezone coverage, venue risk, the map.

These answer what provincial health departments asked of 2021's tracing data
(Thanh Hóa's public venue lists, Khánh Hòa's count of silent QR points and app
coverage, Bắc Giang's epidemic map and workplace risk). They read the lake the
trace job left for D and never write anything but their own files: the public
notices, compliance, coverage and venue risk under `public/<table>/date=D/`,
the map beside the public report, and the tracers' notices (with visitors and
F0 counts) under `exports/notices/date=D/`. What the public sees is decided
once, in `ProvinceFigures`: no count of people from 1 to 9, no venue under
the notices' visitor floor. `build_province_outputs` runs all five on one
shared read of the lake.
"""

from collections.abc import Mapping
from datetime import date

from jobs.publication import DIRECT, DayOutputs
from jobs.publish.province.compliance import build_compliance
from jobs.publish.province.coverage import build_coverage
from jobs.publish.province.figures import ProvinceFigures
from jobs.publish.province.lake_views import ProvinceInputError, ProvinceSources
from jobs.publish.province.map import build_map
from jobs.publish.province.notices import DEFAULT_VISITOR_FLOOR, build_notices
from jobs.publish.province.public import write_compliance, write_coverage, write_venue_risk
from jobs.publish.province.sections import ProvinceSection, province_sections
from jobs.publish.province.summary import ProvinceSummary
from jobs.publish.province.venue_risk import build_venue_risk
from tracelake.core.rules import Rules

__all__ = [
    "DEFAULT_VISITOR_FLOOR",
    "ProvinceFigures",
    "ProvinceInputError",
    "ProvinceSection",
    "ProvinceSummary",
    "build_province_outputs",
    "province_sections",
]


def build_province_outputs(
    lake_root: str,
    day: date,
    rules: Rules,
    *,
    visitor_floor: int = DEFAULT_VISITOR_FLOOR,
    district_names: Mapping[str, str] | None = None,
    outputs: DayOutputs = DIRECT,
) -> ProvinceSummary:
    """Run notices, compliance, coverage, venue risk and the map for day D, reading the lake once.

    `district_names` (code → name) only makes the public notice text friendlier: the venues topic
    carries district codes, not names. Raises `ProvinceInputError` when the trace job has not
    written D's curated cases and contacts: an empty notice must never mean "not computed".
    `outputs` says where D's curated tables are read and every file written (`jobs.publication`).
    """
    sources = ProvinceSources.open(lake_root, day, rules, outputs)
    try:
        notices = build_notices(
            lake_root, day, rules, visitor_floor=visitor_floor, district_names=district_names, sources=sources
        )
        compliance = build_compliance(lake_root, day, rules, sources=sources)
        coverage = build_coverage(lake_root, day, rules, sources=sources)
        venue_risk = build_venue_risk(lake_root, day, rules, sources=sources)
    finally:
        sources.close()
    public = ProvinceFigures.of(notices, venue_risk, coverage, public=True)
    compliance = write_compliance(lake_root, compliance, public, outputs)
    coverage = write_coverage(lake_root, coverage, public, outputs)
    venue_risk = write_venue_risk(lake_root, venue_risk, public, outputs)
    epidemic_map = build_map(lake_root, day, venue_risk, compliance, coverage, public, outputs)
    return ProvinceSummary(
        lake_root=lake_root,
        day=day,
        rules_version=rules.version,
        notices=notices,
        compliance=compliance,
        coverage=coverage,
        venue_risk=venue_risk,
        epidemic_map=epidemic_map,
        public=public,
    )
