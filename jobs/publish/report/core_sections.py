"""The report's core sections: what every province's daily page shows.

Each section reads the analysts' views through the `ReportContext` and prints
its numbers as `Metric`s named `<section key>.<what>`, so a test or a
scraper finds `districts.760.f1` on any day's page. Every count of people
goes through a `jobs.disclosure.Disclosure`: on the public page a count from
1 to 9, and any cell that would give one back, reads `<10` or `≥10`, charts
leave hidden counts out of their bars, and axes step by at least 10. The
tracers' page prints every number and names clusters by their root cases.
"""

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from jobs.disclosure import ALL, SMALL_CEILING, Disclosure, Group, protect
from jobs.publish.analyst_db import UNKNOWN_DISTRICT
from jobs.publish.report.clusters import ClusterCount
from jobs.publish.report.context import TRACE_INPUT_COUNTS, ReportContext
from jobs.publish.report.html import Metric, columns, format_number, link, note, slug, table
from jobs.publish.report.section import ReportSection
from jobs.publish.report.svg import PALETTE, Series, horizontal_bars, vertical_bars
from jobs.publish.worklists import district_dir_name as slug_dir

TIER_COLORS = {"F1": PALETTE[0], "F2": PALETTE[1]}
CHANNEL_NAMES = {"venue": "Địa điểm (QR)", "ble": "Bluetooth"}
CHANNEL_COLORS = {"venue": PALETTE[2], "ble": PALETTE[3]}
TOPIC_NAMES = {
    "checkins": "Check-in (QR)",
    "proximity": "Bluetooth",
    "case_reports": "Báo cáo ca bệnh",
    "venues": "Địa điểm",
}


@dataclass(frozen=True)
class Band:
    """A range of counts shown as one row: `metric` names it on the page, `label` is what a reader sees."""

    metric: str
    label: str
    low: int
    high: int | None

    def holds(self, count: int) -> bool:
        return self.low <= count and (self.high is None or count <= self.high)


DEGREE_BUCKETS: tuple[Band, ...] = (
    Band("1", "1", 1, 1),
    Band("2", "2", 2, 2),
    Band("3-4", "3-4", 3, 4),
    Band("5-9", "5-9", 5, 9),
    Band("10-19", "10-19", 10, 19),
    Band("20plus", "20+", 20, None),
)
PUBLIC_DEGREE_BUCKETS: tuple[Band, ...] = (
    Band("under10", "<10", 1, 9),
    Band("10-19", "10-19", 10, 19),
    Band("20plus", "20+", 20, None),
)
"""A degree is itself a count of people: the public page does not split it below 10."""
CLUSTER_SIZE_BANDS: tuple[Band, ...] = (
    Band("under10", "<10", 1, 9),
    Band("10-49", "10-49", 10, 49),
    Band("50-99", "50-99", 50, 99),
    Band("100plus", "100+", 100, None),
)
TOP_CLUSTERS = 10
STAGES_SHOWN = ("in", "landed", "quarantined")


def _drawn(shown: Disclosure[Any], key: Any) -> int:
    """A bar's length: the count, or nothing for a hidden one."""
    return shown.count(key) or 0


def _printed(shown: Disclosure[Any], key: Any) -> str:
    figure = shown.figure(key)
    return figure if isinstance(figure, str) else format_number(figure)


def _card(label: str, metric: Metric, hint: str = "") -> str:
    hint_html = f'<div class="hint">{escape(hint)}</div>' if hint else ""
    return f'<div class="card"><div class="label">{escape(label)}</div>{metric.html(css="big")}{hint_html}</div>'


def district_label(code: str) -> str:
    return "Chưa rõ (unknown)" if code == UNKNOWN_DISTRICT else f"Quận/huyện {code}"


def short_pseudonym(pseudonym: str) -> str:
    """Enough of a pseudonym to look it up in the analysts' DuckDB, short enough for a table."""
    return pseudonym if len(pseudonym) <= 10 else pseudonym[:8] + "…"


class OverviewSection(ReportSection):
    """The day in four numbers, then the events' path from Kafka to the lake."""

    key = "overview"
    title = "Tổng quan"
    subtitle = "Events in → landed → quarantined; people to contact"

    def render(self, context: ReportContext) -> str:
        funnel, events = context.funnel, context.events
        if context.public:
            exposed, f1, f2 = (context.districts.figure((ALL, tier)) for tier in (ALL, "F1", "F2"))
            basis = "F1 + F2, theo quận/huyện"
        else:
            tiers = context.export_tiers
            exposed, f1, f2 = sum(tiers.values()), tiers.get("F1", 0), tiers.get("F2", 0)
            basis = "F1 + F2, theo file xuất"
        cards = "".join(
            [
                _card("Người cần liên hệ", Metric("overview.exposed", exposed), basis),
                _card("F0 (ca xác nhận)", Metric("overview.f0", context.cases.figure("confirmed"))),
                _card("F1", Metric("overview.f1", f1)),
                _card("F2", Metric("overview.f2", f2)),
            ]
        )
        stages = [("in", "Sự kiện vào (Kafka)"), ("landed", "Đã ghi vào lake"), ("quarantined", "Bị cách ly (lỗi)")]
        totals = [(ALL, ALL if stage == "in" else stage) for stage, _label in stages]
        chart = horizontal_bars(
            [label for _stage, label in stages],
            [Series("sự kiện", [_drawn(events, key) for key in totals], PALETTE[0])],
            title="Luồng sự kiện trong ngày",
            value_metrics=[f"overview.{stage}" for stage, _label in stages],
            value_labels=[_printed(events, key) for key in totals] if context.public else None,
        )
        topic_rows = [
            [
                TOPIC_NAMES.get(topic, topic),
                *(Metric(f"overview.{topic}.{stage}", events.figure((topic, ALL if stage == "in" else stage)))
                  for stage in STAGES_SHOWN),
            ]
            for topic in funnel.topics
        ]
        sources = ", ".join(f"{stage}: {funnel.total[stage].source}" for stage, _label in stages)
        return (
            f'<div class="cards">{cards}</div>'
            + columns(
                chart + note(f"Nguồn số liệu · sources — {sources}."),
                table(["Chủ đề (topic)", "Vào", "Ghi nhận", "Cách ly"], topic_rows) + self._trace_inputs(context),
            )
        )

    def _trace_inputs(self, context: ReportContext) -> str:
        """What the trace run read over its whole lookback, from its manifest: late data shows up here."""
        inputs = context.trace_inputs
        if not inputs:
            return ""
        events = context.events
        rows = [
            [TOPIC_NAMES.get(topic, topic),
             *(Metric(f"overview.trace.{topic}.{name}", events.figure(("trace", topic, name)) if name in counts
                      else None)
               for name in TRACE_INPUT_COUNTS)]
            for topic, counts in sorted(inputs.items())
        ]
        return (
            "<details><summary>Dữ liệu lần chạy truy vết đã đọc (cả giai đoạn hồi cứu) · trace inputs</summary>"
            + table(["Chủ đề", "Đọc", "Trùng lặp bỏ", "Giữ lại"], rows)
            + "</details>"
        )


class DistrictSection(ReportSection):
    """F1/F2 per district; on the tracers' page each district's worklist is one click away."""

    key = "districts"
    title = "F1/F2 theo quận/huyện"
    subtitle = "Exposed people by district (where the exposure happened)"

    def render(self, context: ReportContext) -> str:
        districts = context.districts
        codes = sorted({code for code, _tier in districts.counts if code is not ALL})
        if context.public:
            order = sorted(codes, key=lambda code: (code == UNKNOWN_DISTRICT, code))
        else:
            order = sorted(codes, key=lambda code: (code == UNKNOWN_DISTRICT, -districts.counts[(code, ALL)], code))
        chart = horizontal_bars(
            [district_label(code) for code in order],
            [Series(tier, [_drawn(districts, (code, tier)) for code in order], TIER_COLORS[tier])
             for tier in ("F1", "F2")],
            title="F1/F2 theo quận/huyện",
            value_metrics=[f"districts.{slug(code)}.total" for code in order],
            value_labels=[_printed(districts, (code, ALL)) for code in order] if context.public else None,
        )
        tiers = [Metric(f"districts.{slug(code)}.{tier.lower()}", districts.figure((code, tier)))
                 for code in order for tier in ("F1", "F2")]
        if context.public:
            rows = [[district_label(code), *tiers[2 * index:2 * index + 2]] for index, code in enumerate(order)]
            rendered = table(["Quận/huyện", "F1", "F2"], rows, css="districts")
            return columns(chart, rendered) + note(
                "Số người dưới 10 hiện là <10, và một ô khác cùng hàng hoặc cột được ẩn (≥10 hay <10) để không "
                "suy ra được nó từ tổng. Người chỉ có tiếp xúc Bluetooth được xếp theo nơi check-in nhiều nhất trong "
                "14 ngày."
            )
        links = context.worklist_links()
        rows = [
            [district_label(code), *tiers[2 * index:2 * index + 2],
             link(links[slug_dir(code)], "worklist.csv") if slug_dir(code) in links else "—"]
            for index, code in enumerate(order)
        ]
        rendered = table(["Quận/huyện", "F1", "F2", "Danh sách gọi"], rows, css="districts")
        return columns(chart, rendered) + note(
            "Số chính xác, chỉ dành cho người truy vết; báo cáo công khai ẩn các số người dưới 10. "
            "Người chỉ có tiếp xúc Bluetooth được xếp theo nơi check-in nhiều nhất trong 14 ngày."
        )


class HourSection(ReportSection):
    """When exposures start, by local hour and channel: where to look for the next cluster."""

    key = "hours"
    title = "Tiếp xúc theo giờ"
    subtitle = "Exposures by local hour of their start, venue vs Bluetooth"

    def render(self, context: ReportContext) -> str:
        channels = ("venue", "ble")
        found = {
            (int(hour), channel): int(edges)
            for hour, channel, edges in context.rows(
                "SELECT hour(local_time(exposure_start)), channel, count(*) FROM contacts "
                "WHERE date = $day GROUP BY ALL"
            )
        }
        cells: dict[Any, int] = {(hour, channel): found.get((hour, channel), 0)
                                 for hour in range(24) for channel in channels}
        totals = {(ALL, channel): sum(found.get((hour, channel), 0) for hour in range(24)) for channel in channels}
        groups: list[Group[Any]] = [
            Group((ALL, channel), tuple((hour, channel) for hour in range(24))) for channel in channels
        ]
        groups.append(Group(ALL, tuple(totals)))
        # The venue exposures are printed by the province's pages: whatever they hide, Bluetooth must not show.
        shown = protect({**cells, **totals, ALL: sum(cells.values())}, groups, public=context.public,
                        known=[(ALL, "venue")])
        chart = vertical_bars(
            [f"{hour:02d}" for hour in range(24)],
            [
                Series(CHANNEL_NAMES[channel], [_drawn(shown, (hour, channel)) for hour in range(24)],
                       CHANNEL_COLORS[channel])
                for channel in channels
            ],
            title="Số tiếp xúc theo giờ bắt đầu (giờ địa phương)",
            label_every=2,
            least_step=SMALL_CEILING if context.public else 1,
        )
        rows = [
            [f"{hour:02d}:00", *(Metric(f"hours.{hour:02d}.{channel}", shown.figure((hour, channel)))
                                 for channel in channels)]
            for hour in range(24)
            if any(found.get((hour, channel)) for channel in channels)
        ]
        details = (
            "<details><summary>Bảng số liệu · table</summary>"
            + table(["Giờ", CHANNEL_NAMES["venue"], CHANNEL_NAMES["ble"]], rows)
            + "</details>"
        )
        total = Metric("hours.total", shown.figure(ALL))
        return chart + f'<p class="note">Tổng số tiếp xúc (cạnh của đồ thị): {total.html()}</p>' + details


class DegreeSection(ReportSection):
    """How many people each F0/F1 exposed: a few large numbers mean superspreading venues."""

    key = "degrees"
    title = "Số người tiếp xúc của mỗi F0/F1"
    subtitle = "Degree distribution: distinct people each source exposed"

    def render(self, context: ReportContext) -> str:
        sources_of_degree = {
            int(degree): int(sources)
            for degree, sources in context.rows(
                "SELECT degree, count(*) FROM (SELECT count(DISTINCT target_pseudonym) AS degree FROM contacts "
                "WHERE date = $day GROUP BY source_pseudonym) GROUP BY degree"
            )
        }
        buckets = PUBLIC_DEGREE_BUCKETS if context.public else DEGREE_BUCKETS
        counts: dict[str, int] = {
            bucket.metric: sum(sources for degree, sources in sources_of_degree.items() if bucket.holds(degree))
            for bucket in buckets
        }
        counts.update(
            sources=sum(sources_of_degree.values()),
            exposures=sum(degree * sources for degree, sources in sources_of_degree.items()),
            largest=max(sources_of_degree, default=0),
        )
        shown = protect(counts, [Group("sources", tuple(bucket.metric for bucket in buckets))],
                        public=context.public)
        chart = vertical_bars(
            [bucket.label for bucket in buckets],
            [Series("nguồn lây (F0/F1)", [_drawn(shown, bucket.metric) for bucket in buckets], PALETTE[4])],
            title="Phân bố bậc của đồ thị tiếp xúc",
            width=480,
            height=220,
            least_step=SMALL_CEILING if context.public else 1,
        )
        rows = [[f"{bucket.label} người", Metric(f"degrees.{bucket.metric}", shown.figure(bucket.metric))]
                for bucket in buckets]
        sources, exposures = shown.count("sources"), shown.count("exposures")
        mean = round(exposures / sources, 1) if sources and exposures is not None else None
        summary = (
            f'<p class="note">Nguồn lây: {Metric("degrees.sources", shown.figure("sources")).html()} · '
            f'trung bình {Metric("degrees.mean", mean).html()} · '
            f'lớn nhất {Metric("degrees.max", shown.figure("largest")).html()}</p>'
        )
        return columns(chart + summary, table(["Số người đã tiếp xúc", "Số nguồn"], rows))


class ClusterSection(ReportSection):
    """Connected components through F0/F1: the outbreaks the day's tracing reveals."""

    key = "clusters"
    title = "Chùm lây nhiễm"
    subtitle = "Transmission clusters: connected components through F0/F1"

    def render(self, context: ReportContext) -> str:
        clusters = context.clusters
        unlinked = Metric("clusters.unlinked_f0", context.cases.figure("unlinked"))
        if context.public:
            return self._public(clusters, unlinked)
        cards = "".join(
            [
                _card("Số chùm", Metric("clusters.count", len(clusters))),
                _card("Chùm lớn nhất", Metric("clusters.largest", clusters[0].size if clusters else 0), "người"),
                _card("F0 chưa có tiếp xúc", unlinked, "ca chưa truy được ai"),
            ]
        )
        rows = [
            [
                f"#{rank}",
                ", ".join(short_pseudonym(case) for case in cluster.cases) or "—",
                Metric(f"clusters.{rank}.cases", len(cluster.cases)),
                Metric(f"clusters.{rank}.f1", cluster.f1),
                Metric(f"clusters.{rank}.f2", cluster.f2),
                Metric(f"clusters.{rank}.size", cluster.size),
            ]
            for rank, cluster in enumerate(clusters[:TOP_CLUSTERS], start=1)
        ]
        chart = horizontal_bars(
            [f"#{rank}" for rank in range(1, min(len(clusters), TOP_CLUSTERS) + 1)],
            [
                Series("F0", [len(cluster.cases) for cluster in clusters[:TOP_CLUSTERS]], PALETTE[4]),
                Series("F1", [cluster.f1 for cluster in clusters[:TOP_CLUSTERS]], TIER_COLORS["F1"]),
                Series("F2", [cluster.f2 for cluster in clusters[:TOP_CLUSTERS]], TIER_COLORS["F2"]),
            ],
            title="Kích thước các chùm lớn nhất",
            label_width=60,
            value_metrics=None,
        ) if clusters else ""
        hidden = len(clusters) - TOP_CLUSTERS
        more = note(f"{hidden} chùm nhỏ hơn không hiển thị.") if hidden > 0 else ""
        return (
            f'<div class="cards">{cards}</div>'
            + columns(
                table(["Chùm", "Ca gốc (mã giả)", "F0", "F1", "F2", "Tổng"], rows, numeric_from=2) + more,
                chart,
            )
        )

    def _public(self, clusters: list[ClusterCount], unlinked: Metric) -> str:
        """Clusters counted by size band: a cluster's exact size, or who is in it, is not for everyone."""
        cards = "".join(
            [
                _card("Số chùm", Metric("clusters.count", len(clusters))),
                _card("F0 chưa có tiếp xúc", unlinked, "ca chưa truy được ai"),
            ]
        )
        rows = [
            [f"{band.label} người", Metric(f"clusters.size.{band.metric}",
                                           sum(1 for cluster in clusters if band.holds(cluster.size)))]
            for band in CLUSTER_SIZE_BANDS
        ]
        return f'<div class="cards">{cards}</div>' + table(["Kích thước chùm", "Số chùm"], rows) + note(
            "Số chùm không phải số người; kích thước từng chùm chỉ có trong bản của người truy vết."
        )


class QuarantineSection(ReportSection):
    """Why events were rejected: a producer's bug shows up here before it hides a contact.

    `ceiling` is the quarantined share above which the raw validation fails a day (the settings'
    `quarantine_ceiling`): a topic above it is flagged here too.
    """

    key = "quarantine"
    title = "Sự kiện bị cách ly"
    subtitle = "Quarantined events by topic and reason"

    def __init__(self, ceiling: float) -> None:
        self.ceiling = ceiling

    def render(self, context: ReportContext) -> str:
        events = context.events
        found = [("reason", topic, reason) for topic, reason in context.quarantine_reasons]
        chart = horizontal_bars(
            [f"{TOPIC_NAMES.get(topic, topic)}: {reason}" for _kind, topic, reason in found],
            [Series("sự kiện", [_drawn(events, key) for key in found], PALETTE[4])],
            title="Lý do cách ly",
            width=600,
            label_width=300,
            value_metrics=[f"quarantine.{topic}.{slug(reason)}" for _kind, topic, reason in found],
            value_labels=[_printed(events, key) for key in found] if context.public else None,
        ) if found else note("Không có sự kiện nào bị cách ly · nothing quarantined.")
        ceiling = self.ceiling
        rows = []
        for topic in context.funnel.topics:
            landed, quarantined = events.count((topic, "landed")), events.count((topic, "quarantined"))
            seen = None if landed is None or quarantined is None else landed + quarantined
            share = round(100 * (quarantined or 0) / seen, 1) if seen else None if seen is None else 0.0
            flag = "—" if share is None else "⚠ vượt ngưỡng" if seen and share / 100 > ceiling else "ổn"
            rows.append([TOPIC_NAMES.get(topic, topic), Metric(f"quarantine.{topic}.share", share, " %"), flag])
        total = Metric("quarantine.total", events.figure(("reasons", ALL)))
        return columns(
            chart + f'<p class="note">Tổng cộng: {total.html()} sự kiện</p>',
            table(["Chủ đề", "Tỉ lệ cách ly", f"Ngưỡng {ceiling:.0%}"], rows, numeric_from=1),
        )


def core_sections(quarantine_ceiling: float) -> list[ReportSection]:
    """The sections every daily page starts with, in reading order; `quarantine_ceiling` as the settings say."""
    return [
        OverviewSection(),
        DistrictSection(),
        HourSection(),
        DegreeSection(),
        ClusterSection(),
        QuarantineSection(quarantine_ceiling),
    ]


def day_title(day: date) -> str:
    return f"Báo cáo truy vết ngày {day.strftime('%d/%m/%Y')}"
