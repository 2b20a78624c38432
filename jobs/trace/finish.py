"""D's tables made and written in this process, from engine rows held as Arrow tables.

The DuckDB twin traces in this process, so its rows are here already: the
risk score, the lake's schemas and order (`jobs.trace.curate`) and the
re-identification are computed on them with pyarrow and DuckDB, and each
table is written into the run's staging tree, the contacts last, sorted by
DuckDB as they are written. The Spark job does the
same on its executors (`jobs.trace.spark.outputs`) and comes here only for a
lake its executors cannot write (an object store reached through pyarrow).
Every table is made before any is written, so a pseudonym the vault lacks
leaves nothing staged.
"""

import time

import pyarrow as pa
import pyarrow.compute as pc

from jobs.trace.curate import curate
from jobs.trace.engines import DAY_TABLES, DayTables, EngineOutput, RowEngine, WrittenDay
from jobs.trace.parameters import TraceParams
from jobs.trace.plan import InputPlan
from jobs.trace.reidentify import pseudonyms_named, reidentify
from jobs.trace.risk import risk_scores
from jobs.trace.write import PART_FILE, DayDirectory, RowStream, stage_directories
from tracelake.core.vault import read_identities


def write_on_driver(output: EngineOutput, params: TraceParams, tables: DayTables) -> WrittenDay:
    """D's tables from `output`, staged where `tables` says; timings gain `curate` and `write`."""
    timings = dict(output.timings)
    clock = time.perf_counter()
    rules = tables.rules
    risk = risk_scores(output.contacts, output.exposed, rules.risk, params)
    curated = curate(output, rules.version, rules.tier_name, rules.tiers.max_depth, risk)
    named = pseudonyms_named(curated.exposures)
    people_named = pc.count_distinct(named).as_py()
    export = reidentify(curated.exposures, read_identities(tables.vault, named))
    made: dict[str, pa.Table | RowStream] = {
        "contacts": curated.contacts, "exposures": curated.exposures, "cases": curated.cases, "export": export
    }
    rows = {name: made[name].num_rows for name in DAY_TABLES}
    del curated, named, export
    timings["curate"], clock = time.perf_counter() - clock, time.perf_counter()
    # The contacts last: the other tables are written and let go first, so that DuckDB's sort of the contacts,
    # done as they are written, has the memory those held.
    for name in sorted(DAY_TABLES, key=lambda table: table == "contacts"):
        stage_directories(tables.publication, [DayDirectory(tables.directories[name], {PART_FILE: made.pop(name)})])
    timings["write"] = time.perf_counter() - clock
    return WrittenDay(
        rows=rows,
        people_named=people_named,
        inputs=output.inputs,
        tier_counts=output.tier_counts,
        timings=timings,
        session_seconds=output.session_seconds,
    )


class OnDriver:
    """An engine whose rows come back as Arrow tables, its tables written by this process."""

    def __init__(self, engine: RowEngine) -> None:
        self.engine = engine
        self.name = engine.name

    def trace(self, plan: InputPlan, params: TraceParams, tables: DayTables) -> WrittenDay:
        return write_on_driver(self.engine.run(plan, params), params, tables)
