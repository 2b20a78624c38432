"""Assemble the daily page: one static HTML file, inline CSS and SVG, nothing fetched.

The page must open from a USB stick in a district office with no network, and
print on A4: no script, no web font, no external stylesheet.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

from jobs.publication import DIRECT, DayOutputs
from jobs.publish.day_views import DayViews, day_views
from jobs.publish.report.context import Audience, ReportContext
from jobs.publish.report.core_sections import core_sections, day_title
from jobs.publish.report.section import ReportSection
from tracelake.core.lake import filesystem, join, write_bytes_atomically
from tracelake.core.rules import Rules
from tracelake.core.settings import QUARANTINE_CEILING

log = logging.getLogger(__name__)

REPORT_FILE = "index.html"
AUDIENCE_NOTES = {
    Audience.PUBLIC: (
        "Số người dưới 10 (khác 0) hiện là <10; một ô ≥10 là số được ẩn để không ai suy ra được ô <10 từ tổng "
        "hay hiệu. Counts of people under 10 (other than 0) read <10; a cell reading ≥10 is hidden so that no "
        "total or difference gives a small one back. Counts of venues, QR points and clusters are not counts of "
        "people and are exact.",
        "Trang này không có số điện thoại, số CCCD hay mã giả. This page holds no phone number, citizen ID or "
        "pseudonym.",
    ),
    Audience.TRACERS: (
        "Bản nội bộ của người truy vết: số chính xác, kèm danh sách gọi. Không chuyển tiếp; bản công khai nằm ở "
        "reports/date=D/. Tracers' copy with exact numbers and worklists: do not forward.",
        "Trang này chỉ chứa mã giả (pseudonym), không có số điện thoại hay số CCCD; số điện thoại nằm trong danh "
        "sách gọi. Pseudonyms only; phone numbers live in the worklists.",
    ),
}

STYLE = """
:root { --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; --card:#f6f8fa; --accent:#1f6feb; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font-family: "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif;
       color:var(--ink); background:#fff; line-height:1.45; }
header { background:linear-gradient(135deg,#0b3d91,#1f6feb); color:#fff; padding:28px 40px 20px; }
header h1 { margin:0 0 4px; font-size:28px; }
header .meta { opacity:.85; font-size:14px; }
nav { display:flex; flex-wrap:wrap; gap:6px 14px; padding:10px 40px; border-bottom:1px solid var(--line);
      background:#fff; position:sticky; top:0; font-size:14px; }
nav a { color:var(--accent); text-decoration:none; }
main { padding:8px 40px 32px; max-width:1280px; }
section { margin:26px 0; padding-bottom:18px; border-bottom:1px solid var(--line); scroll-margin-top:48px; }
section h2 { margin:0; font-size:21px; }
section .subtitle { color:var(--muted); font-size:13px; margin:2px 0 14px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin-bottom:16px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 18px; min-width:170px; }
.card .label { color:var(--muted); font-size:13px; }
.card .big { display:block; font-size:32px; font-weight:650; margin-top:2px; }
.card .hint { color:var(--muted); font-size:12px; }
.columns { display:flex; flex-wrap:wrap; gap:28px; align-items:flex-start; }
.column { flex:1 1 420px; min-width:320px; }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { padding:6px 10px; border-bottom:1px solid var(--line); text-align:left; }
th { background:var(--card); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.empty { color:var(--muted); text-align:center; }
.note { color:var(--muted); font-size:13px; margin:8px 0; }
.note [data-metric] { color:var(--ink); font-weight:600; }
details summary { cursor:pointer; color:var(--accent); font-size:14px; margin:6px 0; }
svg.chart { max-width:760px; height:auto; display:block; }
svg .grid { stroke:#eaeef2; stroke-width:1; }
svg .axis { stroke:#8c959f; stroke-width:1; }
svg text { font-family:inherit; fill:var(--ink); }
svg .tick { font-size:11px; fill:var(--muted); }
svg .label { font-size:13px; }
svg .value { font-size:13px; font-weight:600; }
svg .legend { font-size:12px; }
.error { background:#fff8c5; border:1px solid #d4a72c; border-radius:8px; padding:10px 14px; color:var(--warn); }
.extension-start { margin-top:36px; color:var(--muted); font-size:13px; text-transform:uppercase;
                   letter-spacing:.06em; }
footer { color:var(--muted); font-size:12px; padding:0 40px 30px; }
@media print {
  nav { display:none; }
  header { background:none; color:var(--ink); padding:0 0 10px; }
  main, footer { padding:0; }
  section { break-inside:avoid; }
}
"""


def _section_html(section: ReportSection, body: str) -> str:
    subtitle = f'<p class="subtitle">{escape(section.subtitle)}</p>' if section.subtitle else ""
    return (
        f'<section id="{escape(section.key)}" data-section="{escape(section.key)}">'
        f"<h2>{escape(section.title)}</h2>{subtitle}{body}</section>"
    )


def _render_extension(section: ReportSection, context: ReportContext) -> str:
    """An extension that fails shows its error in place: the core report still reaches the tracers."""
    try:
        return section.render(context)
    except Exception as exc:
        log.exception("report section %s failed", section.key)
        return (
            f'<div class="error" data-error="{escape(section.key)}">'
            f"Không tạo được mục này: {escape(repr(exc))}</div>"
        )


def render_page(context: ReportContext, core: Sequence[ReportSection], extensions: Sequence[ReportSection]) -> str:
    """The whole page as a string: header, navigation, core sections, then extension sections."""
    keys = [section.key for section in [*core, *extensions]]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"report sections need unique keys; repeated: {', '.join(duplicates)}")
    parts = [_section_html(section, section.render(context)) for section in core]
    if extensions:
        parts.append('<div class="extension-start">Mục của tỉnh · province sections</div>')
        parts.extend(_section_html(section, _render_extension(section, context)) for section in extensions)
    nav = "".join(
        f'<a href="#{escape(section.key)}">{escape(section.title)}</a>' for section in [*core, *extensions]
    )
    generated = datetime.now(context.rules.zone).strftime("%Y-%m-%d %H:%M %Z")
    notes = "".join(f"<p>{escape(text)}</p>" for text in [*context.notes, *AUDIENCE_NOTES[context.audience]])
    title = day_title(context.day) + ("" if context.public else " · bản của người truy vết")
    return (
        "<!DOCTYPE html>"
        '<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · tracelake</title><style>{STYLE}</style></head>"
        f'<body data-day="{context.day.isoformat()}" data-rules-version="{escape(context.rules.version)}" '
        f'data-audience="{context.audience.value}">'
        f'<header><h1>{escape(title)}</h1><div class="meta">tracelake daily report · {context.day.isoformat()} '
        f"· quy tắc (rules) {escape(context.rules.version)} · múi giờ {escape(context.rules.timezone)} "
        f"· tạo lúc {escape(generated)}</div></header>"
        f"<nav>{nav}</nav><main>{''.join(parts)}</main>"
        f"<footer>{notes}</footer>"
        "</body></html>"
    )


def build_report(
    lake_root: str,
    day: date,
    rules: Rules,
    counts: Mapping[str, Any] | None = None,
    *,
    sections: Sequence[ReportSection] | None = None,
    extra_sections: Sequence[ReportSection] = (),
    audience: Audience = Audience.PUBLIC,
    outputs: DayOutputs = DIRECT,
    quarantine_ceiling: float = QUARANTINE_CEILING,
    views: DayViews | None = None,
) -> Path:
    """Write the public `reports/date=D/index.html`, or the tracers' `exports/reports/date=D/index.html`.

    `counts` is what the lander counted for D, which the lake cannot know
    (duplicates dropped, events still in flight): `{"in": n, "landed": n,
    "quarantined": n}` and/or per topic `{"checkins": {"in": n, ...}, ...}`.
    A number it lacks comes from the trace manifest's `counts` (same shape),
    else from the lake's rows for D. `sections` replaces the core sections
    (default `core_sections(quarantine_ceiling)`, the ceiling the settings
    give the raw validation); `extra_sections` are appended after them,
    the way province sections join the page. The public page is the default:
    a forgotten argument never prints a small count. `outputs` says where D's
    tables are read and the page written while its run is staged (`jobs.publication`). `views` are
    D's export's own (`jobs.publish.day_views`): the pages of one export then ask each question once.
    """
    with day_views(lake_root, day, rules, outputs, views) as opened:
        context = ReportContext(
            lake_root=lake_root, day=day, rules=rules, con=opened.con, counts=counts, audience=audience,
            outputs=outputs, answers=opened.remember("report answers", dict),
        )
        html = render_page(context, core_sections(quarantine_ceiling) if sections is None else sections, extra_sections)
    fs, directory = filesystem(outputs.target(context.page_directory))
    fs.create_dir(directory, recursive=True)
    final = join(directory, REPORT_FILE)
    write_bytes_atomically(html.encode("utf-8"), fs, final)
    return Path(final)
