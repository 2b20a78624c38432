"""Small-count protection for public outputs: no count of people from 1 to 9, and no total that gives one away.

A count of people (F0/F1/F2, cases, visitors, check-ins, exposures, app
users, events people sent) from 1 to 9 can point at a neighbour, so public
pages and tables print it as `<10` (primary suppression). A table also prints
totals, and a total minus the cells it shows would give the hidden cell back,
so every group of cells that adds up to a printed total hides more cells, the
smallest non-zero ones it shows first, then its total, until its hidden cells
can no longer be worked out from it (complementary suppression). A hidden cell of 10 or more
reads `≥10`, so both marks tell the truth.

A group is safe when, from its printed numbers and the marks alone:
- no hidden cell is the only unknown of its group (a single subtraction);
- the hidden cells of a group whose total is printed add up to 0 or at least
  10 (their sum is itself a count of people);
- no hidden cell is pinned to one value by the marks' ranges (`<10` is 0-9,
  `≥10` is 10 or more): two hidden 9s under a printed 18 would be found, and
  a hidden zero that its column gives back no longer guards its row.
Groups are settled one by one, as national statistics offices' small-cell
rules do; a table that shares a cell with another is given as one set of
groups. Counts of venues, QR points, time ranges or clusters are not about
people and never pass through here.
"""

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)

SMALL_CEILING = 10
"""Counts of people below this (and above 0) are never printed in public outputs."""
SMALL = "<10"
LARGE = "≥10"

Figure = int | str
"""A count as printed: the number itself, or `SMALL` / `LARGE` when it is hidden."""


def is_small(count: int) -> bool:
    return 0 < count < SMALL_CEILING


def mark(count: int) -> str:
    """How a hidden count reads: `<10` or `≥10`, never the count."""
    return SMALL if count < SMALL_CEILING else LARGE


@dataclass(frozen=True)
class Group(Generic[K]):
    """Cells a reader knows add up to `total` (a row, a column, a district's venues)."""

    total: K
    parts: tuple[K, ...]


def _bounds(count: int) -> tuple[float, float]:
    """What a reader knows of a hidden cell from its mark alone."""
    return (0.0, SMALL_CEILING - 1.0) if count < SMALL_CEILING else (float(SMALL_CEILING), math.inf)


def _exposed(group: Group[K], counts: Mapping[K, int], hidden: set[K]) -> bool:
    """Whether a reader of this group alone pins down a hidden cell, or learns a small sum of them."""
    unknown = [key for key in (group.total, *group.parts) if key in hidden]
    if not unknown:
        return False
    if group.total in hidden:
        return len(unknown) == 1
    rest = counts[group.total] - sum(counts[key] for key in group.parts if key not in hidden)
    if is_small(rest):
        return True
    bounds = [_bounds(counts[key]) for key in unknown]
    low = sum(lo for lo, _hi in bounds)
    unbounded = sum(1 for _lo, hi in bounds if math.isinf(hi))
    finite_high = sum(hi for _lo, hi in bounds if math.isfinite(hi))
    for lo, hi in bounds:
        if math.isinf(hi):
            others_high = math.inf if unbounded > 1 else finite_high
        else:
            others_high = math.inf if unbounded else finite_high - hi
        least = max(lo, rest - others_high)
        most = min(hi, rest - (low - lo))
        if least >= most:
            return True
    return False


def _next_to_hide(
    group: Group[K], counts: Mapping[K, int], hidden: set[K], known: frozenset[K]
) -> K | None:
    """The next cell to hide in an exposed group: its smallest non-zero printed part, else its total, else a zero.

    A hidden zero guards little (a column of zeros gives it back), so the total goes before any zero.
    A `known` cell (printed by another table) is never a candidate: hiding it here would hide nothing.
    """
    if not _exposed(group, counts, hidden):
        return None
    shown = [(counts[key], index) for index, key in enumerate(group.parts) if key not in hidden | known]
    nonzero = [candidate for candidate in shown if candidate[0] > 0]
    if nonzero:
        return group.parts[min(nonzero)[1]]
    if group.total not in hidden | known:
        return group.total
    return group.parts[min(shown)[1]] if shown else None


def suppress(
    counts: Mapping[K, int], groups: Sequence[Group[K]], *, withheld: Iterable[K] = (), known: Iterable[K] = ()
) -> frozenset[K]:
    """The cells to hide: every small count, every `withheld` cell, and enough others that no group gives one away.

    `withheld` cells are hidden whatever their count (a venue under the
    notices' visitor floor); they are protected like small ones. `known`
    cells are ones another public table prints (the venue exposures of the
    province's pages are the hours table's venue total): the reader has them
    unless they are small, so other cells are hidden instead. The result
    depends only on the counts and the order of the groups and of their parts.
    """
    hidden = {key for key, count in counts.items() if is_small(count)} | set(withheld)
    elsewhere = frozenset(known)
    settled = False
    while not settled:
        settled = True
        for group in groups:
            while (extra := _next_to_hide(group, counts, hidden, elsewhere)) is not None:
                hidden.add(extra)
                settled = False
    return frozenset(hidden)


@dataclass(frozen=True)
class Disclosure(Generic[K]):
    """Counts and which of them a reader may not see; the tracers' copy hides nothing."""

    counts: Mapping[K, int]
    hidden: frozenset[K] = frozenset()

    def figure(self, key: K) -> Figure:
        count = self.counts[key]
        return mark(count) if key in self.hidden else count

    def count(self, key: K) -> int | None:
        """The count when it may be printed, else None."""
        return None if key in self.hidden else self.counts[key]

    def share(self, part: K, whole: K) -> float | None:
        """`part / whole` to 4 places; None when either is hidden (a share and its base give the part back)."""
        numerator, denominator = self.count(part), self.count(whole)
        if numerator is None or denominator is None or denominator == 0:
            return None
        return round(numerator / denominator, 4)


def protect(
    counts: Mapping[K, int],
    groups: Sequence[Group[K]],
    *,
    public: bool,
    withheld: Iterable[K] = (),
    known: Iterable[K] = (),
) -> Disclosure[K]:
    """The public's view of `counts` (suppressed), or the tracers' (exact) when `public` is False."""
    if not public:
        return Disclosure(counts)
    return Disclosure(counts, suppress(counts, groups, withheld=withheld, known=known))


class Total(Enum):
    """The row or column of totals in a `grid`."""

    ALL = "all"


ALL = Total.ALL


def grid_groups(
    rows: Sequence[R], columns: Sequence[C], *, row_totals: bool = True, column_totals: bool = True
) -> list[Group[tuple[R | Total, C | Total]]]:
    """The groups of a table with a total per row, per column and overall, keyed `(row, column)`.

    `ALL` stands for a total: `(row, ALL)` is a row's total, `(ALL, ALL)` the grand total.
    """
    groups: list[Group[tuple[R | Total, C | Total]]] = []
    if row_totals:
        groups.extend(Group((row, ALL), tuple((row, column) for column in columns)) for row in rows)
    if column_totals:
        groups.extend(Group((ALL, column), tuple((row, column) for row in rows)) for column in columns)
    if row_totals and column_totals:
        groups.append(Group((ALL, ALL), tuple((row, ALL) for row in rows)))
        groups.append(Group((ALL, ALL), tuple((ALL, column) for column in columns)))
    return groups


def grid_counts(
    cells: Mapping[tuple[R, C], int],
    rows: Sequence[R],
    columns: Sequence[C],
    *,
    row_totals: bool = True,
    column_totals: bool = True,
) -> dict[tuple[R | Total, C | Total], int]:
    """Every cell of the table (a missing one is 0) with the totals `grid_groups` names."""
    counts: dict[tuple[R | Total, C | Total], int] = {
        (row, column): cells.get((row, column), 0) for row in rows for column in columns
    }
    if row_totals:
        for row in rows:
            counts[(row, ALL)] = sum(cells.get((row, column), 0) for column in columns)
    if column_totals:
        for column in columns:
            counts[(ALL, column)] = sum(cells.get((row, column), 0) for row in rows)
    if row_totals and column_totals:
        counts[(ALL, ALL)] = sum(cells.get((row, column), 0) for row in rows for column in columns)
    return counts


def protect_grid(
    cells: Mapping[tuple[R, C], int],
    rows: Sequence[R],
    columns: Sequence[C],
    *,
    public: bool,
    row_totals: bool = True,
    column_totals: bool = True,
) -> Disclosure[tuple[R | Total, C | Total]]:
    """A two-way table of counts with its totals, protected as one."""
    counts = grid_counts(cells, rows, columns, row_totals=row_totals, column_totals=column_totals)
    groups = grid_groups(rows, columns, row_totals=row_totals, column_totals=column_totals)
    return protect(counts, groups, public=public)
