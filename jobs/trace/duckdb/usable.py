"""The checks of `jobs.trace.usable` as DuckDB SQL (twin of jobs/trace/spark/usable.py).

DuckDB reads the ends of the int64 range as `-infinity`/`infinity` and gives
them no epoch, so instants are compared as timestamps, where infinities order
as they should. The SQL is built from the checks' constants only, never from
data.
"""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from jobs.trace.parameters import TraceParams
from jobs.trace.usable import (
    CHECKS,
    DEFAULT_EARLIEST,
    LATEST,
    NO_LANDING,
    Between,
    CaseDate,
    Check,
    Differ,
    Instant,
    NotBefore,
    OneOf,
    Required,
    case_date_bounds,
    case_date_columns,
    case_date_window,
)
from tracelake.core.days import epoch_micros, from_epoch_micros

REASON = "_unusable"
BOUNDS_TABLE = "case_date_bounds"
DEFAULT_EARLIEST_US = epoch_micros(DEFAULT_EARLIEST)
UTC_ZONE = ZoneInfo("UTC")


def _timestamp(instant: datetime) -> str:
    return f"TIMESTAMPTZ '{instant.isoformat()}'"


def _date(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _failing(check: Check, earliest: datetime) -> str:
    match check:
        case Required(column, None):
            return f"events.{column} IS NULL"
        case Required(column, str() as kind):
            return f"events.kind = {_text(kind)} AND events.{column} IS NULL"
        case OneOf(column, values):
            return f"events.{column} NOT IN ({', '.join(_text(value) for value in values)})"
        case Instant(column):
            return f"NOT (events.{column} BETWEEN {_timestamp(earliest)} AND {_timestamp(LATEST)})"
        case Between(column, low, high):
            return f"NOT (events.{column} BETWEEN {low} AND {high})"
        case CaseDate(column):
            reported, bounds = "epoch_us(events.reported_at)", f"{column}_bounds"
            plausible = f"{reported} >= {bounds}.reported_from_us AND {reported} < {bounds}.reported_until_us"
            return f"events.{column} IS NOT NULL AND NOT coalesce({plausible}, false)"
        case NotBefore(later, earlier, _):
            return f"events.{later} < events.{earlier}"
        case Differ(first, second, _):
            return f"events.{first} = events.{second}"
    raise TypeError(f"no SQL form for {check!r}")


def _reason(topic: str, earliest: datetime) -> str:
    branches = " ".join(f"WHEN {_failing(check, earliest)} THEN {_text(check.reason)}" for check in CHECKS[topic])
    return f"CASE {branches} END"


def judged(
    con: duckdb.DuckDBPyConnection, topic: str, source: str, parameters: Mapping[str, Any], params: TraceParams
) -> str:
    """A subquery of `source`'s rows with a `_unusable` column (the reason, null for a usable row).

    For case reports, registers `case_date_bounds` first: `release` it after the last query of the topic.
    """
    return judged_against(con, topic, source, parameters, params.earliest_us, params.zone)


def judged_against(
    con: duckdb.DuckDBPyConnection,
    topic: str,
    source: str,
    parameters: Mapping[str, Any],
    earliest_us: int = DEFAULT_EARLIEST_US,
    zone: ZoneInfo = UTC_ZONE,
) -> str:
    """`judged` for readers other than the trace: the contract's earliest instant unless told another.

    `zone` only places case dates (the rules' zone); other topics never read it.
    """
    joins = ""
    columns = case_date_columns(topic)
    if columns:
        first, last = case_date_window(earliest_us)
        candidates = con.execute(
            f"SELECT DISTINCT day FROM (SELECT unnest([{', '.join(columns)}]) AS day FROM {source}) "
            f"WHERE day BETWEEN {_date(first)} AND {_date(last)}",
            dict(parameters),
        ).fetchall()
        bounds = case_date_bounds([day for (day,) in candidates], zone, earliest_us)
        con.register(BOUNDS_TABLE, bounds)
        joins = " ".join(
            f"LEFT JOIN {BOUNDS_TABLE} {column}_bounds ON {column}_bounds.day = events.{column}" for column in columns
        )
    reason = _reason(topic, from_epoch_micros(earliest_us))
    return f"(SELECT events.*, {reason} AS {REASON} FROM {source} events {joins})"


def usable_view(topic: str, source: str, earliest_us: int = DEFAULT_EARLIEST_US) -> str:
    """The usable rows of `source` as SQL alone, for a view: topics without case dates only."""
    if case_date_columns(topic):
        raise ValueError(f"{topic} rows are judged against case date bounds: use judged_against")
    reason = _reason(topic, from_epoch_micros(earliest_us))
    return usable(f"(SELECT events.*, {reason} AS {REASON} FROM {source} events)")


def checked_columns(topic: str) -> tuple[str, ...]:
    """The columns the checks of `topic` read: a reader that judges rows must load them."""
    columns: list[str] = []
    for check in CHECKS[topic]:
        match check:
            case Required(column, kind):
                columns += [column] if kind is None else [column, "kind"]
            case OneOf(column, _) | Instant(column) | Between(column, _, _):
                columns.append(column)
            case CaseDate(column):
                columns += [column, "reported_at"]
            case NotBefore(later, earlier, _):
                columns += [later, earlier]
            case Differ(first, second, _):
                columns += [first, second]
    return tuple(dict.fromkeys(columns))


def landed_order(params: TraceParams) -> str:
    """landed_at as epoch microseconds where plausible, else NO_LANDING (twin of `spark.usable.landed_order`)."""
    return f"coalesce(epoch_us({plausible_landing(params.earliest_us)}), {NO_LANDING})"


def plausible_landing(earliest_us: int = DEFAULT_EARLIEST_US) -> str:
    """landed_at where plausible, else null: other readers order copies by it NULLS FIRST, as the trace does."""
    plausible = f"landed_at BETWEEN {_timestamp(from_epoch_micros(earliest_us))} AND {_timestamp(LATEST)}"
    return f"CASE WHEN {plausible} THEN landed_at END"


def release(con: duckdb.DuckDBPyConnection, topic: str) -> None:
    if case_date_columns(topic):
        con.unregister(BOUNDS_TABLE)


def usable(judged_rows: str) -> str:
    return f"(SELECT * EXCLUDE ({REASON}) FROM {judged_rows} WHERE {REASON} IS NULL)"


def reason_counts(con: duckdb.DuckDBPyConnection, judged_rows: str, parameters: Mapping[str, Any]) -> dict[str, int]:
    rows = con.execute(
        f"SELECT {REASON}, count(*) FROM {judged_rows} WHERE {REASON} IS NOT NULL GROUP BY ALL", dict(parameters)
    ).fetchall()
    return {reason: int(count) for reason, count in rows}
