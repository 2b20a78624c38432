"""Contacts are written in one order, whichever way they are sorted: DuckDB's sort gives pyarrow's `sort_by` order.

The curated contacts are sorted by DuckDB (it spills and uses every core);
the lake's order was defined by pyarrow's stable `sort_by` over
`CONTACT_ORDER` then `CONTACT_TIES`. Here both sort hypothesis-made contacts
with the awkward values of each key type: nulls, NaN, infinities, strings
that differ in case, accents or length, a shared prefix, instants either
side of the epoch, and rows equal in every key.
"""

from datetime import UTC, datetime, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.trace.curate import CONTACT_ORDER, CONTACT_TIES, in_contact_order, merged_contacts
from schemas.lake import CONTACTS

TEXT = st.sampled_from(["", "a", "A", "ab", "b", "é", "e\u0301", "z" * 40, "ä", "F1", "F10", "F2"])
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INSTANT = st.integers(min_value=-10**6, max_value=10**6).map(lambda minutes: EPOCH + timedelta(minutes=minutes))
RSSI_MEAN = st.one_of(st.none(), st.sampled_from([float("nan"), float("inf"), -float("inf"), -70.5, -70.0, 0.0]))


@st.composite
def contact(draw: st.DrawFn) -> dict[str, object]:
    start = draw(INSTANT)
    return {
        "source_pseudonym": draw(TEXT),
        "source_tier": draw(st.sampled_from(["F0", "F1", "F10"])),
        "target_pseudonym": draw(TEXT),
        "target_tier": draw(st.sampled_from(["F1", "F2"])),
        "channel": draw(st.sampled_from(["ble", "venue"])),
        "venue_id": draw(st.one_of(st.none(), TEXT)),
        "exposure_start": start,
        "exposure_end": start + timedelta(minutes=draw(st.integers(0, 3))),
        "exposure_minutes": 0.0,
        "rules_version": "v",
        "os_pair": draw(st.one_of(st.none(), st.sampled_from(["android-ios", "ios-ios"]))),
        "rssi_mean": draw(RSSI_MEAN),
        "rssi_max": draw(st.one_of(st.none(), st.integers(-2**31, 2**31 - 1))),
        "imputed_checkout": draw(st.one_of(st.none(), st.booleans())),
        "venue_visitors": draw(st.one_of(st.none(), st.integers(-2**63, 2**63 - 1))),
    }


def _keys(table: pa.Table) -> list[tuple[object, ...]]:
    """Each row's keys, NaN made comparable (NaN != NaN in Python)."""
    columns = [table[name].to_pylist() for name in (*CONTACT_ORDER, *CONTACT_TIES)]
    return [tuple("NaN" if value != value else value for value in row) for row in zip(*columns, strict=True)]


@settings(max_examples=60, deadline=None)
@given(st.lists(contact(), max_size=40).flatmap(lambda rows: st.permutations(rows + rows[: len(rows) // 3])))
def test_duckdb_sorts_contacts_as_pyarrow_sort_by_does(rows: list[dict[str, object]]) -> None:
    table = pa.Table.from_pylist(rows, schema=CONTACTS)
    expected = table.sort_by([(name, "ascending") for name in (*CONTACT_ORDER, *CONTACT_TIES)])
    stream = in_contact_order(table)
    sorted_by_duckdb = pa.Table.from_batches(list(stream.batches()), schema=stream.schema)
    assert stream.num_rows == table.num_rows
    assert sorted_by_duckdb.schema == CONTACTS
    assert _keys(sorted_by_duckdb) == _keys(expected)
    assert sorted(map(repr, sorted_by_duckdb.to_pylist())) == sorted(map(repr, expected.to_pylist()))


@settings(max_examples=40, deadline=None)
@given(st.lists(contact(), max_size=40), st.lists(contact(), max_size=10), st.data())
def test_merged_contacts_are_the_published_without_the_dropped_pairs_with_the_added_in_order(
    published_rows: list[dict[str, object]], added_rows: list[dict[str, object]], data: st.DataObject
) -> None:
    """The on-case trace's contacts (`merged_contacts`): what a sort of the rows it keeps and adds would give."""
    import pyarrow.dataset as ds

    pairs = sorted({(row["target_tier"], row["source_pseudonym"], row["target_pseudonym"]) for row in published_rows},
                   key=repr)
    gone = data.draw(st.sets(st.sampled_from(pairs)) if pairs else st.just(set()))
    kept = [row for row in published_rows if (row["target_tier"], row["source_pseudonym"], row["target_pseudonym"])
            not in gone]
    dropped = pa.table({name: [pair[index] for pair in sorted(gone, key=repr)] for index, name in
                        enumerate(["target_tier", "source_pseudonym", "target_pseudonym"])},
                       schema=pa.schema([(name, pa.string()) for name in
                                         ("target_tier", "source_pseudonym", "target_pseudonym")]))
    published = ds.dataset(pa.Table.from_pylist(published_rows, schema=CONTACTS))
    added = pa.Table.from_pylist(added_rows, schema=CONTACTS)
    stream = merged_contacts(lambda con, view: con.register(view, published), dropped, added,
                             len(kept) + len(added_rows))
    merged = pa.Table.from_batches(list(stream.batches()), schema=stream.schema)
    expected = pa.Table.from_pylist(kept + added_rows, schema=CONTACTS).sort_by(
        [(name, "ascending") for name in (*CONTACT_ORDER, *CONTACT_TIES)])
    assert merged.num_rows == stream.num_rows
    assert _keys(merged) == _keys(expected)
    assert sorted(map(repr, merged.to_pylist())) == sorted(map(repr, expected.to_pylist()))
