"""A curated table of day D computed in DuckDB over the analysts' views, and written where D's run stages it.

The prediction and sensor-quality tables are both made this way: a query
over the lake's pseudonymous views, one Parquet file under
`curated/<table>/date=D/` (or its run's staging tree, `jobs.publication`).
"""

from collections.abc import Callable
from datetime import date

import duckdb
import pyarrow as pa

from jobs.publication import DIRECT, DayOutputs
from jobs.publish.day_views import DayViews, day_views
from jobs.trace.write import PART_FILE, DayDirectory, stage_directories
from tracelake.core.lake import Lake
from tracelake.core.rules import Rules

DayQuery = Callable[[duckdb.DuckDBPyConnection, date, Rules], pa.Table]


def write_curated_day(
    lake_root: str,
    day: date,
    rules: Rules,
    table_name: str,
    query: DayQuery,
    *,
    outputs: DayOutputs = DIRECT,
    views: DayViews | None = None,
) -> pa.Table:
    """Run `query` for D on a connection holding the lake's views (UTC session) and stage its table.

    `views` are D's export's own (`jobs.publish.day_views`), else the step opens its own.
    """
    with day_views(lake_root, day, rules, outputs, views) as opened, opened.in_utc() as con:
        table = query(con, day, rules)
    stage_directories(outputs, [DayDirectory(Lake(lake_root).curated_day(table_name, day), {PART_FILE: table})])
    return table
