"""The report's core sections: what every province's daily page shows.

Each section reads the analysts' views through the `ReportContext` and prints
its numbers as `Metric`s named `<section key>.<what>`, so a test or a
scraper finds `districts.760.f1` on any day's page.
"""

from datetime import date
from html import escape

from jobs.analyst_db import UNKNOWN_DISTRICT
from jobs.report.clusters import ContactEdge, transmission_clusters
from jobs.report.context import TRACE_INPUT_COUNTS, ReportContext
from jobs.report.html import Metric, columns, link, note, slug, table
from jobs.report.section import ReportSection
from jobs.report.svg import PALETTE, Series, horizontal_bars, vertical_bars
from jobs.worklists import district_dir_name as slug_dir
from tracelake.settings import Settings

TIER_COLORS = {"F1": PALETTE[0], "F2": PALETTE[1]}
CHANNEL_NAMES = {"venue": "Địa điểm (QR)", "ble": "Bluetooth"}
CHANNEL_COLORS = {"venue": PALETTE[2], "ble": PALETTE[3]}
TOPIC_NAMES = {
    "checkins": "Check-in (QR)",
    "proximity": "Bluetooth",
    "case_reports": "Báo cáo ca bệnh",
    "venues": "Địa điểm",
}
DEGREE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1),
    ("2", 2, 2),
    ("3-4", 3, 4),
    ("5-9", 5, 9),
    ("10-19", 10, 19),
    ("20+", 20, None),
)
TOP_CLUSTERS = 10
STAGES_SHOWN = ("in", "landed", "quarantined")


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
        funnel = context.funnel
        f0 = int(context.scalar("SELECT count(*) FROM cases WHERE date = $day AND status = 'confirmed'") or 0)
        cards = "".join(
            [
                _card("Người cần liên hệ", Metric("overview.exposed", funnel.exposed), "F1 + F2, theo file xuất"),
                _card("F0 (ca xác nhận)", Metric("overview.f0", f0)),
                _card("F1", Metric("overview.f1", funnel.f1)),
                _card("F2", Metric("overview.f2", funnel.f2)),
            ]
        )
        stages = [("in", "Sự kiện vào (Kafka)"), ("landed", "Đã ghi vào lake"), ("quarantined", "Bị cách ly (lỗi)")]
        chart = horizontal_bars(
            [label for _stage, label in stages],
            [Series("sự kiện", [funnel.total[stage].value for stage, _label in stages], PALETTE[0])],
            title="Luồng sự kiện trong ngày",
            value_metrics=[f"overview.{stage}" for stage, _label in stages],
        )
        topic_rows = [
            [
                TOPIC_NAMES.get(topic, topic),
                *(Metric(f"overview.{topic}.{stage}", counts[stage].value) for stage in STAGES_SHOWN),
            ]
            for topic, counts in context.funnel.topics.items()
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
        rows = [
            [TOPIC_NAMES.get(topic, topic),
             *(Metric(f"overview.trace.{topic}.{name}", counts.get(name)) for name in TRACE_INPUT_COUNTS)]
            for topic, counts in sorted(inputs.items())
        ]
        return (
            "<details><summary>Dữ liệu lần chạy truy vết đã đọc (cả giai đoạn hồi cứu) · trace inputs</summary>"
            + table(["Chủ đề", "Đọc", "Trùng lặp bỏ", "Giữ lại"], rows)
            + "</details>"
        )


class DistrictSection(ReportSection):
    """F1/F2 per district, with each district's worklist one click away."""

    key = "districts"
    title = "F1/F2 theo quận/huyện"
    subtitle = "Exposed people by district (where the exposure happened)"

    def render(self, context: ReportContext) -> str:
        counts: dict[str, dict[str, int]] = {}
        for code, tier, people in context.rows(
            "SELECT district_code, tier, count(*) FROM exposure_districts WHERE date = $day GROUP BY ALL"
        ):
            counts.setdefault(code, {"F1": 0, "F2": 0})[tier] = int(people)
        order = sorted(counts, key=lambda code: (code == UNKNOWN_DISTRICT, -sum(counts[code].values()), code))
        chart = horizontal_bars(
            [district_label(code) for code in order],
            [Series(tier, [counts[code].get(tier, 0) for code in order], TIER_COLORS[tier]) for tier in ("F1", "F2")],
            title="F1/F2 theo quận/huyện",
            value_metrics=[f"districts.{slug(code)}.total" for code in order],
        )
        links = context.worklist_links()
        rows = [
            [
                district_label(code),
                Metric(f"districts.{slug(code)}.f1", counts[code].get("F1", 0)),
                Metric(f"districts.{slug(code)}.f2", counts[code].get("F2", 0)),
                link(links[slug_dir(code)], "worklist.csv") if slug_dir(code) in links else "—",
            ]
            for code in order
        ]
        rendered = table(["Quận/huyện", "F1", "F2", "Danh sách gọi"], rows, css="districts")
        return columns(chart, rendered) + note(
            "Số chính xác, dùng cho điều phối truy vết; bảng district_exposures của nhà phân tích ẩn các số dưới 5. "
            "Người chỉ có tiếp xúc Bluetooth được xếp theo nơi check-in nhiều nhất trong 14 ngày."
        )


class HourSection(ReportSection):
    """When exposures start, by local hour and channel: where to look for the next cluster."""

    key = "hours"
    title = "Tiếp xúc theo giờ"
    subtitle = "Exposures by local hour of their start, venue vs Bluetooth"

    def render(self, context: ReportContext) -> str:
        found = {
            (int(hour), channel): int(edges)
            for hour, channel, edges in context.rows(
                "SELECT hour(local_time(exposure_start)), channel, count(*) FROM contacts "
                "WHERE date = $day GROUP BY ALL"
            )
        }
        channels = ("venue", "ble")
        chart = vertical_bars(
            [f"{hour:02d}" for hour in range(24)],
            [
                Series(CHANNEL_NAMES[channel], [found.get((hour, channel), 0) for hour in range(24)],
                       CHANNEL_COLORS[channel])
                for channel in channels
            ],
            title="Số tiếp xúc theo giờ bắt đầu (giờ địa phương)",
            label_every=2,
        )
        rows = [
            [f"{hour:02d}:00", *(Metric(f"hours.{hour:02d}.{channel}", found.get((hour, channel), 0))
                                 for channel in channels)]
            for hour in range(24)
            if any(found.get((hour, channel)) for channel in channels)
        ]
        details = (
            "<details><summary>Bảng số liệu · table</summary>"
            + table(["Giờ", CHANNEL_NAMES["venue"], CHANNEL_NAMES["ble"]], rows)
            + "</details>"
        )
        total = Metric("hours.total", sum(found.values()))
        return chart + f'<p class="note">Tổng số tiếp xúc (cạnh của đồ thị): {total.html()}</p>' + details


class DegreeSection(ReportSection):
    """How many people each F0/F1 exposed: a few large numbers mean superspreading venues."""

    key = "degrees"
    title = "Số người tiếp xúc của mỗi F0/F1"
    subtitle = "Degree distribution: distinct people each source exposed"

    def render(self, context: ReportContext) -> str:
        degrees = [
            int(degree)
            for (degree,) in context.rows(
                "SELECT count(DISTINCT target_pseudonym) FROM contacts WHERE date = $day GROUP BY source_pseudonym"
            )
        ]
        buckets = [
            sum(1 for degree in degrees if low <= degree and (high is None or degree <= high))
            for _name, low, high in DEGREE_BUCKETS
        ]
        chart = vertical_bars(
            [name for name, _low, _high in DEGREE_BUCKETS],
            [Series("nguồn lây (F0/F1)", buckets, PALETTE[4])],
            title="Phân bố bậc của đồ thị tiếp xúc",
            width=480,
            height=220,
        )
        rows = [
            [f"{name} người", Metric(f"degrees.{slug(name) if name != '20+' else '20plus'}", count)]
            for (name, _low, _high), count in zip(DEGREE_BUCKETS, buckets, strict=True)
        ]
        mean = round(sum(degrees) / len(degrees), 1) if degrees else None
        summary = (
            f'<p class="note">Nguồn lây: {Metric("degrees.sources", len(degrees)).html()} · '
            f'trung bình {Metric("degrees.mean", mean).html()} · '
            f'lớn nhất {Metric("degrees.max", max(degrees, default=0)).html()}</p>'
        )
        return columns(chart + summary, table(["Số người đã tiếp xúc", "Số nguồn"], rows))


class ClusterSection(ReportSection):
    """Connected components through F0/F1: the outbreaks the day's tracing reveals."""

    key = "clusters"
    title = "Chùm lây nhiễm"
    subtitle = "Transmission clusters: connected components through F0/F1"

    def render(self, context: ReportContext) -> str:
        edges = [
            ContactEdge(*row)
            for row in context.rows(
                "SELECT source_pseudonym, source_tier, target_pseudonym, target_tier FROM contacts "
                "WHERE date = $day ORDER BY exposure_start, exposure_end, source_pseudonym, target_pseudonym"
            )
        ]
        clusters = transmission_clusters(edges)
        confirmed = {
            person for (person,) in context.rows(
                "SELECT person_pseudonym FROM cases WHERE date = $day AND status = 'confirmed'"
            )
        }
        linked = {case for cluster in clusters for case in cluster.cases}
        cards = "".join(
            [
                _card("Số chùm", Metric("clusters.count", len(clusters))),
                _card("Chùm lớn nhất", Metric("clusters.largest", clusters[0].size if clusters else 0), "người"),
                _card("F0 chưa có tiếp xúc", Metric("clusters.unlinked_f0", len(confirmed - linked)),
                      "ca chưa truy được ai"),
            ]
        )
        rows = [
            [
                f"#{rank}",
                ", ".join(short_pseudonym(case) for case in cluster.cases) or "—",
                Metric(f"clusters.{rank}.cases", len(cluster.cases)),
                Metric(f"clusters.{rank}.f1", len(cluster.f1)),
                Metric(f"clusters.{rank}.f2", len(cluster.f2)),
                Metric(f"clusters.{rank}.size", cluster.size),
            ]
            for rank, cluster in enumerate(clusters[:TOP_CLUSTERS], start=1)
        ]
        chart = horizontal_bars(
            [f"#{rank}" for rank in range(1, min(len(clusters), TOP_CLUSTERS) + 1)],
            [
                Series("F0", [len(cluster.cases) for cluster in clusters[:TOP_CLUSTERS]], PALETTE[4]),
                Series("F1", [len(cluster.f1) for cluster in clusters[:TOP_CLUSTERS]], TIER_COLORS["F1"]),
                Series("F2", [len(cluster.f2) for cluster in clusters[:TOP_CLUSTERS]], TIER_COLORS["F2"]),
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


class QuarantineSection(ReportSection):
    """Why events were rejected: a producer's bug shows up here before it hides a contact."""

    key = "quarantine"
    title = "Sự kiện bị cách ly"
    subtitle = "Quarantined events by topic and reason"

    def render(self, context: ReportContext) -> str:
        found = context.rows(
            "SELECT kafka_topic, reason, count(*) AS events FROM quarantine WHERE date = $day "
            "GROUP BY ALL ORDER BY events DESC, kafka_topic, reason"
        )
        chart = horizontal_bars(
            [f"{TOPIC_NAMES.get(topic, topic)}: {reason}" for topic, reason, _events in found],
            [Series("sự kiện", [int(events) for _topic, _reason, events in found], PALETTE[4])],
            title="Lý do cách ly",
            width=600,
            label_width=300,
            value_metrics=[f"quarantine.{topic}.{slug(reason)}" for topic, reason, _events in found],
        ) if found else note("Không có sự kiện nào bị cách ly · nothing quarantined.")
        ceiling = Settings().quarantine_ceiling
        rows = []
        for topic, counts in context.funnel.topics.items():
            seen = counts["landed"].value + counts["quarantined"].value
            share = round(100 * counts["quarantined"].value / seen, 1) if seen else 0.0
            flag = "⚠ vượt ngưỡng" if seen and share / 100 > ceiling else "ổn"
            rows.append([TOPIC_NAMES.get(topic, topic), Metric(f"quarantine.{topic}.share", share, " %"), flag])
        total = Metric("quarantine.total", sum(int(events) for _topic, _reason, events in found))
        return columns(
            chart + f'<p class="note">Tổng cộng: {total.html()} sự kiện</p>',
            table(["Chủ đề", "Tỉ lệ cách ly", f"Ngưỡng {ceiling:.0%}"], rows, numeric_from=1),
        )


def core_sections() -> list[ReportSection]:
    """The sections every daily page starts with, in reading order."""
    return [
        OverviewSection(),
        DistrictSection(),
        HourSection(),
        DegreeSection(),
        ClusterSection(),
        QuarantineSection(),
    ]


def day_title(day: date) -> str:
    return f"Báo cáo truy vết ngày {day.strftime('%d/%m/%Y')}"
