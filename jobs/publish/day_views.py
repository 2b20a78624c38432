"""The analysts' views of day D, opened once for D's export and shared by its steps.

Registering the views probes every table's files, and `exposure_districts`
(the district rule) joins each exposed person's contacts and check-ins. Each
export step used to open its own connection and pay for both: the views five
times, D's districts four. `DayViews` holds one DuckDB connection with the
views registered for D's publication and D's rows of `exposure_districts`
computed once, and keeps the answers of queries that are the same whoever
reads them (the public and the tracers' reports ask the same questions).

The worklists, the curated tables of D, the analysts' file and both reports
take one; each still opens its own when called alone.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import duckdb

from jobs.publication import DIRECT, DayOutputs
from jobs.publish.analyst_db import derived_view_sql, register_lake_views, register_parquet_views
from tracelake.core import duckdb_memory
from tracelake.core.rules import Rules

T = TypeVar("T")

DAY_DISTRICTS = "exposure_districts_of_day"
"""The temp table holding D's rows of `exposure_districts`."""


@dataclass
class DayViews:
    """One connection over the lake's views for day D, as D's publication reads them."""

    lake_root: str
    day: date
    rules: Rules
    con: duckdb.DuckDBPyConnection
    outputs: DayOutputs = DIRECT
    answers: dict[Any, Any] = field(default_factory=dict)
    """Answers kept by `remember`: only what no later step of the export changes."""

    @classmethod
    def open(cls, lake_root: str, day: date, rules: Rules, outputs: DayOutputs = DIRECT) -> "DayViews":
        con = duckdb_memory.connect()
        try:
            register_lake_views(con, lake_root, rules, outputs)
            _keep_day_districts(con, day, rules)
        except BaseException:
            con.close()
            raise
        return cls(lake_root, day, rules, con, outputs)

    def close(self) -> None:
        self.con.close()

    def reread(self, *names: str) -> None:
        """Register the base views `names` again: D's tables the export has staged since the views were opened."""
        register_parquet_views(self.con, self.lake_root, self.outputs, names)

    @contextmanager
    def in_utc(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection with a UTC session time zone for a step, the session's own restored after it."""
        (zone,) = self.con.execute("SELECT current_setting('TimeZone')").fetchall()[0]
        self.con.execute("SET TimeZone = 'UTC'")
        try:
            yield self.con
        finally:
            self.con.execute("SET TimeZone = " + "'" + str(zone).replace("'", "''") + "'")

    def remember(self, key: Any, compute: Callable[[], T]) -> T:
        """`compute()` the first time `key` is asked, the same answer after."""
        if key not in self.answers:
            self.answers[key] = compute()
        answer: T = self.answers[key]
        return answer


def _keep_day_districts(con: duckdb.DuckDBPyConnection, day: date, rules: Rules) -> None:
    """Compute D's `exposure_districts` once: the view then reads D from a temp table, other days as before."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {DAY_DISTRICTS} AS SELECT * FROM exposure_districts WHERE date = $day",
        {"day": day},
    )
    con.execute(
        f"""CREATE OR REPLACE VIEW exposure_districts AS
        SELECT * FROM temp.main.{DAY_DISTRICTS}
        UNION ALL
        SELECT * FROM ({derived_view_sql(rules, "exposure_districts")}) WHERE date <> DATE '{day.isoformat()}'"""
    )


@contextmanager
def day_views(
    lake_root: str, day: date, rules: Rules, outputs: DayOutputs = DIRECT, given: DayViews | None = None
) -> Iterator[DayViews]:
    """The caller's views when it shares them across steps, else fresh ones closed on exit."""
    if given is not None:
        if given.day != day or given.lake_root != lake_root or given.outputs is not outputs:
            raise ValueError(
                f"views opened for {given.lake_root} on {given.day}, asked for {lake_root} on {day}"
            )
        yield given
        return
    fresh = DayViews.open(lake_root, day, rules, outputs)
    try:
        yield fresh
    finally:
        fresh.close()
