"""HTML fragments every section shares: a number with its stable `data-metric`, a table, a note.

Sections return plain strings; these helpers do the escaping so a venue name
or a quarantine reason can never break the page.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any


@dataclass(frozen=True)
class Metric:
    """A number on the page that a reader (or a test) can find by name.

    A `str` value is a hidden count's mark (`<10`, `≥10` from `jobs.disclosure`): printed as it is, with an
    empty `data-value`.
    """

    name: str
    value: float | int | str | None
    suffix: str = ""

    def html(self, tag: str = "span", css: str = "") -> str:
        if self.value is None or isinstance(self.value, str):
            text, shown = self.value or "—", ""
        else:
            text = format_number(self.value) + self.suffix
            shown = f"{self.value:g}" if isinstance(self.value, float) else str(self.value)
        klass = f' class="{css}"' if css else ""
        return (
            f'<{tag}{klass} data-metric="{escape(self.name)}" data-value="{escape(shown)}">'
            f"{escape(text)}</{tag}>"
        )


def format_number(value: float | int) -> str:
    """Thousands split by a narrow space (12 345: neither the Vietnamese nor the English reader misreads it)."""
    fractional = isinstance(value, float) and not value.is_integer()
    whole = f"{value:,.1f}" if fractional else f"{int(value):,}"
    return whole.replace(",", "\u202f")


def slug(text: str) -> str:
    """A metric-name-safe spelling of free text (a quarantine reason, a district code)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "none"


class Html(str):
    """Markup built by these helpers (a link, a list): inserted into a table cell as it is."""

    __slots__ = ()


def link(href: str, text: str) -> Html:
    return Html(f'<a href="{escape(href)}">{escape(text)}</a>')


Cell = str | Html | Metric


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]] | Iterable[list[Any]],
    *,
    numeric_from: int = 1,
    css: str = "",
) -> str:
    """A plain table; columns from `numeric_from` on are right-aligned numbers."""
    head = "".join(
        f'<th class="{"num" if index >= numeric_from else ""}">{escape(header)}</th>'
        for index, header in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            klass = ' class="num"' if index >= numeric_from else ""
            if isinstance(cell, Metric):
                content = cell.html()
            elif isinstance(cell, Html):
                content = str(cell)
            else:
                content = escape(cell)
            cells.append(f"<td{klass}>{content}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}" class="empty">Không có dữ liệu · nothing to show</td></tr>')
    klass = f' class="{css}"' if css else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def columns(*blocks: str) -> str:
    """Blocks side by side on a wide screen, stacked on a narrow one or on paper."""
    return '<div class="columns">' + "".join(f'<div class="column">{block}</div>' for block in blocks) + "</div>"
