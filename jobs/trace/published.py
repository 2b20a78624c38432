"""D's trace as published: its manifest, its tables and their files, for the on-case trace to build on.

Read after `recover`, while no other run of D publishes (one publisher per
day, `jobs.publication`), so the manifest and the tables are one run's.
"""

import json
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from jobs.trace.engines import DAY_TABLES
from tracelake.core.lake import children, filesystem, is_part_file


@dataclass(frozen=True)
class PublishedTrace:
    manifest: dict[str, Any]
    files: dict[str, tuple[str, ...]]
    """Each of `DAY_TABLES` → its part files, in name order (Spark writes several)."""
    read: dict[tuple[str, pa.Schema], pa.Table] = field(default_factory=dict, compare=False, repr=False)
    """The tables `table` has read: the trace asks for D's exposures twice, to trace and to merge."""

    def table(self, name: str, schema: pa.Schema) -> pa.Table:
        """The table's rows in its files' order, with exactly `schema`; read once."""
        if (name, schema) not in self.read:
            self.read[name, schema] = self._load(name, schema)
        return self.read[name, schema]

    def _load(self, name: str, schema: pa.Schema) -> pa.Table:
        if not self.files[name]:
            return schema.empty_table()
        fs, _ = filesystem(self.files[name][0])
        parts = [pq.read_table(filesystem(path)[1], filesystem=fs, schema=schema) for path in self.files[name]]
        return pa.concat_tables(parts)

    def dataset(self, name: str, schema: pa.Schema) -> ds.Dataset:
        """The table's files as a dataset with exactly `schema`, read only as a query scans it."""
        if not self.files[name]:
            return ds.dataset(schema.empty_table())
        fs, _ = filesystem(self.files[name][0])
        return ds.dataset([filesystem(path)[1] for path in self.files[name]], schema=schema, filesystem=fs,
                          format="parquet")

    def register(self, con: duckdb.DuckDBPyConnection, view: str, *, name: str, schema: pa.Schema) -> None:
        """`view` in `con`: the table's rows with `schema`'s columns, read only as a query scans them.

        On a local disk, files holding every column are read by DuckDB's own Parquet reader, on every core;
        otherwise (an object store, files written before a column existed) through `dataset`.
        """
        files = self.files[name]
        local = bool(files) and not any("://" in path for path in files)
        if local and all(set(schema.names) <= set(pq.read_schema(path).names) for path in files):
            columns = ", ".join(f'"{field}"' for field in schema.names)
            listed = ", ".join("'" + path.replace("'", "''") + "'" for path in files)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {columns} FROM read_parquet([{listed}])")
            return
        con.register(view, self.dataset(name, schema))


def _part_files(directory: str) -> tuple[str, ...] | None:
    fs, path = filesystem(directory)
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return None
    prefix = directory[: len(directory) - len(path)] if "://" in directory else ""
    names = sorted(
        info.path for info in children(fs, path)
        if info.type == pafs.FileType.File and is_part_file(info.path.rpartition("/")[2])
    )
    return tuple(prefix + name for name in names)


def read_published_trace(manifest_path: str, directories: dict[str, str]) -> PublishedTrace | None:
    """D's published trace, or None when D has none whole (no manifest, or a table's directory missing)."""
    fs, path = filesystem(manifest_path)
    try:
        with fs.open_input_stream(path) as stream:
            manifest = json.loads(stream.read())
    except (FileNotFoundError, OSError):
        return None
    files: dict[str, tuple[str, ...]] = {}
    for name in DAY_TABLES:
        found = _part_files(directories[name])
        if found is None:
            return None
        files[name] = found
    return PublishedTrace(manifest, files)
