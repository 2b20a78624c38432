"""The daily report: one static HTML page per day and audience.

The public page, `reports/date=D/index.html`, hides counts of people from 1 to
9 and links to nothing under `exports/`; the tracers' page,
`exports/reports/date=D/index.html`, has the exact numbers and their worklists.

`build_report` renders the core sections (`core_sections(...)`) and any extra
`ReportSection`s handed to it, e.g. the province sections of `jobs.publish.province`.
"""

from jobs.publish.report.context import Audience, Funnel, ReportContext, StageCount
from jobs.publish.report.core_sections import core_sections
from jobs.publish.report.html import Html, Metric, columns, link, note, slug, table
from jobs.publish.report.page import REPORT_FILE, build_report, render_page
from jobs.publish.report.section import ReportSection
from jobs.publish.report.svg import Series, horizontal_bars, vertical_bars

__all__ = [
    "REPORT_FILE",
    "Audience",
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
