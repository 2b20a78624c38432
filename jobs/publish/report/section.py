"""The report's extension point: a page is a list of `ReportSection`s.

The core sections (funnel, districts, hours, degrees, clusters, quarantine)
live in `jobs.publish.report.core_sections`. Province sections (risky-venue notices, QR
compliance, Bluezone coverage, venue risk, a map link) subclass
`ReportSection` in their own package and are passed to `build_report(...,
extra_sections=[...])`; nothing here changes when they arrive.

A section returns an HTML fragment (its body; the page adds the heading and
the anchor). Numbers go through `jobs.publish.report.html.Metric` so each has a
stable `data-metric` name, prefixed by the section's key to stay unique.
"""

from abc import ABC, abstractmethod
from typing import ClassVar

from jobs.publish.report.context import ReportContext


class ReportSection(ABC):
    """One titled block of the daily report."""

    key: ClassVar[str]
    """Stable, unique, URL-safe: the section's anchor and the prefix of its metrics."""
    title: ClassVar[str]
    """Heading in Vietnamese, the page's first language."""
    subtitle: ClassVar[str] = ""
    """A short English gloss under the heading."""

    @abstractmethod
    def render(self, context: ReportContext) -> str:
        """The section's body as HTML; raise to report a bug, the page will show it."""
