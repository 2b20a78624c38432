"""The seam between the two engines and the day's tables.

An engine traces an `InputPlan` under `TraceParams` into engine rows (the
schemas below: times as UTC epoch microseconds, tiers as depths), then writes
the day's tables from them into the run's staging directories (`DayTables`).
The DuckDB twin hands its rows to the driver, which writes them with pyarrow
(`jobs.trace.finish`); the Spark job writes them with its executors, so no
table of the province passes through its driver. Both make the lake's tables
by the same rules (lake schemas, minutes, risk, re-identification, row order),
so their files differ only where their tracing does.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from jobs.publication import DayOutputs
from jobs.trace.parameters import TraceParams
from jobs.trace.plan import InputPlan
from tracelake.core.rules import Rules

CONFIRMED, DISCARDED, ISOLATED = "confirmed", "discarded", "isolated"
"""Case statuses: the report kinds of the contract; `isolated` means isolation reports only."""

_US = pa.int64()
_NAMES = pa.list_(pa.string())

CASE_ROWS = pa.schema(
    [
        pa.field("person", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("window_start_us", _US),
        pa.field("window_end_us", _US),
        pa.field("isolated_at_us", _US),
    ]
)
"""One row per person with any case report; status `confirmed`, `discarded` or `isolated` (isolation only)."""

CONTACT_ROWS = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("source_depth", pa.int32(), nullable=False),
        pa.field("target", pa.string(), nullable=False),
        pa.field("target_depth", pa.int32(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("venue_id", pa.string()),
        pa.field("start_us", _US, nullable=False),
        pa.field("end_us", _US, nullable=False),
        pa.field("os_pair", pa.string()),
        pa.field("rssi_mean", pa.float64()),
        pa.field("rssi_max", pa.int32()),
        pa.field("imputed_checkout", pa.bool_(), nullable=False),
        pa.field("venue_visitors", pa.int64()),
    ]
)
"""One row per exposure of a tier-(k+1) person to a tier-k source; os_pair and rssi for Bluetooth only.

`imputed_checkout`: a venue exposure whose source or target stay had no checkout (its end is the default
stay); `venue_visitors`: people with a stay at the venue meeting the exposure, both of them included.
"""

EXPOSED_ROWS = pa.schema(
    [
        pa.field("person", pa.string(), nullable=False),
        pa.field("depth", pa.int32(), nullable=False),
        pa.field("first_us", _US, nullable=False),
        pa.field("last_us", _US, nullable=False),
        pa.field("union_us", _US, nullable=False),
        pa.field("channels", _NAMES, nullable=False),
        pa.field("sources", _NAMES, nullable=False),
        pa.field("cases", _NAMES, nullable=False),
        pa.field("venue_ids", _NAMES, nullable=False),
        pa.field("imputed_checkout", pa.bool_(), nullable=False),
    ]
)
"""One row per exposed person (tier >= 1); lists sorted and distinct; `imputed_checkout` when every one of
the person's exposures rests on an imputed checkout."""


@dataclass(frozen=True)
class TopicCounts:
    files: int
    rows_read: int
    duplicates_dropped: int
    rows_kept: int
    unusable: Mapping[str, int] = field(default_factory=dict)
    """Rows dropped before tracing (`jobs.trace.usable`), per reason; only reasons met."""


@dataclass(frozen=True)
class EngineOutput:
    cases: pa.Table
    contacts: pa.Table
    exposed: pa.Table
    inputs: Mapping[str, TopicCounts]
    tier_counts: Mapping[int, int]
    """Persons per depth, 0 (F0) to max_depth, zero for tiers never reached."""
    timings: Mapping[str, float]
    session_seconds: float = 0.0


DAY_TABLES: tuple[str, ...] = ("contacts", "exposures", "cases", "export")
"""The tables a trace writes for D, in the order it stages them: the curated ones, then the tracers' export."""


@dataclass(frozen=True)
class DayTables:
    """Where a run writes D's tables, and what making them from engine rows takes besides the rows."""

    publication: DayOutputs
    """The run the tables are staged into (`jobs.publication`)."""
    directories: Mapping[str, str]
    """Each of `DAY_TABLES` → D's directory of it, as published."""
    rules: Rules
    vault: str
    """The identity vault the export re-identifies people with."""

    def staged(self, table: str) -> str:
        """Where the run writes `table` (the publication is told, step by step, what is staged)."""
        return self.publication.target(self.directories[table])


@dataclass(frozen=True)
class WrittenDay:
    """What an engine wrote for D: enough for the manifest and the audit, none of the rows."""

    rows: Mapping[str, int]
    """Rows per table of `DAY_TABLES`."""
    people_named: int
    """Distinct people the export re-identifies (persons, sources, cases): the audit's count."""
    inputs: Mapping[str, TopicCounts]
    tier_counts: Mapping[int, int]
    """Persons per depth, 0 (F0) to max_depth, zero for tiers never reached."""
    timings: Mapping[str, float]
    session_seconds: float = 0.0


class RowEngine(Protocol):
    """An engine whose rows come back to this process as Arrow tables."""

    name: str

    def run(self, plan: InputPlan, params: TraceParams) -> EngineOutput: ...


class Engine(Protocol):
    """Traces D and writes its tables into the run's staging directories."""

    name: str

    def trace(self, plan: InputPlan, params: TraceParams, tables: DayTables) -> WrittenDay: ...


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The engine's table with exactly `schema`'s columns and types (engines differ in nullability)."""
    columns = [table.column(field.name).cast(field.type) for field in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def tier_counts(cases: pa.Table, exposed: pa.Table, max_depth: int) -> dict[int, int]:
    """Persons per depth, F0 counted from the cases (empty windows included)."""
    counts = Counter(exposed.column("depth").to_pylist())
    counts[0] = pc.sum(pc.equal(cases.column("status"), CONFIRMED)).as_py() or 0
    return {depth: counts.get(depth, 0) for depth in range(max_depth + 1)}
