"""Every DuckDB database the stages open, held to one memory ceiling and spilling to a private directory.

DuckDB lets each database take 80% of the machine's memory unless told otherwise, and a stage often has a
few open at once. The entry points (the CLI, the Airflow tasks) hand `Settings.duckdb_memory_limit` down
once per process with `limit_memory`; every stage opens its databases with `connect` (or `opened`, for a
block), so the trace, the validation and the export all answer to it. What does not fit is spilled to a
temporary directory of the database's own (mode 0700: spilled rows can hold pseudonyms), removed with it.
"""

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

Config = dict[str, str | bool | int | float | list[str]]


@dataclass(frozen=True)
class MemoryCeiling:
    limit: str | None = None
    """A DuckDB size (`1GiB`, `800MB`) for each database; None leaves DuckDB's default, 80% of the RAM."""
    spill_root: str | None = None
    """Where spill directories are made; None means the system's temporary directory."""


_ceiling = MemoryCeiling()


def limit_memory(limit: str | None, spill_root: str | None = None) -> None:
    """Hold every database this process opens from now on to `limit`, spilling under `spill_root`."""
    global _ceiling
    if spill_root is not None:
        os.makedirs(spill_root, mode=0o700, exist_ok=True)
    _ceiling = MemoryCeiling(limit, spill_root)


def memory_ceiling() -> MemoryCeiling:
    return _ceiling


def connect(database: str = ":memory:", *, config: Config | None = None) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect` under the process's ceiling, spilling to a directory removed with the connection."""
    ceiling = _ceiling
    settings: Config = dict(config or {})
    if ceiling.limit is not None:
        settings.setdefault("memory_limit", ceiling.limit)
    spill = tempfile.mkdtemp(prefix="tracelake-duckdb-", dir=ceiling.spill_root)
    settings.setdefault("temp_directory", spill)
    try:
        connection = duckdb.connect(database, config=settings)
    except BaseException:
        shutil.rmtree(spill, ignore_errors=True)
        raise
    weakref.finalize(connection, shutil.rmtree, spill, True)
    return connection


@contextmanager
def opened(database: str = ":memory:", *, config: Config | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """`connect` for the length of a block: the database closed and its spill directory gone when it ends."""
    connection = connect(database, config=config)
    spill = _spill_directory(connection)
    try:
        yield connection
    finally:
        connection.close()
        shutil.rmtree(spill, ignore_errors=True)


def _spill_directory(connection: duckdb.DuckDBPyConnection) -> str:
    [(directory,)] = connection.execute("SELECT current_setting('temp_directory')").fetchall()
    return str(directory)
