"""Every DuckDB database of the stages keeps to the configured memory limit and spills to its own directory."""

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from jobs.validation.session import session
from tracelake.core import duckdb_memory
from tracelake.core.settings import Settings


@pytest.fixture
def ceiling() -> Iterator[None]:
    before = duckdb_memory.memory_ceiling()
    yield
    duckdb_memory.limit_memory(before.limit, before.spill_root)


def _setting(connection: object, name: str) -> str:
    [(value,)] = connection.execute(  # type: ignore[attr-defined]
        "SELECT current_setting($name)", {"name": name}
    ).fetchall()
    return str(value)


def test_a_configured_limit_holds_every_database_opened_after_it(ceiling: None, tmp_path: Path) -> None:
    duckdb_memory.limit_memory("300MiB", str(tmp_path))
    with duckdb_memory.connect() as first, session() as validation:
        for connection in (first, validation.connection):
            assert _setting(connection, "memory_limit") == "300.0 MiB"
            spill = _setting(connection, "temp_directory")
            assert Path(spill).parent == tmp_path
        assert _setting(first, "temp_directory") != _setting(validation.connection, "temp_directory")


def test_a_query_larger_than_the_limit_spills_and_its_directory_goes_with_the_database(
    ceiling: None, tmp_path: Path
) -> None:
    duckdb_memory.limit_memory("64MiB", str(tmp_path))
    connection = duckdb_memory.connect(config={"threads": 1, "preserve_insertion_order": False})
    spill = Path(_setting(connection, "temp_directory"))
    assert oct(spill.stat().st_mode & 0o777) == oct(0o700)
    connection.execute("CREATE TABLE big AS SELECT range AS n, md5(range::VARCHAR) AS h FROM range(3000000)")
    [(largest,)] = connection.execute("SELECT max(h) FROM (SELECT h FROM big ORDER BY h, n)").fetchall()
    assert largest == connection.execute("SELECT max(h) FROM big").fetchone()[0]  # type: ignore[index]
    assert any(spill.iterdir()), "the table does not fit in 64 MiB, so DuckDB must have spilled it"
    connection.close()
    del connection
    gc.collect()
    assert not spill.exists()
    assert os.listdir(tmp_path) == []


def test_a_block_s_database_takes_its_spill_directory_with_it_when_the_block_ends(
    ceiling: None, tmp_path: Path
) -> None:
    duckdb_memory.limit_memory("64MiB", str(tmp_path))
    with duckdb_memory.opened() as connection:
        kept = connection
        assert len(list(tmp_path.iterdir())) == 1
    assert list(tmp_path.iterdir()) == [], "gone at the end of the block, while the object lives on"
    del kept


def test_a_spill_root_that_does_not_exist_yet_is_made(ceiling: None, tmp_path: Path) -> None:
    root = tmp_path / "fast-disk" / "spill"
    duckdb_memory.limit_memory("1GiB", str(root))
    with duckdb_memory.opened() as connection:
        assert Path(_setting(connection, "temp_directory")).parent == root


def test_no_limit_configured_leaves_duckdb_its_own_default(ceiling: None) -> None:
    duckdb_memory.limit_memory(None)
    with duckdb_memory.connect() as connection:
        assert _setting(connection, "memory_limit").endswith("GiB")


@pytest.mark.parametrize(("size", "reason"), [
    ("lots", "not a DuckDB memory size"), ("12 parsecs", "not a DuckDB memory size"),
    ("-1GB", "not a DuckDB memory size"), ("1e9", "not a DuckDB memory size"), ("1 GB;", "not a DuckDB memory size"),
    ("1KB", "below 64MiB"), ("0GiB", "below 64MiB"), ("63.9MiB", "below 64MiB"),
])
def test_a_limit_duckdb_cannot_use_is_refused_as_a_setting(
    size: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACELAKE_DUCKDB_MEMORY_LIMIT", size)
    with pytest.raises(ValidationError, match=reason):
        Settings()


@pytest.mark.parametrize(("size", "shown"), [("64MiB", "64.0 MiB"), (" 2 gb ", "1.8 GiB"), ("1.5GiB", "1.5 GiB")])
def test_every_accepted_limit_is_one_duckdb_applies(
    size: str, shown: str, ceiling: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACELAKE_DUCKDB_MEMORY_LIMIT", size)
    duckdb_memory.limit_memory(Settings().duckdb_memory_limit)
    with duckdb_memory.connect() as connection:
        assert _setting(connection, "memory_limit") == shown


def test_the_default_is_one_gib_and_an_empty_value_means_duckdb_s_own(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().duckdb_memory_limit == "1GiB"
    monkeypatch.setenv("TRACELAKE_DUCKDB_MEMORY_LIMIT", "")
    assert Settings().duckdb_memory_limit is None
