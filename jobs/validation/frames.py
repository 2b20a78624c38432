"""A day's partition of one lake table, as the DuckDB view Great Expectations validates.

The view reads the partition's files where they are, one pass per query, so
validating a day costs scans of it rather than a copy of it in memory. Its
columns are those of the table's Arrow schema from `schemas/lake.py`, in that
order and with those types: a column a file lacks reads as null (files written
before a column was added), and a file whose column has another type has a
drifted schema and fails loudly here, before any suite runs, instead of being
half-read. Hidden files (`.name.inprogress`, `_bookkeeping`) are skipped like
every other reader of the lake skips them; an absent directory is an empty
table.

List columns (`channels`, `source_pseudonyms`, ...) are shown to the suites as
their elements joined by `|`: Great Expectations has no list type, and the
suites' patterns treat `|` as an element boundary. A list holding a null joins
to null, as Arrow's `binary_join` does.

A local lake is read by DuckDB itself (`read_parquet`). DuckDB cannot read
through a pyarrow filesystem, so the files of an object-store lake are
registered as an Arrow dataset with the schema instead: the same rows and
types, read by pyarrow, a little slower.
"""

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from jobs.validation.session import Session, identifier, literal
from tracelake.core.lake import filesystem, is_hidden

LIST_SEPARATOR = "|"


class DriftedSchema(ValueError):
    """A file of the partition stores a column with another type than the table's schema says."""


def partition_files(directory: str) -> tuple[pafs.FileSystem, list[str]]:
    """Every visible file under a `date=D` directory (none if it is absent), in path order."""
    fs, path = filesystem(directory)
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return fs, []
    root = path.rstrip("/") + "/"
    files = [
        entry.path
        for entry in fs.get_file_info(pafs.FileSelector(path, recursive=True))
        if entry.type == pafs.FileType.File
        and not any(is_hidden(part) for part in entry.path[len(root):].split("/"))
    ]
    return fs, sorted(files)


def _unwrapped(kind: pa.DataType) -> pa.DataType:
    """A type with its large variants read as the plain ones: the same values to a reader."""
    if pa.types.is_large_string(kind):
        return pa.string()
    if pa.types.is_large_list(kind) or pa.types.is_list(kind):
        return pa.list_(_unwrapped(kind.value_type))
    return kind


def check_schema(path: str, schema: pa.Schema) -> None:
    """Raise `DriftedSchema` when a column of the file at `path` has another type than `schema` gives it."""
    stored = pq.read_schema(path)
    for field in schema:
        index = stored.get_field_index(field.name)
        if index >= 0 and not _unwrapped(stored.field(index).type).equals(_unwrapped(field.type)):
            raise DriftedSchema(
                f"{path}: column {field.name} is {stored.field(index).type}, the table's schema says {field.type}"
            )


def _shown(field: pa.Field, table: str) -> str:
    name = identifier(field.name)
    column = f"{table}.{name}"
    if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
        joined = f"array_to_string({column}, {literal(LIST_SEPARATOR)})"
        return f"CASE WHEN list_count({column}) = len({column}) THEN {joined} END AS {name}"
    return f"{column} AS {name}"


def shown_columns(schema: pa.Schema, table: str) -> str:
    """The select list a suite sees of `table` (a partition view): every column, list columns joined by `|`."""
    return ", ".join(_shown(field, table) for field in schema)


def partition_view(session: Session, view: str, directory: str, schema: pa.Schema) -> None:
    """Create `view` over the partition in `directory`: the schema's columns and types, lists still lists."""
    fs, files = partition_files(directory)
    empty = f"{view}__schema"
    session.register(empty, schema.empty_table())
    if not files:
        source = identifier(empty)
    elif isinstance(fs, pafs.LocalFileSystem):
        for path in files:
            check_schema(path, schema)
        listed = ", ".join(literal(path) for path in files)
        source = (
            f"(SELECT * FROM {identifier(empty)} UNION ALL BY NAME "
            f"SELECT * FROM read_parquet([{listed}], union_by_name = true))"
        )
    else:
        dataset = f"{view}__files"
        session.register(dataset, ds.dataset(files, format="parquet", filesystem=fs, schema=schema))
        source = identifier(dataset)
    columns = ", ".join(identifier(field.name) for field in schema)
    session.execute(f"CREATE VIEW {identifier(view)} AS SELECT {columns} FROM {source}")


def table_view(session: Session, view: str, directory: str, schema: pa.Schema) -> str:
    """The suite's view `view` of one partition as it is (lists joined); returns the partition view under it."""
    partition = f"{view}__partition"
    partition_view(session, partition, directory, schema)
    session.execute(f"CREATE VIEW {identifier(view)} AS SELECT {shown_columns(schema, 'p')} FROM {partition} AS p")
    return partition
