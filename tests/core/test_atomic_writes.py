"""Every file is written whole or not at all: one helper for Parquet, one for bytes, one for files a tool builds."""

from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from tests.jobs.object_store import object_store
from tracelake.core.lake import building_atomically, write_atomically, write_bytes_atomically


def _names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_parquet_and_bytes_land_under_their_name_and_nothing_hidden_stays(tmp_path: Path) -> None:
    fs = pafs.LocalFileSystem()
    write_atomically(pa.table({"n": [1, 2]}), fs, str(tmp_path / "part.parquet"))
    write_bytes_atomically(b"a,b\r\n", fs, str(tmp_path / "list.csv"))
    write_bytes_atomically(b"a,b\r\n1,2\r\n", fs, str(tmp_path / "list.csv"))

    assert _names(tmp_path) == ["list.csv", "part.parquet"]
    assert pq.read_table(tmp_path / "part.parquet")["n"].to_pylist() == [1, 2]
    assert (tmp_path / "list.csv").read_bytes() == b"a,b\r\n1,2\r\n"


def test_keeping_an_existing_file_leaves_the_first_writers_bytes(tmp_path: Path) -> None:
    fs = pafs.LocalFileSystem()
    final = str(tmp_path / "key.fingerprint")
    write_bytes_atomically(b"first\n", fs, final, keep_existing=True)
    write_bytes_atomically(b"second\n", fs, final, keep_existing=True)

    assert _names(tmp_path) == ["key.fingerprint"]
    assert (tmp_path / "key.fingerprint").read_bytes() == b"first\n"


def test_an_object_store_cannot_refuse_so_its_last_writer_wins(tmp_path: Path) -> None:
    final = str(tmp_path / "key.fingerprint")
    write_bytes_atomically(b"first\n", object_store(), final, keep_existing=True)
    write_bytes_atomically(b"second\n", object_store(), final, keep_existing=True)

    assert _names(tmp_path) == ["key.fingerprint"]
    assert (tmp_path / "key.fingerprint").read_bytes() == b"second\n"


def test_a_built_file_replaces_the_old_one_only_when_the_build_succeeds(tmp_path: Path) -> None:
    final = tmp_path / "tracelake.duckdb"
    final.write_bytes(b"yesterday")
    with pytest.raises(RuntimeError), building_atomically(str(final)) as building:
        Path(building).write_bytes(b"half")
        raise RuntimeError("the build failed")
    assert final.read_bytes() == b"yesterday"

    with building_atomically(str(final)) as building:
        assert Path(building).name.startswith("."), "readers and globs skip the file being built"
        Path(building).write_bytes(b"today")
    assert final.read_bytes() == b"today"
    assert _names(tmp_path) == ["tracelake.duckdb"]
