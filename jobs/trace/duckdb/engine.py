"""The DuckDB engine: an in-memory database per run, the same plan and params as Spark."""

import time

from jobs.trace.duckdb.cases import build_cases
from jobs.trace.duckdb.raw_events import load_inputs
from jobs.trace.duckdb.tiers import EXPOSED, trace_tiers
from jobs.trace.engines import CASE_ROWS, CONTACT_ROWS, EXPOSED_ROWS, EngineOutput, conform, tier_counts
from jobs.trace.parameters import TraceParams
from jobs.trace.plan import InputPlan
from tracelake.core import duckdb_memory


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, threads: int | None = None, *, prune: bool = True) -> None:
        self.threads = threads
        self.prune = prune
        """Read only the rows near each round's sources; off, every row (to check both agree)."""

    def run(self, plan: InputPlan, params: TraceParams) -> EngineOutput:
        config: dict[str, str | bool | int | float | list[str]] = {"threads": self.threads} if self.threads else {}
        with duckdb_memory.opened(config=config) as con:
            con.execute("SET TimeZone = 'UTC'")
            timings: dict[str, float] = {}
            clock = time.perf_counter()
            counts = load_inputs(con, plan, params)
            timings["read"], clock = time.perf_counter() - clock, time.perf_counter()
            build_cases(con, params)
            cases = conform(con.sql("SELECT * FROM cases").to_arrow_table(), CASE_ROWS)
            timings["cases"], clock = time.perf_counter() - clock, time.perf_counter()
            trace_tiers(con, params, prune=self.prune)
            contacts = conform(con.sql("SELECT * FROM contacts").to_arrow_table(), CONTACT_ROWS)
            exposed = conform(con.sql(EXPOSED).to_arrow_table(), EXPOSED_ROWS)
            timings["tiers"] = time.perf_counter() - clock
        return EngineOutput(
            cases=cases,
            contacts=contacts,
            exposed=exposed,
            inputs=counts,
            tier_counts=tier_counts(cases, exposed, params.max_depth),
            timings=timings,
        )
