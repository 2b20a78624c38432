"""Write one day's output directories into a publication, whichever engine produced them.

Each directory is written whole into the run's staging tree (`jobs.publication`);
it becomes D's only when the run is published, together with every other
output of the run. The same tables give the same bytes.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from jobs.publication import DayOutputs
from tracelake.core.lake import filesystem

PART_FILE = "part-00000.parquet"


@dataclass(frozen=True)
class RowStream:
    """A table written batch by batch as `batches` makes it, never held whole (the day's contacts)."""

    schema: pa.Schema
    batches: Callable[[], Iterator[pa.RecordBatch]]
    """Makes the batches, in the table's order, when the table is written."""
    num_rows: int


@dataclass(frozen=True)
class DayDirectory:
    """One output directory for day D and the files it must hold (Parquet tables or raw bytes)."""

    path: str
    files: Mapping[str, pa.Table | RowStream | bytes]


def _write(fs: pafs.FileSystem, directory: str, name: str, content: pa.Table | RowStream | bytes) -> None:
    target = f"{directory}/{name}"
    if isinstance(content, pa.Table):
        pq.write_table(content, target, filesystem=fs)
        return
    if isinstance(content, RowStream):
        written = 0
        with pq.ParquetWriter(target, content.schema, filesystem=fs) as writer:
            for batch in content.batches():
                writer.write_batch(batch)
                written += batch.num_rows
        if written != content.num_rows:
            raise RuntimeError(f"{target}: {written:,} rows written of {content.num_rows:,}")
        return
    with fs.open_output_stream(target) as stream:
        stream.write(content)


def stage_copies(outputs: DayOutputs, directory: str, files: Sequence[str]) -> None:
    """Stage `directory` as the files it holds as published, copied by name: a table a run leaves unchanged."""
    fs, staged = filesystem(outputs.target(directory))
    if fs.get_file_info(staged).type != pafs.FileType.NotFound:
        fs.delete_dir(staged)
    fs.create_dir(staged, recursive=True)
    for path in files:
        fs.copy_file(filesystem(path)[1], f"{staged}/{path.rpartition('/')[2]}")


def stage_directories(outputs: DayOutputs, directories: list[DayDirectory]) -> None:
    """Write each directory where the run stages it; one staged earlier in the same run is written anew."""
    for directory in directories:
        fs, staged = filesystem(outputs.target(directory.path))
        if fs.get_file_info(staged).type != pafs.FileType.NotFound:
            fs.delete_dir(staged)
        fs.create_dir(staged, recursive=True)
        for name, content in directory.files.items():
            _write(fs, staged, name, content)
