"""The agency staff check on the daily report: the latest check up to the report's day, per agency and unit.

It prints the public table (`public/staff_check_agencies`) as written, small
counts already hidden, on both the public and the tracers' page: which staff
were seen is the tracers' `exports/staff_check`, never the report's.
Agencies send rosters now and then, so a day without a check of its own
shows the latest earlier one, with its date.
"""

from datetime import date
from typing import Any

from jobs.publish.report.context import ReportContext
from jobs.publish.report.html import Html, Metric, note, slug, table
from jobs.publish.report.section import ReportSection

_LATEST = "SELECT max(date) FROM staff_check_agencies WHERE date <= $day"
_ROWS = """
SELECT agency, unit, level, staff, checked_in_share, bluezone_share, neither_share, window_first_day,
       window_last_day
FROM staff_check_agencies WHERE date = $checked
"""
SHARES = (("checked_in", 4), ("bluezone", 5), ("neither", 6))
"""Share columns and where they sit in a row of `_ROWS`."""


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


class StaffCheckSection(ReportSection):
    key = "staff-check"
    title = "Cán bộ các cơ quan quét mã QR và dùng Bluezone"
    subtitle = ("Agency staff check: share of each agency's staff seen in a QR check-in or in Bluezone "
                "in the days before the check")

    def render(self, context: ReportContext) -> str:
        checked: date | None = context.scalar(_LATEST)
        if checked is None:
            return note("Chưa có danh sách nào được kiểm tra · no agency roster checked yet (tracelake staff-check).")
        rows = sorted(
            context.rows(_ROWS, checked=checked),
            key=lambda row: (row[0].casefold(), row[2] != "agency", (row[1] or "").casefold()),
        )
        first, last = rows[0][7], rows[0][8]
        return note(
            f"Lần kiểm tra ngày {checked.strftime('%d/%m/%Y')}, {(last - first).days + 1} ngày từ "
            f"{first.strftime('%d/%m/%Y')} đến {last.strftime('%d/%m/%Y')} · check of {checked.isoformat()}. "
            "Số từ 1 đến 9 ghi <10 · counts from 1 to 9 read <10."
        ) + table(
            ("Cơ quan · agency", "Đơn vị · unit", "Cán bộ · staff", "Quét QR · QR check-in", "Bluezone",
             "Không cả hai · neither"),
            (self._cells(row) for row in rows),
            numeric_from=2,
        )

    def _cells(self, row: tuple[Any, ...]) -> list[str | Html | Metric]:
        agency, unit, level, staff = row[0], row[1], row[2], row[3]
        prefix = f"{self.key}.{slug(agency)}.{slug(unit) if level == 'unit' else 'all'}"
        return [
            agency,
            unit if level == "unit" else "Tất cả · all",
            Metric(f"{prefix}.staff", int(staff)) if staff.isdigit() else str(staff),
            *(Metric(f"{prefix}.{name}_percent", _percent(row[index]), " %") for name, index in SHARES),
        ]
