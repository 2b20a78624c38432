"""Small-count protection: no printed count of people from 1 to 9, and none that a group's total gives away."""

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.disclosure import (
    ALL,
    LARGE,
    SMALL,
    Disclosure,
    Group,
    grid_counts,
    grid_groups,
    protect,
    protect_grid,
    suppress,
)

COUNTS = st.one_of(st.integers(0, 12), st.integers(0, 400))


def _leaks(counts: dict, groups: list[Group], hidden: frozenset) -> list[str]:
    """What a reader gets back by one subtraction (or one addition), group by group; written apart from the module."""
    found = []
    for group in groups:
        hidden_parts = [key for key in group.parts if key in hidden]
        if group.total in hidden:
            if not hidden_parts:
                found.append(f"total {group.total} is the sum of printed parts")
            continue
        if len(hidden_parts) == 1:
            found.append(f"{hidden_parts[0]} = total {group.total} minus the printed parts")
        rest = counts[group.total] - sum(counts[key] for key in group.parts if key not in hidden)
        if 0 < rest < 10:
            found.append(f"the hidden parts of {group.total} add up to {rest}")
    return found


@st.composite
def tables(draw: st.DrawFn) -> dict[tuple[int, int], int]:
    rows = draw(st.integers(1, 6))
    columns = draw(st.integers(1, 4))
    return {(row, column): draw(COUNTS) for row in range(rows) for column in range(columns)}


@settings(max_examples=400, deadline=None)
@given(tables())
def test_no_hidden_cell_follows_from_the_printed_cells_and_totals(cells: dict[tuple[int, int], int]) -> None:
    rows = sorted({row for row, _ in cells})
    columns = sorted({column for _, column in cells})
    counts = grid_counts(cells, rows, columns)
    groups = grid_groups(rows, columns)

    shown = protect_grid(cells, rows, columns, public=True)

    assert _leaks(counts, groups, shown.hidden) == []
    for key, count in counts.items():
        figure = shown.figure(key)
        if isinstance(figure, int):
            assert figure == count and (figure == 0 or figure >= 10), (key, figure)
        else:
            assert key in shown.hidden and figure == (SMALL if count < 10 else LARGE)


@settings(max_examples=200, deadline=None)
@given(st.lists(COUNTS, min_size=1, max_size=12), st.data())
def test_withheld_cells_are_protected_like_small_ones(parts: list[int], data: st.DataObject) -> None:
    keys = [f"venue-{index}" for index in range(len(parts))]
    counts = {**dict(zip(keys, parts, strict=True)), "district": sum(parts)}
    withheld = data.draw(st.sets(st.sampled_from(keys), max_size=len(keys)))
    groups = [Group("district", tuple(keys))]

    hidden = suppress(counts, groups, withheld=withheld)

    assert withheld <= hidden
    assert _leaks(counts, groups, hidden) == []


def test_a_small_cell_hides_the_next_smallest_of_its_row_and_column() -> None:
    cells = {("101", "F1"): 3, ("101", "F2"): 40, ("202", "F1"): 25, ("202", "F2"): 12}

    shown = protect_grid(cells, ["101", "202"], ["F1", "F2"], public=True)

    assert shown.figure(("101", "F1")) == SMALL
    # Row 101 then hides 40 and column F1 hides 25; row 202 then hides 12, column F2 is settled.
    assert shown.hidden == {("101", "F1"), ("101", "F2"), ("202", "F1"), ("202", "F2")}
    assert shown.figure(("101", ALL)) == 43 and shown.figure((ALL, "F1")) == 28 and shown.figure((ALL, ALL)) == 80


def test_two_nines_under_a_printed_eighteen_are_hidden_with_their_total() -> None:
    counts = {"a": 9, "b": 9, "total": 18}

    hidden = suppress(counts, [Group("total", ("a", "b"))])

    assert hidden == {"a", "b", "total"}


def test_a_hidden_sum_under_ten_takes_one_more_cell() -> None:
    counts = {"a": 3, "b": 2, "c": 30, "total": 35}

    hidden = suppress(counts, [Group("total", ("a", "b", "c"))])

    assert hidden == {"a", "b", "c"}


def test_zero_is_printed_and_a_zero_cell_is_the_last_complement() -> None:
    counts = {"a": 4, "b": 0, "c": 11, "total": 15}

    shown = protect(counts, [Group("total", ("a", "b", "c"))], public=True)

    assert shown.hidden == {"a", "c"}
    assert shown.figure("b") == 0 and shown.figure("total") == 15 and shown.figure("c") == LARGE


def test_a_row_of_a_complement_and_zeros_hides_its_total_not_its_zeros() -> None:
    """Districts of 1, 3 and 12 F1s and no F2: the 12 guards the 1 and the 3, its row total guards the 12."""
    cells = {("101", "F1"): 1, ("202", "F1"): 3, ("303", "F1"): 12}

    shown = protect_grid(cells, ["101", "202", "303"], ["F1", "F2"], public=True)

    assert [shown.figure((code, "F1")) for code in ("101", "202", "303")] == [SMALL, SMALL, LARGE]
    assert [shown.figure((code, "F2")) for code in ("101", "202", "303")] == [0, 0, 0]
    assert [shown.figure((code, ALL)) for code in ("101", "202", "303")] == [SMALL, SMALL, LARGE]
    assert (shown.figure((ALL, "F1")), shown.figure((ALL, "F2")), shown.figure((ALL, ALL))) == (16, 0, 16)


def test_a_cell_another_table_prints_is_never_the_complement() -> None:
    """Venue exposures 15 are on the province's pages: the hours' total goes instead, or 16 - 15 gives Bluetooth's 1."""
    counts = {"venue": 15, "ble": 1, "all": 16}

    assert suppress(counts, [Group("all", ("venue", "ble"))]) == {"ble", "venue"}
    assert suppress(counts, [Group("all", ("venue", "ble"))], known=["venue"]) == {"ble", "all"}


def test_the_tracers_copy_hides_nothing_and_shares_follow_their_counts() -> None:
    counts = {"seen": 4, "checked_in": 40}
    exact = protect(counts, [], public=False)
    public = protect(counts, [], public=True)

    assert exact.figure("seen") == 4 and exact.share("seen", "checked_in") == 0.1
    assert public.figure("seen") == SMALL and public.share("seen", "checked_in") is None
    assert Disclosure({"a": 0}).share("a", "a") is None


def test_the_same_table_always_hides_the_same_cells() -> None:
    cells = {(row, column): (row * 7 + column * 3) % 13 for row in range(5) for column in range(3)}
    first = protect_grid(cells, range(5), range(3), public=True).hidden
    assert all(protect_grid(cells, range(5), range(3), public=True).hidden == first for _ in range(3))
