"""A kill -9 anywhere in a day's trace, validation and export leaves D as it was, or D of the new run whole.

Real engine (DuckDB), real suites, real builders: the victim is
`tests.jobs.crash_run`, killed at a named step of its publication. D is then
compared file by file (every output file's SHA-256, the analysts' DuckDB file
included) with the old D, or, for a kill after the commit record, with what
the committed run staged.
"""

import json
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from jobs.publication import recover
from jobs.trace.day import trace_day
from tests.jobs.crash_run import DAY, run, visible
from tests.jobs.lakebuilder import LakeBuilder
from tracelake.core.rules import load_rules

ROOT = Path(__file__).resolve().parents[3]
SOURCE, FIRST, SECOND, LATE = "0912000101", "0912000102", "0912000103", "0912000104"
KILLS = [
    ("stage exports/exposures/date=2021-08-03", 1, "old"),  # the curated tables are staged, the export not yet
    ("stage manifests/trace/date=2021-08-03", 1, "old"),  # before the manifest
    ("stage exports/worklists/date=2021-08-03/district=", 2, "old"),  # one district's list written, the next not
    ("stage tracelake.duckdb", 1, "old"),
    ("commit", 1, "old"),  # everything staged, no commit record yet
    ("committed", 1, "new"),  # the commit record, nothing swapped
    ("swap exports/worklists/date=2021-08-03", 1, "new"),  # half of D swapped in
    ("swap tracelake.duckdb", 1, "new"),
]


def _day_before(files: dict[str, str]) -> dict[str, str]:
    return {path: digest for path, digest in files.items() if "date=2021-08-02" in path}


def _story(builder: LakeBuilder) -> None:
    builder.venue("V", "Chợ Bến Thành", "760", "79")
    builder.venue("W", "Cà phê Hẻm 20", "770", "79")
    builder.confirmed(SOURCE, "2021-08-02 09:00", "2021-08-02")
    builder.checkin(SOURCE, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin(FIRST, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin(FIRST, "W", "2021-08-03 12:00", "2021-08-03 13:00")
    builder.checkin(SECOND, "W", "2021-08-03 12:00", "2021-08-03 13:00")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A lake with D and the day before published, and a late check-in landed since: a re-run changes D."""
    root = tmp_path_factory.mktemp("published")
    builder = LakeBuilder(root / "lake", root / "vault")
    _story(builder)
    builder.write()
    trace_day(str(builder.root), DAY - timedelta(days=1), load_rules(), vault=str(builder.vault), engine="duckdb")
    run(builder.root, builder.vault, lambda step: None)
    old = visible(builder.root)
    builder.checkin(LATE, "V", "2021-08-03 10:30", "2021-08-03 11:30")
    builder.write()
    return root, old


@pytest.mark.slow
@pytest.mark.parametrize(("step", "count", "outcome"), KILLS, ids=[f"{step} #{count}" for step, count, _ in KILLS])
def test_a_kill_leaves_the_old_day_or_the_new_one_file_by_file(
    published: tuple[Path, dict[str, str]], tmp_path: Path, step: str, count: int, outcome: str
) -> None:
    source, old = published
    shutil.copytree(source, tmp_path, dirs_exist_ok=True)
    lake, vault, expected = tmp_path / "lake", tmp_path / "vault", tmp_path / "expected.json"
    killed = subprocess.run(
        [sys.executable, "-m", "tests.jobs.crash_run", str(lake), str(vault), step, str(count), str(expected)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert killed.returncode == -9, killed.stdout + killed.stderr
    recover(str(lake), DAY)
    after = visible(lake)
    if outcome == "old":
        assert after == old
        assert _day_before(after)
    else:
        new = json.loads(expected.read_text())
        assert after == new
        assert new != old
        assert _day_before(new) == _day_before(old)
        assert not list((lake / "exports").glob("_publish/*/*"))
    assert any(path.startswith("exports/worklists/date=2021-08-03/district=") for path in after)
    assert "tracelake.duckdb" in after
