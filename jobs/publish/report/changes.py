"""The tracers' page only: how many people changed how since the previous published day.

The counts are those of the run's own diff (`jobs.publish.changes.ChangesSummary`),
so the page and `exports/changes/` cannot disagree; exact, 1 to 9 included,
so the public page refuses the section.
"""

from jobs.publish.changes import CHANGES, CHANGES_CSV, RETRACTED_CSV, ChangesSummary
from jobs.publish.report.context import ReportContext
from jobs.publish.report.html import Metric, link, note, table
from jobs.publish.report.section import ReportSection
from tracelake.core.lake import EXPORTS

LABELS = {
    "new": "Mới · new",
    "upgraded": "Nâng lên F1 · upgraded",
    "late": "Dữ liệu đến muộn · late",
    "changed": "Thêm tiếp xúc · changed",
    "unchanged": "Không đổi · unchanged",
    "retracted": "Rút khỏi danh sách · retracted",
}


class ChangesSection(ReportSection):
    key = "changes"
    title = "Thay đổi so với ngày trước"
    subtitle = "What changed since the previous published day, per person exposed"

    def __init__(self, changes: ChangesSummary) -> None:
        self.changes = changes

    def render(self, context: ReportContext) -> str:
        if context.public:
            raise ValueError(f"{self.key} prints exact counts of people: tracers' page only")
        if context.day != self.changes.day:
            raise ValueError(f"{self.key} of {self.changes.day} on the report of {context.day}")
        folder = f"date={context.day.isoformat()}"
        rows = [[LABELS[status], Metric(f"changes.{status}", count)] for status, count in self.changes.counts.items()]
        previous = self.changes.previous_day
        since = f"so với ngày {previous.isoformat()}" if previous else "không có ngày trước: mọi người đều mới"
        files = " · ".join(
            link(context.relative_link(EXPORTS, CHANGES, folder, name), name) for name in (CHANGES_CSV, RETRACTED_CSV)
        )
        return (
            note(since)
            + table(("Thay đổi · change", "Số người · people"), rows, numeric_from=1)
            + f'<p class="note">{files}</p>'
            + note("Danh sách gọi xếp người mới, nâng lên F1, dữ liệu đến muộn và thêm tiếp xúc trước người không đổi.")
        )
