"""The epidemic map: one static HTML page a district office can open from a USB stick.

Bắc Giang asked for an epidemic map next to its health declarations. Venues
sit at their lat/lon (an equirectangular projection fitted to the province's
bounding box), coloured by the exposures they caused and sized by their
check-ins, beside a table of district totals. Everything is inline (SVG and
CSS, no tiles, no scripts), so it renders offline and in a sandboxed viewer.
Every number sits in an element with `data-metric` so tests and scrapers read
the page, not its pixels. The map is public: it draws only the venues
`ProvinceFigures` lists, prints counts of people as it discloses them (`<10`,
`≥10`), and sizes circles by bands of check-ins, never by the exact count.
"""

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from jobs.disclosure import LARGE, SMALL, SMALL_CEILING, Figure
from jobs.publication import DIRECT, DayOutputs
from jobs.publish.province.compliance import Compliance, DistrictCompliance
from jobs.publish.province.coverage import Coverage
from jobs.publish.province.figures import ProvinceFigures
from jobs.publish.province.outputs import write_text
from jobs.publish.province.venue_risk import VenueRisk, VenueRiskRanking
from tracelake.core.lake import Lake

WIDTH = 640
HEIGHT = 560
MARGIN = 28
MIN_RADIUS = 2.5
MAX_RADIUS = 14.0
TOP_VENUES = 20
HIDDEN_COLOUR = "#9e9ac8"
"""A venue whose exposures are hidden as `≥10`: no band would tell the truth about it."""
SIZE_BANDS = (0, 1, SMALL_CEILING, 100, 1_000)
"""Check-ins from which a circle grows a size: 0, under 10, tens, hundreds, thousands."""


@dataclass(frozen=True)
class ExposureBand:
    low: int
    high: int | None
    colour: str

    def holds(self, exposures: int) -> bool:
        return exposures >= self.low and (self.high is None or exposures <= self.high)

    @property
    def label(self) -> str:
        if self.high is None:
            return f"{self.low:,}+"
        if self.low > 0 and self.high < SMALL_CEILING:
            return SMALL
        return f"{self.low:,}" if self.low == self.high else f"{self.low:,}–{self.high:,}"


EXPOSURE_BANDS: tuple[ExposureBand, ...] = (
    ExposureBand(0, 0, "#bdbdbd"),
    ExposureBand(1, 9, "#ffffb2"),
    ExposureBand(10, 99, "#fecc5c"),
    ExposureBand(100, 999, "#fd8d3c"),
    ExposureBand(1_000, 9_999, "#f03b20"),
    ExposureBand(10_000, None, "#bd0026"),
)
"""Fixed powers of ten, so a colour means the same on every day's map, from one exposure to an outbreak's
market (a pair of stays is one exposure, so a busy venue reaches tens of thousands)."""


def band_colour(exposures: Figure) -> str:
    if exposures == LARGE:
        return HIDDEN_COLOUR
    count = 1 if exposures == SMALL else int(exposures)
    return next(band.colour for band in EXPOSURE_BANDS if band.holds(count))


@dataclass(frozen=True)
class DistrictTotal:
    """One row of the table beside the map; `district_code` None gathers unregistered venues."""

    province_code: str | None
    district_code: str | None
    registered_venues: int
    active_venues: int
    checkins: Figure
    exposures: Figure
    f0_visits: Figure
    bluezone_share: float | None

    @property
    def key(self) -> str:
        return self.district_code if self.district_code is not None else "unregistered"


def district_totals(
    risk: VenueRiskRanking, compliance: Compliance, coverage: Coverage, figures: ProvinceFigures
) -> tuple[DistrictTotal, ...]:
    """District totals from the three exports, as `figures` discloses them, so the map and the CSV files agree."""
    registration: dict[tuple[str | None, str | None], DistrictCompliance] = {
        (d.province_code, d.district_code): d for d in compliance.districts
    }
    share = {(c.province_code, c.district_code): figures.lower_bound(c) for c in coverage.districts}
    keys = sorted(
        {(v.province_code, v.district_code) for v in risk.venues} | set(registration),
        key=lambda key: (key[1] is None, key[0] or "", key[1] or ""),
    )
    totals = []
    for key in keys:
        registered = registration.get(key)
        totals.append(
            DistrictTotal(
                province_code=key[0],
                district_code=key[1],
                registered_venues=registered.registered_venues if registered else 0,
                active_venues=registered.active_venues if registered else 0,
                checkins=figures.district(*key, "checkins"),
                exposures=figures.district(*key, "exposures"),
                f0_visits=figures.district(*key, "f0_visits"),
                bluezone_share=share.get(key),
            )
        )
    return tuple(totals)


@dataclass(frozen=True)
class Projection:
    """Equirectangular: longitude shrunk by cos(mid-latitude), fitted into the drawing, north up."""

    lat_max: float
    lon_min: float
    x_per_degree: float
    y_per_degree: float
    x_offset: float
    y_offset: float

    @classmethod
    def fit(cls, points: Sequence[tuple[float, float]], width: float, height: float, margin: float) -> "Projection":
        lats = [lat for lat, _ in points]
        lons = [lon for _, lon in points]
        lat_min, lat_max, lon_min, lon_max = min(lats), max(lats), min(lons), max(lons)
        shrink = math.cos(math.radians((lat_min + lat_max) / 2))
        span_x = (lon_max - lon_min) * shrink
        span_y = lat_max - lat_min
        room_x, room_y = width - 2 * margin, height - 2 * margin
        scale = min(room_x / span_x if span_x > 0 else math.inf, room_y / span_y if span_y > 0 else math.inf)
        if math.isinf(scale):
            scale = 1.0
        return cls(
            lat_max=lat_max,
            lon_min=lon_min,
            x_per_degree=scale * shrink,
            y_per_degree=scale,
            x_offset=margin + (room_x - span_x * scale) / 2,
            y_offset=margin + (room_y - span_y * scale) / 2,
        )

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        return (
            self.x_offset + (lon - self.lon_min) * self.x_per_degree,
            self.y_offset + (self.lat_max - lat) * self.y_per_degree,
        )


def radius(checkins: Figure) -> float:
    """A size per band of check-ins (0, under 10, tens, hundreds, thousands): an exact count would show in pixels."""
    count = 1 if checkins == SMALL else SMALL_CEILING if checkins == LARGE else int(checkins)
    step = sum(1 for floor in SIZE_BANDS[1:] if count >= floor)
    return MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * step / (len(SIZE_BANDS) - 1)


def _text(value: Figure) -> str:
    return value if isinstance(value, str) else f"{value:,}"


def _number(metric: str, value: Figure, tag: str = "td") -> str:
    data = "" if isinstance(value, str) else str(value)
    shown = html.escape(_text(value))
    return f'<{tag} class="n" data-metric="{html.escape(metric)}" data-value="{data}">{shown}</{tag}>'


def _share(metric: str, value: float | None, tag: str = "td") -> str:
    shown = "–" if value is None else f"{100 * value:.1f} %"
    data = "" if value is None else f"{value:.4f}"
    return f'<{tag} class="n" data-metric="{html.escape(metric)}" data-value="{data}">{shown}</{tag}>'


def _svg(venues: Sequence[VenueRisk], figures: ProvinceFigures) -> str:
    placed = [v for v in venues if v.lat is not None and v.lon is not None]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="Venues by exposures caused and check-ins">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#f7fbff" stroke="#c6dbef"/>',
    ]
    if not placed:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">No venue has coordinates</text>')
        return "".join([*parts, "</svg>"])
    project = Projection.fit([(v.lat, v.lon) for v in placed if v.lat is not None and v.lon is not None],
                             WIDTH, HEIGHT, MARGIN)
    for venue in sorted(placed, key=lambda v: -v.rank):
        assert venue.lat is not None and venue.lon is not None
        x, y = project(venue.lat, venue.lon)
        exposures, checkins = figures.venue(venue, "exposures"), figures.venue(venue, "checkins")
        tip = (f"{venue.venue_name or venue.venue_id} ({venue.district_code}): {_text(exposures)} exposures, "
               f"{_text(figures.venue(venue, 'f0_visits'))} F0 visits, {_text(checkins)} check-ins")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius(checkins):.1f}" '
            f'fill="{band_colour(exposures)}" data-venue-id="{html.escape(venue.venue_id)}" '
            f'data-exposures="{html.escape(_text(exposures))}" data-checkins="{html.escape(_text(checkins))}">'
            f"<title>{html.escape(tip)}</title></circle>"
        )
    by_district: dict[str, list[tuple[float, float]]] = {}
    for venue in placed:
        assert venue.lat is not None and venue.lon is not None
        by_district.setdefault(venue.district_code or "?", []).append(project(venue.lat, venue.lon))
    for code, points in sorted(by_district.items()):
        x = sum(p[0] for p in points) / len(points)
        y = sum(p[1] for p in points) / len(points)
        parts.append(f'<text class="district" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{html.escape(code)}</text>')
    return "".join([*parts, "</svg>"])


def _size_label(index: int) -> str:
    floor = SIZE_BANDS[index]
    if index == len(SIZE_BANDS) - 1:
        return f"{floor:,}+"
    ceiling = SIZE_BANDS[index + 1] - 1
    return SMALL if floor == 1 else f"{floor:,}" if floor == ceiling else f"{floor:,}–{ceiling:,}"


def _legend() -> str:
    bands = "".join(
        f'<li><span class="swatch" style="background:{band.colour}"></span>{html.escape(band.label)}</li>'
        for band in EXPOSURE_BANDS
    ) + f'<li><span class="swatch" style="background:{HIDDEN_COLOUR}"></span>{html.escape(LARGE)} (hidden)</li>'
    sizes = "".join(
        f'<li><svg width="{2 * MAX_RADIUS + 2}" height="{2 * MAX_RADIUS + 2}">'
        f'<circle cx="{MAX_RADIUS + 1}" cy="{MAX_RADIUS + 1}" r="{radius(floor):.1f}" fill="#fff" stroke="#555"/>'
        f"</svg>{html.escape(_size_label(index))}</li>"
        for index, floor in enumerate(SIZE_BANDS)
    )
    return (
        '<div class="legend"><h3>Exposures caused</h3><ul class="bands">' + bands + "</ul>"
        '<h3>Check-ins on the day</h3><ul class="sizes">' + sizes + "</ul></div>"
    )


def _district_table(totals: Iterable[DistrictTotal]) -> str:
    rows = []
    for d in totals:
        prefix = f"district.{d.key}"
        label = d.district_code if d.district_code is not None else "unregistered venues"
        rows.append(
            f"<tr><th>{html.escape(label)}</th>"
            + _number(f"{prefix}.registered_venues", d.registered_venues)
            + _number(f"{prefix}.active_venues", d.active_venues)
            + _number(f"{prefix}.checkins", d.checkins)
            + _number(f"{prefix}.exposures", d.exposures)
            + _number(f"{prefix}.f0_visits", d.f0_visits)
            + _share(f"{prefix}.bluezone_share", d.bluezone_share)
            + "</tr>"
        )
    return (
        '<table class="districts"><caption>District totals</caption><thead><tr><th>District</th>'
        "<th>QR points</th><th>Active</th><th>Check-ins</th><th>Exposures</th>"
        "<th>F0 visits</th><th>Bluezone ≥</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _top_table(venues: Sequence[VenueRisk], figures: ProvinceFigures) -> str:
    rows = "".join(
        f"<tr><td>#{rank}</td><th>{html.escape(v.venue_name or v.venue_id)}</th>"
        f"<td>{html.escape(v.district_code or '–')}</td>"
        + _number(f"venue.{v.venue_id}.exposures", figures.venue(v, "exposures"))
        + _number(f"venue.{v.venue_id}.f0_visits", figures.venue(v, "f0_visits"))
        + _number(f"venue.{v.venue_id}.checkins", figures.venue(v, "checkins"))
        + "</tr>"
        for rank, v in enumerate(venues[:TOP_VENUES], start=1)
        if figures.venue(v, "exposures") != 0 or figures.venue(v, "f0_visits") != 0
    )
    return (
        f'<table class="top"><caption>Riskiest venues (top {TOP_VENUES})</caption><thead><tr><th>#</th>'
        "<th>Venue</th><th>District</th><th>Exposures</th><th>F0 visits</th><th>Check-ins</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 4px} .headline{margin:0 0 12px;color:#444}
.layout{display:flex;gap:20px;align-items:flex-start;flex-wrap:wrap}
figure{margin:0} .side{flex:1;min-width:420px}
svg text.district{font-size:15px;fill:#2c3e50;font-weight:700;paint-order:stroke;stroke:#fff;stroke-width:3px}
circle{stroke:#333;stroke-width:.5;fill-opacity:.85}
.legend ul{list-style:none;padding:0;margin:4px 0 10px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
.legend h3{font-size:13px;margin:6px 0 0} .swatch{display:inline-block;width:12px;height:12px;margin-right:4px;
border:1px solid #555;vertical-align:middle}
table{border-collapse:collapse;font-size:13px;margin-bottom:16px;width:100%} caption{text-align:left;font-weight:600;
padding-bottom:4px} th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left} td.n{text-align:right}
.districts thead th+th,.top thead th:nth-child(n+4){text-align:right}
.note{font-size:12px;color:#666;max-width:720px}
"""


@dataclass(frozen=True)
class ProvinceMap:
    day: date
    districts: tuple[DistrictTotal, ...]
    venues_drawn: int
    venues_not_drawn: int
    paths: Mapping[str, str] = field(default_factory=dict)


def map_html(
    day: date, risk: VenueRiskRanking, compliance: Compliance, coverage: Coverage, figures: ProvinceFigures
) -> str:
    totals = district_totals(risk, compliance, coverage, figures)
    listed = [v for v in risk.venues if figures.listed(v.venue_id)]
    drawn = sum(1 for v in listed if v.lat is not None and v.lon is not None)
    headline = (
        f'<p class="headline">{_number("province.exposures", figures.province("exposures"), "span")} exposures '
        f'caused at venues, {_number("province.f0_visits", figures.province("f0_visits"), "span")} F0 visits, '
        f'{_number("province.checkins", figures.province("checkins"), "span")} check-ins; '
        f'{_number("province.active_venues", compliance.active_venues, "span")} of '
        f'{_number("province.registered_venues", compliance.registered_venues, "span")} QR points active; '
        f'Bluezone seen for at least {_share("province.bluezone_share", figures.lower_bound(coverage.total), "span")} '
        "of the people who checked in.</p>"
    )
    note = (
        f'<p class="note">{_number("map.venues_drawn", drawn, "span")} venues drawn; '
        f'{_number("map.venues_not_drawn", len(listed) - drawn, "span")} without coordinates '
        "(unregistered venues among them) are counted in the tables but not drawn. Exposures are every tier's "
        "venue exposures in day D's contact graph; the Bluezone share is a lower bound of app adoption. "
        f"Counts of people under {SMALL_CEILING} read {SMALL}; a count reading {LARGE} is hidden so that no total "
        f"gives a small one back; a venue with fewer than {figures.visitor_floor} visitors, or whose risky-venue "
        "notice was withheld, is not on this page.</p>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Epidemic map {day.isoformat()}</title><style>{_STYLE}</style></head><body>"
        f'<h1>Epidemic map — <span data-metric="day">{day.isoformat()}</span></h1>{headline}'
        f'<div class="layout"><figure>{_svg(listed, figures)}<figcaption>{_legend()}</figcaption></figure>'
        f'<div class="side">{_district_table(totals)}{_top_table(listed, figures)}</div></div>{note}'
        "</body></html>\n"
    )


def build_map(
    lake_root: str,
    day: date,
    risk: VenueRiskRanking,
    compliance: Compliance,
    coverage: Coverage,
    figures: ProvinceFigures,
    outputs: DayOutputs = DIRECT,
) -> ProvinceMap:
    """Write the public `reports/date=D/map.html` (or where `outputs` stages it) from day D's venue risk,
    compliance and coverage."""
    for part in (risk, compliance, coverage):
        if part.day != day:
            raise ValueError(f"the map of {day} needs that day's results, got one of {part.day}")
    page = map_html(day, risk, compliance, coverage, figures)
    path = write_text(outputs.target(Lake(lake_root).report_day(day)), "map.html", page)
    listed = [v for v in risk.venues if figures.listed(v.venue_id)]
    drawn = sum(1 for v in listed if v.lat is not None and v.lon is not None)
    return ProvinceMap(
        day=day,
        districts=district_totals(risk, compliance, coverage, figures),
        venues_drawn=drawn,
        venues_not_drawn=len(listed) - drawn,
        paths={"map_html": path},
    )
