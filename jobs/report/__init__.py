"""The daily report: one static HTML page per day under `reports/date=D/index.html`.

`build_report` renders the core sections (`core_sections()`) and any extra
`ReportSection`s handed to it, e.g. the province sections of `jobs.province`.
"""

from jobs.report.context import Funnel, ReportContext, StageCount
from jobs.report.core import core_sections
from jobs.report.html import Html, Metric, columns, link, note, slug, table
from jobs.report.page import REPORT_FILE, build_report, render_page
from jobs.report.section import ReportSection
from jobs.report.svg import Series, horizontal_bars, vertical_bars

__all__ = [
    "REPORT_FILE",
    "Funnel",
    "Html",
    "Metric",
    "ReportContext",
    "ReportSection",
    "Series",
    "StageCount",
    "build_report",
    "columns",
    "core_sections",
    "horizontal_bars",
    "link",
    "note",
    "render_page",
    "slug",
    "table",
    "vertical_bars",
]
