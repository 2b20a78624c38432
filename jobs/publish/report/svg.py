"""Small inline SVG charts drawn by hand: the report must open offline, with no script at all.

Two shapes cover the page: vertical bars (optionally stacked, e.g. exposures by
hour and channel) and horizontal bars (labelled categories, e.g. districts).
Each bar carries a `<title>` (the browser shows it on hover) and a
`data-value`; the numbers a reader or a test relies on carry `data-metric`,
in the tables next to the charts or on a horizontal chart's printed totals.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f6feb", "#f0883e", "#2da44e", "#a371f7", "#d1242f", "#6e7781")


@dataclass(frozen=True)
class Series:
    """One colour of bars: a name for the legend and one value per category."""

    name: str
    values: Sequence[float]
    color: str = PALETTE[0]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^n at or above `value`, so gridlines fall on round numbers."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def axis_scale(peak: float, whole: bool = True, least_step: float = 1.0) -> tuple[float, float]:
    """(top of the axis, gridline step): at most four steps of 1, 2 or 5 × 10^n; whole steps for counts.

    A public chart asks for steps of at least 10, so no gridline reads like a small count.
    """
    if peak <= 0:
        return least_step, least_step
    step = nice_ceiling(peak / 4)
    if whole:
        step = max(step, least_step)
    return step * math.ceil(peak / step), step


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _legend(series: Sequence[Series], x: float, y: float) -> str:
    parts = []
    for index, one in enumerate(series):
        left = x + index * 120
        parts.append(
            f'<rect x="{left:.1f}" y="{y - 9:.1f}" width="10" height="10" rx="2" fill="{one.color}"/>'
            f'<text x="{left + 14:.1f}" y="{y:.1f}" class="legend">{escape(one.name)}</text>'
        )
    return "".join(parts)


def vertical_bars(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 720,
    height: int = 240,
    label_every: int = 1,
    least_step: float = 1.0,
) -> str:
    """Stacked vertical bars, one stack per category, with a y axis on round numbers."""
    left, right, top, bottom = 40.0, 10.0, 28.0 if len(series) > 1 else 12.0, 28.0
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(one.values[index] for one in series) for index in range(len(categories))]
    ceiling, step = axis_scale(
        max(totals, default=0), all(float(total).is_integer() for total in totals), least_step
    )
    slot = plot_w / max(len(categories), 1)
    bar_w = min(max(slot * 0.7, 1.0), 56.0)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(round(ceiling / step) + 1):
        value = step * tick
        y = top + plot_h - plot_h * value / ceiling
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{_number(value)}</text>')
    for index, category in enumerate(categories):
        x = left + slot * index + (slot - bar_w) / 2
        base = top + plot_h
        for one in series:
            value = one.values[index]
            if value <= 0:
                continue
            bar_h = plot_h * value / ceiling
            base -= bar_h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" fill="{one.color}" '
                f'data-value="{value:g}"><title>{escape(category)} · {escape(one.name)}: '
                f"{_number(value)}</title></rect>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16:.1f}" class="tick" '
                f'text-anchor="middle">{escape(category)}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" class="axis"/>')
    if len(series) > 1:
        parts.append(_legend(series, left, 14))
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 560,
    row_height: int = 26,
    label_width: int = 170,
    value_metrics: Sequence[str] | None = None,
    value_labels: Sequence[str] | None = None,
) -> str:
    """Stacked horizontal bars, one row per label, the total printed at the end of each row.

    `value_metrics` names each printed total (`data-metric`), for charts whose
    totals appear nowhere else on the page. `value_labels` prints other text
    than the sum of the bars: a public chart leaves hidden counts out of its
    bars and prints each row's total as the page discloses it.
    """
    top = 28.0 if len(series) > 1 else 8.0
    height = int(top + row_height * max(len(labels), 1) + 8)
    plot_w = width - label_width - 60
    totals = [sum(one.values[index] for one in series) for index in range(len(labels))]
    ceiling = max(totals, default=0) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for index, label in enumerate(labels):
        y = top + row_height * index
        parts.append(
            f'<text x="{label_width - 8}" y="{y + row_height * 0.62:.1f}" class="label" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        x = float(label_width)
        for one in series:
            value = one.values[index]
            if value <= 0:
                continue
            bar_w = plot_w * value / ceiling
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4:.1f}" width="{bar_w:.1f}" height="{row_height - 8}" rx="3" '
                f'fill="{one.color}" data-value="{value:g}"><title>{escape(label)} · {escape(one.name)}: '
                f"{_number(value)}</title></rect>"
            )
            x += bar_w
        metric = f' data-metric="{escape(value_metrics[index])}"' if value_metrics else ""
        printed = _number(totals[index]) if value_labels is None else value_labels[index]
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + row_height * 0.62:.1f}" class="value"{metric}>'
            f"{escape(printed)}</text>"
        )
    if len(series) > 1:
        parts.append(_legend(series, label_width, 14))
    parts.append("</svg>")
    return "".join(parts)
