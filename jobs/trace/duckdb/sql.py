"""Small helpers over a DuckDB connection shared by the twin's steps."""

from collections.abc import Mapping
from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, query: str, parameters: Mapping[str, Any] | None = None) -> int:
    """The single integer a query returns.

    DuckDB 2.0 keeps a result open until it is read to the end, and an open
    result blocks the connection: fetch all rows, never just the first.
    """
    rows = con.execute(query, dict(parameters or {})).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0
