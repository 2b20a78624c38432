"""Engine rows into the lake's schemas: tier names, UTC timestamps, minutes, a stable row order.

Shared by both engines, so their files differ only if their tracing does.
Minutes are computed here from exact microseconds, once.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from jobs.trace.engines import EngineOutput
from jobs.trace.write import RowStream
from schemas.lake import CASES, CONTACTS, EXPOSURES_CURATED, UTC_TIME
from tracelake.core import duckdb_memory

MICROSECONDS_PER_MINUTE = 60_000_000.0
BATCH_ROWS = 1024 * 1024
"""Rows per batch of the sorted contacts, one Parquet row group each (pyarrow's default row group)."""


@dataclass(frozen=True)
class CuratedTables:
    contacts: RowStream
    exposures: pa.Table
    cases: pa.Table


def minutes(micros: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return pc.divide(pc.cast(micros, pa.float64()), MICROSECONDS_PER_MINUTE)


def _instants(micros: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(micros, UTC_TIME)


def tier_names(depths: pa.ChunkedArray, tier_name: Callable[[int], str], max_depth: int) -> pa.ChunkedArray:
    names = pa.array([tier_name(depth) for depth in range(max_depth + 1)], pa.string())
    return pc.take(names, depths)


def _constant(value: str, rows: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), rows)


CONTACT_ORDER = (
    "source_tier", "source_pseudonym", "target_pseudonym", "channel", "exposure_start", "exposure_end", "venue_id",
)
"""The order contacts are read in."""
CONTACT_TIES = ("os_pair", "rssi_mean", "rssi_max", "imputed_checkout", "venue_visitors")
"""Every other column but the minutes (they follow from the instants) and the rules' version (one per run), so two
contacts alike in `CONTACT_ORDER` (a person's two stays cut to the same interval, one with an imputed checkout)
come in the same order from either engine and on every run."""


def _sorted_contacts(
    register: Callable[[duckdb.DuckDBPyConnection], object], rows_sql: str, num_rows: int
) -> RowStream:
    """The contacts `rows_sql` selects, from what `register` puts in a fresh connection, in contact order."""
    keys = ", ".join(f'"{name}" ASC NULLS LAST' for name in (*CONTACT_ORDER, *CONTACT_TIES))

    def batches() -> Iterator[pa.RecordBatch]:
        with duckdb_memory.opened() as con:
            con.execute("SET TimeZone = 'UTC'")
            register(con)
            for batch in con.sql(f"{rows_sql} ORDER BY {keys}").fetch_record_batch(BATCH_ROWS):
                yield batch.cast(CONTACTS)

    return RowStream(CONTACTS, batches, num_rows)


def in_contact_order(contacts: pa.Table) -> RowStream:
    """`contacts` sorted by `CONTACT_ORDER` then `CONTACT_TIES`, ascending, nulls last: the order pyarrow's
    `sort_by` gives (bytewise strings, NaN after numbers). DuckDB sorts them as they are written, on every core,
    spilling what does not fit in its memory limit, so the sorted table is never held whole. Rows equal in every
    key are equal in every column (the minutes follow from the instants; the rules' version is one per run), so
    the sort needs no stability."""
    return _sorted_contacts(
        lambda con: con.register("unsorted_contacts", contacts), "SELECT * FROM unsorted_contacts", contacts.num_rows
    )


def merged_contacts(
    published: Callable[[duckdb.DuckDBPyConnection, str], None], dropped: pa.Table, added: pa.Table, num_rows: int
) -> RowStream:
    """D's published contacts without the rows of the `dropped` pairs (target_tier, source_pseudonym,
    target_pseudonym), with the curated rows `added`, in `in_contact_order`'s order: DuckDB reads the published
    files as it sorts, so they are never held whole. `published(con, view)` makes them the view `view` of `con`;
    `num_rows`: how many rows that makes, checked as they are written."""
    columns = ", ".join(f'"{field.name}"' for field in CONTACTS)

    def register(con: duckdb.DuckDBPyConnection) -> None:
        published(con, "published_contacts")
        con.register("dropped_pairs", dropped)
        con.register("added_contacts", added)

    return _sorted_contacts(register, f"""
        SELECT {columns} FROM published_contacts p
        WHERE NOT EXISTS (
            SELECT 1 FROM dropped_pairs d
            WHERE d.target_tier = p.target_tier AND d.source_pseudonym = p.source_pseudonym
              AND d.target_pseudonym = p.target_pseudonym)
        UNION ALL
        SELECT {columns} FROM added_contacts""", num_rows)


def contact_rows(contacts: pa.Table, rules_version: str, tier_name: Callable[[int], str], max_depth: int) -> pa.Table:
    """Engine rows of contacts (`jobs.trace.engines.CONTACT_ROWS`) in the lake's schema, in their order."""
    return pa.Table.from_arrays(
        [
            contacts["source"],
            tier_names(contacts["source_depth"], tier_name, max_depth),
            contacts["target"],
            tier_names(contacts["target_depth"], tier_name, max_depth),
            contacts["channel"],
            contacts["venue_id"],
            _instants(contacts["start_us"]),
            _instants(contacts["end_us"]),
            minutes(pc.subtract(contacts["end_us"], contacts["start_us"])),
            _constant(rules_version, contacts.num_rows),
            contacts["os_pair"],
            contacts["rssi_mean"],
            contacts["rssi_max"],
            contacts["imputed_checkout"],
            contacts["venue_visitors"],
        ],
        schema=CONTACTS,
    )


def curate(
    output: EngineOutput, rules_version: str, tier_name: Callable[[int], str], max_depth: int, risk: pa.Array
) -> CuratedTables:
    """The lake's tables; `risk` is the score of each row of `output.exposed`, in its order (`jobs.trace.risk`)."""
    contact_table = in_contact_order(contact_rows(output.contacts, rules_version, tier_name, max_depth))
    exposed = output.exposed
    exposure_table = pa.Table.from_arrays(
        [
            exposed["person"],
            tier_names(exposed["depth"], tier_name, max_depth),
            _instants(exposed["first_us"]),
            _instants(exposed["last_us"]),
            minutes(exposed["union_us"]),
            exposed["channels"],
            exposed["sources"],
            exposed["cases"],
            exposed["venue_ids"],
            _constant(rules_version, exposed.num_rows),
            exposed["imputed_checkout"],
            risk,
        ],
        schema=EXPOSURES_CURATED,
    ).sort_by([("tier", "ascending"), ("person_pseudonym", "ascending")])
    cases = output.cases
    case_table = pa.Table.from_arrays(
        [
            cases["person"],
            cases["status"],
            _instants(cases["window_start_us"]),
            _instants(cases["window_end_us"]),
            _instants(cases["isolated_at_us"]),
            _constant(rules_version, cases.num_rows),
        ],
        schema=CASES,
    ).sort_by([("person_pseudonym", "ascending")])
    return CuratedTables(contacts=contact_table, exposures=exposure_table, cases=case_table)
