"""A day's partition of one lake table, as the pandas frame Great Expectations validates.

Partitions are read with their Arrow schema from `schemas/lake.py`, so a file
with a drifted schema fails loudly here instead of being half-read. Hidden
files (`.name.inprogress`, `_bookkeeping`) are skipped like every other reader
of the lake skips them. List columns (`channels`, `source_pseudonyms`, ...) are
shown to the suites as their elements joined by `|`: Great Expectations has no
list type, and the suites' patterns treat `|` as an element boundary.
"""

from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from tracelake.core.lake import filesystem

LIST_SEPARATOR = "|"


def read_partition(directory: str, schema: pa.Schema) -> pa.Table:
    """Every visible Parquet file of one `date=D` directory; an absent directory is an empty table."""
    fs, path = filesystem(directory)
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return schema.empty_table()
    dataset = ds.dataset(
        path, format="parquet", filesystem=fs, schema=schema, ignore_prefixes=[".", "_"], partitioning=None
    )
    return dataset.to_table()


def _joined(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.binary_join(column, LIST_SEPARATOR)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """The frame a suite validates: UTC-aware timestamps, list columns joined by `|`."""
    columns: dict[str, Any] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            column = _joined(column)
        columns[name] = column
    return pa.table(columns).to_pandas(date_as_object=True)


def list_values(table: pa.Table, column: str) -> list[list[str]]:
    """A list column as Python lists (empty for a null), for the cross-table lookups."""
    return [value or [] for value in table.column(column).to_pylist()]
