"""The province outputs as sections of the daily report (`jobs.publish.report`'s extension point).

Each section shows what one province output holds, from the `ProvinceSummary`
of the same run, so the page and the files cannot disagree; the numbers go
through `Metric` (named `<section key>.<what>`). On the public page every
count of people is printed as `summary.figures(public=True)` discloses it,
unlisted venues are left out, and the links go to the public files; the
tracers' page has the exact numbers, every venue, and their notices' copy.
Like the files, the sections never print a person.
Pass them as `build_report(..., extra_sections=province_sections(summary))`.
"""

from jobs.disclosure import Figure
from jobs.publish.province.coverage import CoverageCount
from jobs.publish.province.figures import ProvinceFigures
from jobs.publish.province.public import listed_silent, listed_venues, unregistered_checkins
from jobs.publish.province.summary import ProvinceSummary
from jobs.publish.report.context import ReportContext
from jobs.publish.report.html import Html, Metric, columns, link, note, slug, table
from jobs.publish.report.section import ReportSection
from tracelake.core.lake import EXPORTS, PUBLIC, REPORTS

SILENT_SHOWN = 10
RISKY_SHOWN = 10
PERCENT = "\u00a0%"
"""A no-break space keeps `64.7 %` on one line in a narrow column."""


class ProvinceSection(ReportSection):
    """A report section drawn from one province run; it refuses to render another day's page."""

    def __init__(self, summary: ProvinceSummary) -> None:
        self.summary = summary

    def render(self, context: ReportContext) -> str:
        if context.day != self.summary.day:
            raise ValueError(f"province outputs of {self.summary.day} on the report of {context.day}")
        return self.body(context, self.summary.figures(context.public))

    def body(self, context: ReportContext, figures: ProvinceFigures) -> str:
        raise NotImplementedError

    def metric(self, name: str, value: Figure | float | None, suffix: str = "") -> Metric:
        return Metric(f"{self.key}.{name}", value, suffix)

    def file_link(self, context: ReportContext, area: str, table_name: str, file_name: str) -> Html:
        return link(
            context.relative_link(area, table_name, f"date={self.summary.day.isoformat()}", file_name), file_name
        )


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


class NoticesSection(ProvinceSection):
    key = "province-notices"
    title = "Địa điểm liên quan đến ca F0 (thông báo công khai)"
    subtitle = "Public risky-venue notices: where residents should self-declare; small ranges withheld"

    def body(self, context: ReportContext, figures: ProvinceFigures) -> str:
        notices = self.summary.notices
        reasons: dict[str, int] = {}
        for withheld in notices.withheld:
            for reason in withheld.withheld_reasons:
                reasons[reason] = reasons.get(reason, 0) + 1
        published = table(
            ("Ngày · day", "Địa điểm · venue", "Quận/huyện · district", "Từ · from", "Đến · to"),
            (
                (r.day.strftime("%d/%m/%Y"), r.venue_name or r.venue_id, r.district, r.from_time, r.to_time)
                for r in notices.published
            ),
            numeric_from=5,
        )
        withheld_table = table(
            ("Không công bố vì · withheld because", "Khung giờ · ranges"),
            ((reason, self.metric(f"withheld.{slug(reason)}", count)) for reason, count in sorted(reasons.items())),
        )
        files = [self.file_link(context, PUBLIC, "notices", name)
                 for name in ("notices_public.txt", "notices_public.csv")]
        if not context.public:
            files.append(self.file_link(context, EXPORTS, "notices", "notices_tracers.csv"))
        return (
            f'<p class="note">{self.metric("published", len(notices.published)).html()} time ranges at '
            f'{self.metric("published_venues", notices.published_venues).html()} venues ready to post, '
            f'{self.metric("withheld", len(notices.withheld)).html()} withheld (fewer than '
            f"{notices.visitor_floor} visitors, or no registered name).</p>"
            + columns(published, withheld_table)
            + note(
                "Files: public text and CSV for the health department's site; the tracers' copy lists every range "
                "with its reason."
            )
            + f'<p class="note">{" · ".join(files)}</p>'
        )


class ComplianceSection(ProvinceSection):
    key = "province-compliance"
    title = "Điểm quét QR đang hoạt động"
    subtitle = "QR-point compliance: registered venues with at least one check-in on the day"

    def body(self, context: ReportContext, figures: ProvinceFigures) -> str:
        compliance = self.summary.compliance
        share = compliance.active_venues / compliance.registered_venues if compliance.registered_venues else None
        districts = table(
            ("Quận/huyện · district", "Đăng ký · registered", "Hoạt động · active", "Im lặng · silent", "%"),
            (
                (
                    d.district_code,
                    self.metric(f"{slug(d.district_code)}.registered", d.registered_venues),
                    self.metric(f"{slug(d.district_code)}.active", d.active_venues),
                    self.metric(f"{slug(d.district_code)}.silent", d.silent_venues),
                    self.metric(
                        f"{slug(d.district_code)}.active_percent",
                        _percent(d.active_venues / d.registered_venues) if d.registered_venues else None,
                        " %",
                    ),
                )
                for d in compliance.districts
            ),
        )
        silent_venues = listed_silent(compliance, figures)
        silent = table(
            ("Địa điểm · venue", "Quận/huyện · district", "Loại · kind", "Im lặng · silent for"),
            (
                (v.venue_name, v.district_code, v.venue_kind or "", "never" if v.days_silent is None
                 else f"{v.days_silent} d")
                for v in silent_venues[:SILENT_SHOWN]
            ),
            numeric_from=3,
        )
        files = " · ".join(self.file_link(context, PUBLIC, "compliance", name)
                           for name in ("summary.txt", "districts.csv", "silent_venues.csv"))
        return (
            f'<p class="note">{self.metric("active", compliance.active_venues).html()} of '
            f'{self.metric("registered", compliance.registered_venues).html()} QR points active '
            f'({self.metric("active_percent", _percent(share), PERCENT).html()}); '
            f'{self.metric("unregistered_checkins", unregistered_checkins(figures)).html()} check-ins at '
            f"unregistered QR points.</p>"
            + columns(districts, f"<h3>Longest silent (of {len(silent_venues):,})</h3>{silent}")
            + f'<p class="note">{files}</p>'
        )


class CoverageSection(ProvinceSection):
    key = "province-coverage"
    title = "Độ phủ Bluezone"
    subtitle = "Bluezone coverage: a lower bound of app adoption among people who checked in"

    def _row(
        self, name: str, label: str, count: CoverageCount, figures: ProvinceFigures
    ) -> tuple[str, Metric, Metric, Metric]:
        return (
            label,
            self.metric(f"{name}.checked_in", figures.people(count, "checked_in")),
            self.metric(f"{name}.seen", figures.people(count, "seen")),
            self.metric(f"{name}.lower_bound_percent", _percent(figures.lower_bound(count)), PERCENT),
        )

    def body(self, context: ReportContext, figures: ProvinceFigures) -> str:
        coverage = self.summary.coverage
        header = ("", "Đã quét QR · checked in", "Có Bluezone · seen", "≥ %")
        districts = table(
            ("Quận/huyện · district", *header[1:]),
            (
                self._row(slug(c.district_code or "unregistered"), c.district_code or "unregistered venues", c,
                          figures)
                for c in coverage.districts
            ),
        )
        trend = table(
            ("Ngày · day", *header[1:]),
            (
                self._row(f"trend.{c.day.isoformat()}", c.day.strftime("%d/%m"), c, figures)
                for c in coverage.trend
                if c.scope == "province"
            ),
        )
        total = coverage.total
        lower_bound = self.metric("lower_bound_percent", _percent(figures.lower_bound(total)), PERCENT)
        files = " · ".join(self.file_link(context, PUBLIC, "coverage", name) for name in ("districts.csv", "trend.csv"))
        return (
            f'<p class="note">{self.metric("seen", figures.people(total, "seen")).html()} of '
            f'{self.metric("checked_in", figures.people(total, "checked_in")).html()} people who checked in also '
            f"appear in Bluetooth sightings: at least {lower_bound.html()} run the app.</p>"
            + columns(districts, trend)
            + note(
                "A lower bound: a phone with Bluezone that met nobody, or has not uploaded its sightings yet, is not "
                "counted, so recent days rise as uploads arrive."
            )
            + f'<p class="note">{files}</p>'
        )


class VenueRiskSection(ProvinceSection):
    key = "province-venue-risk"
    title = "Nguy cơ theo địa điểm"
    subtitle = "Venue risk: exposures caused, F0 visits, check-ins on the day"

    def body(self, context: ReportContext, figures: ProvinceFigures) -> str:
        risky = [
            (rank, v) for rank, v in listed_venues(self.summary.venue_risk, figures)
            if figures.venue(v, "exposures") != 0 or figures.venue(v, "f0_visits") != 0
        ][:RISKY_SHOWN]
        rows = table(
            ("#", "Địa điểm · venue", "Quận/huyện · district", "Tiếp xúc · exposures", "Lượt F0 · F0 visits",
             "Check-in"),
            (
                (
                    f"#{rank}",
                    v.venue_name or f"{v.venue_id} (unregistered)",
                    v.district_code or "",
                    self.metric(f"{slug(v.venue_id)}.exposures", figures.venue(v, "exposures")),
                    self.metric(f"{slug(v.venue_id)}.f0_visits", figures.venue(v, "f0_visits")),
                    self.metric(f"{slug(v.venue_id)}.checkins", figures.venue(v, "checkins")),
                )
                for rank, v in risky
            ),
            numeric_from=3,
        )
        return (
            f'<p class="note">{self.metric("exposures", figures.province("exposures")).html()} venue exposures in '
            "the day's contact graph.</p>"
            + rows
            + f'<p class="note">{self.file_link(context, PUBLIC, "venue_risk", "venue_risk.csv")}</p>'
        )


class MapSection(ProvinceSection):
    key = "province-map"
    title = "Bản đồ dịch tễ"
    subtitle = "Epidemic map: venues coloured by exposures caused, sized by check-ins"

    def body(self, context: ReportContext, figures: ProvinceFigures) -> str:
        drawn = self.summary.epidemic_map.venues_drawn
        href = context.relative_link(REPORTS, f"date={self.summary.day.isoformat()}", "map.html")
        return (
            f'<p>{link(href, "Mở bản đồ · open the map")}: '
            f'{self.metric("venues_drawn", drawn).html()} venues placed by their coordinates, with district totals '
            "beside them; it opens offline and, like the public report, hides small counts.</p>"
        )


def province_sections(summary: ProvinceSummary) -> list[ReportSection]:
    """The report sections of one province run, in reading order."""
    return [
        NoticesSection(summary),
        ComplianceSection(summary),
        CoverageSection(summary),
        VenueRiskSection(summary),
        MapSection(summary),
    ]
