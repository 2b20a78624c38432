"""One in-memory DuckDB per validation run: the views the suites read, and the connection Great Expectations uses.

Great Expectations validates through its SQL data source, on this session's
one DuckDB connection, so that views can stand on what only this connection
knows: Arrow tables registered from Python (the F0s' ids from the vault, the
landing summary, a remote lake's files). Nothing is written to disk: the
database is in memory, held to the process's ceiling (`tracelake.core.duckdb_memory`), and what DuckDB
spills when a query outgrows it goes to a private scratch directory that is deleted with the session (the
export's suite reads person ids).

Great Expectations opens and closes SQLAlchemy connections as it likes and
fetches results after closing them. The session hands it the same DuckDB
connection each time, with closing and transactions made no-ops: everything it
runs is a read, and a rollback on DuckDB would drop the result it is about to
fetch.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa
from duckdb_engine import ConnectionWrapper

from tracelake.core import duckdb_memory

CONNECTION_STRING = "duckdb:///:memory:"
"""What the SQL data source is told; the connection itself comes from `Session.creator`."""
SESSION_ZONE = "UTC"
"""Timestamps are compared as instants; naming the zone keeps any rendering of them independent of the host."""


def literal(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """`name` as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class _SharedConnection(ConnectionWrapper):
    """The session's DuckDB connection as SQLAlchemy sees it: never closed by it, without transactions."""

    def close(self) -> None:
        """The session closes the connection when it ends."""

    def begin(self) -> None:
        """Every statement is its own transaction: validation only reads."""

    def commit(self) -> None:
        """Nothing to commit: validation only reads."""

    def rollback(self) -> None:
        """Nothing to undo, and DuckDB would drop the pending result Great Expectations fetches after closing."""


class Session:
    """A DuckDB connection with the day's views; `creator` gives it to Great Expectations' SQL data source."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    def execute(self, statement: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.connection.execute(statement, parameters or []).fetchall()

    def register(self, name: str, data: object) -> None:
        """An Arrow table or dataset (or a pandas frame) readable as `name` on this connection only."""
        self.connection.register(name, data)

    def count(self, relation: str) -> int:
        [(rows,)] = self.execute(f"SELECT count(*) FROM {relation}")
        return int(rows)

    def arrow(self, query: str) -> pa.Table:
        return self.connection.sql(query).to_arrow_table()

    def creator(self) -> Callable[[], ConnectionWrapper]:
        """SQLAlchemy's `creator`: this session's connection, whichever engine asks for it."""
        shared = _SharedConnection(self.connection)
        return lambda: shared


@contextmanager
def session() -> Iterator[Session]:
    """An in-memory DuckDB whose spill files live in a private directory, both gone when the block ends."""
    with duckdb_memory.opened() as connection:
        connection.execute(f"SET TimeZone = '{SESSION_ZONE}'")
        yield Session(connection)
