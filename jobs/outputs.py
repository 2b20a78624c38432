"""Replace one day's output directories as a whole, whichever engine produced them.

Each directory is written complete under a hidden sibling name (readers skip
names starting with `.`), then swapped in: the day's old directory is moved
aside, the new one takes its name, the old one is deleted. Nothing outside the
day's directories is touched, and the same tables give the same bytes.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from tracelake.lake import filesystem

PART_FILE = "part-00000.parquet"


@dataclass(frozen=True)
class DayDirectory:
    """One output directory for day D and the files it must hold (Parquet tables or raw bytes)."""

    path: str
    files: Mapping[str, pa.Table | bytes]


def _sibling(path: str, suffix: str) -> str:
    head, _, name = path.rstrip("/").rpartition("/")
    return f"{head}/.{name}.{suffix}"


def _exists(fs: pafs.FileSystem, path: str) -> bool:
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def _write(fs: pafs.FileSystem, directory: str, name: str, content: pa.Table | bytes) -> None:
    target = f"{directory}/{name}"
    if isinstance(content, pa.Table):
        pq.write_table(content, target, filesystem=fs)
        return
    with fs.open_output_stream(target) as stream:
        stream.write(content)


def replace_day(lake_root: str, directories: list[DayDirectory]) -> None:
    """Stage every directory first, then swap them in one after another."""
    fs, _ = filesystem(lake_root)
    staged: list[tuple[str, str]] = []
    for directory in directories:
        _, final = filesystem(directory.path)
        staging = _sibling(final, "staging")
        if _exists(fs, staging):
            fs.delete_dir(staging)
        fs.create_dir(staging, recursive=True)
        for name, content in directory.files.items():
            _write(fs, staging, name, content)
        staged.append((staging, final))
    for staging, final in staged:
        retired = _sibling(final, "retired")
        if _exists(fs, retired):
            fs.delete_dir(retired)
        if _exists(fs, final):
            fs.move(final, retired)
        fs.move(staging, final)
        if _exists(fs, retired):
            fs.delete_dir(retired)
