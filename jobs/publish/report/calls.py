"""The tracers' page only: per district, who is called today, who gets a text instead, and the backlog.

Each district's team calls the top of its ranking up to its calls a day
(`jobs.publish.capacity`); everyone else is on the notification list. The section
prints the worklists' own counts (the `WorklistSummary` of the same run), so
the page and the files cannot disagree, and it refuses the public page: its
counts of people are exact, 1 to 9 included.
"""

from jobs.publish.notifications import NOTIFY_FILE
from jobs.publish.report.context import ReportContext
from jobs.publish.report.core_sections import district_label
from jobs.publish.report.html import Html, Metric, link, note, slug, table
from jobs.publish.report.section import ReportSection
from jobs.publish.worklists import WORKLISTS, WorklistSummary, district_dir_name
from tracelake.core.lake import EXPORTS, NOTIFICATIONS


class CallsSection(ReportSection):
    key = "calls"
    title = "Gọi điện và nhắn tin theo quận/huyện"
    subtitle = "Calling capacity: who is called today, who is texted instead, days to call everyone exposed today"

    def __init__(self, worklists: WorklistSummary) -> None:
        self.worklists = worklists

    def render(self, context: ReportContext) -> str:
        if context.public:
            raise ValueError(f"{self.key} prints exact counts of people: tracers' page only")
        if context.day != self.worklists.day:
            raise ValueError(f"{self.key} of {self.worklists.day} on the report of {context.day}")
        day = f"date={context.day.isoformat()}"
        rows = []
        for worklist in self.worklists.districts:
            name = slug(worklist.district)
            folder = f"district={district_dir_name(worklist.district)}"
            files = [link(context.relative_link(EXPORTS, WORKLISTS, day, folder, "worklist.csv"), "worklist.csv")]
            if worklist.notify_path is not None:
                files.append(link(context.relative_link(EXPORTS, NOTIFICATIONS, day, folder, NOTIFY_FILE), NOTIFY_FILE))
            rows.append(
                [
                    district_label(worklist.district),
                    Metric(f"calls.{name}.calls_per_day", worklist.calls_per_day),
                    Metric(f"calls.{name}.to_call", worklist.to_call),
                    Metric(f"calls.{name}.to_notify", worklist.to_notify),
                    Metric(f"calls.{name}.days_to_clear", worklist.days_to_clear),
                    Html(" · ".join(files)),
                ]
            )
        totals = (
            f'<p class="note">Cần gọi hôm nay: {Metric("calls.to_call", self.worklists.to_call).html()} · '
            f'nhắn tin: {Metric("calls.to_notify", self.worklists.to_notify).html()}</p>'
        )
        return totals + table(
            ("Quận/huyện", "Cuộc gọi/ngày · calls a day", "Cần gọi · to call", "Nhắn tin · to text",
             "Số ngày để gọi hết · days to clear", "Danh sách · lists"),
            rows,
            numeric_from=1,
        ) + note(
            "Mỗi quận/huyện gọi những người đứng đầu danh sách (theo điểm nguy cơ) đến hết số cuộc gọi trong ngày; "
            "những người còn lại nhận tin nhắn. Days to clear: everyone exposed today divided by the calls a day, "
            "rounded up, today included (— when the district makes no calls). A district sets its calls a day in the "
            "capacity file (README, \"Calling capacity\")."
        )
