"""What one province run produced: each output's results and files, and the headline numbers."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from jobs.publish.province.compliance import Compliance
from jobs.publish.province.coverage import Coverage
from jobs.publish.province.figures import ProvinceFigures
from jobs.publish.province.map import ProvinceMap
from jobs.publish.province.notices import Notices
from jobs.publish.province.venue_risk import VenueRiskRanking


@dataclass(frozen=True)
class ProvinceSummary:
    """What one province run wrote, and the numbers a report or a console line leads with."""

    lake_root: str
    day: date
    rules_version: str
    notices: Notices
    compliance: Compliance
    coverage: Coverage
    venue_risk: VenueRiskRanking
    epidemic_map: ProvinceMap
    public: ProvinceFigures
    """What the public files, the map and the public report show."""

    def figures(self, public: bool) -> ProvinceFigures:
        """The public's figures, or the tracers' (exact, every venue listed)."""
        if public:
            return self.public
        return ProvinceFigures.of(self.notices, self.venue_risk, self.coverage, public=False)

    @property
    def paths(self) -> Mapping[str, str]:
        """Every file written, keyed `<output>.<file>` (e.g. `notices.notices_public_txt`)."""
        parts: dict[str, Mapping[str, str]] = {
            "notices": self.notices.paths,
            "compliance": self.compliance.paths,
            "coverage": self.coverage.paths,
            "venue_risk": self.venue_risk.paths,
            "map": self.epidemic_map.paths,
        }
        return {f"{output}.{name}": path for output, files in parts.items() for name, path in files.items()}

    @property
    def map_path(self) -> str:
        """`reports/date=D/map.html`, beside the public report that links to it."""
        return self.epidemic_map.paths["map_html"]

    @property
    def notices_published(self) -> int:
        return len(self.notices.published)

    @property
    def notices_withheld(self) -> int:
        return len(self.notices.withheld)

    @property
    def qr_points_line(self) -> str:
        return self.compliance.total_line

    @property
    def bluezone_share_lower_bound(self) -> float | None:
        return self.coverage.total.lower_bound

    @property
    def venue_exposures(self) -> int:
        return self.venue_risk.exposures

    def headline(self) -> list[str]:
        """A few console lines for `tracelake province-report` and `tracelake demo`."""
        share = self.bluezone_share_lower_bound
        total = self.coverage.total
        return [
            f"Public notices: {self.notices_published} time ranges at {self.notices.published_venues} venues "
            f"({self.notices_withheld} withheld, under {self.notices.visitor_floor} visitors or unregistered)",
            self.qr_points_line,
            f"Bluezone seen for {total.seen_by_bluezone:,} of {total.checked_in_people:,} people who checked in"
            + ("" if share is None else f" (at least {100 * share:.1f} % app adoption)"),
            f"Venue exposures: {self.venue_exposures:,} (the map's place is in the list of outputs)",
        ]
