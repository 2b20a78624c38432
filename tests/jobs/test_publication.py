"""Publishing a day all or nothing: staging, the commit point, a kill -9 at every step, held and withheld runs."""

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.publication import PublicationSuperseded, begin, held, read_published, recover
from tests.jobs.publish_steps import DAY, DIRECTORIES, FILES, OTHER_DAY, RUNS, publish, store

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = ["local", "objectstore"]


def _lake(tmp_path: Path, strategy: str) -> Path:
    """A lake holding another day and run A of D, published."""
    lake = tmp_path / "lake"
    for relative, content in OTHER_DAY.items():
        (lake / relative).parent.mkdir(parents=True, exist_ok=True)
        (lake / relative).write_bytes(content)
    publish(lake, "A", strategy)
    return lake


def _published(lake: Path) -> dict[str, bytes]:
    """Every file a reader of the lake sees: all but the publications' own bookkeeping."""
    return {
        path.relative_to(lake).as_posix(): path.read_bytes()
        for path in sorted(lake.rglob("*"))
        if path.is_file() and "_publish" not in path.relative_to(lake).parts
    }


def _day(run: str) -> dict[str, bytes]:
    return {**OTHER_DAY, **RUNS[run]}


def _steps(tmp_path: Path, strategy: str) -> list[tuple[str, int]]:
    """Every step of publishing B over A, with its occurrence number, as a dry run sees them."""
    seen: list[str] = []
    publish(_lake(tmp_path / "dry", strategy), "B", strategy, seen.append)
    counts: Counter[str] = Counter()
    steps = []
    for name in seen:
        counts[name] += 1
        steps.append((name, counts[name]))
    return steps


def _victim(lake: Path, strategy: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.jobs.publish_steps", str(lake), strategy, *arguments],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_run_replaces_the_day_whole_and_nothing_else(tmp_path: Path, strategy: str) -> None:
    lake = _lake(tmp_path, strategy)
    assert _published(lake) == _day("A")
    publication = publish(lake, "B", strategy)
    assert _published(lake) == _day("B")
    assert not (lake / "reports" / "date=2021-08-03").exists()
    staged_list = publication.target(str(lake / "exports/worklists/date=2021-08-03/district=3/worklist.csv"))
    assert staged_list.startswith(str(lake / "exports" / "_publish")), "a phone list is staged in the tracers' area"
    leftovers = sorted(path.relative_to(lake).as_posix() for path in lake.rglob("_publish/*/*"))
    assert leftovers == ["_publish/2021-08-03/published.json"]


def test_nothing_staged_is_visible_before_the_commit(tmp_path: Path) -> None:
    lake = _lake(tmp_path, "local")
    publication = begin(str(lake), DAY, directories=[str(lake / d) for d in DIRECTORIES])
    staged = Path(publication.target(str(lake / "curated/contacts/date=2021-08-03/part-00000.parquet")))
    staged.parent.mkdir(parents=True)
    staged.write_bytes(b"B contacts")
    assert publication.source(str(lake / "curated/contacts/date=2021-08-03")) == str(staged.parent)
    assert publication.source(str(lake / "curated/contacts/date=2021-08-02")) == str(
        lake / "curated/contacts/date=2021-08-02"
    )
    assert _published(lake) == _day("A")
    with pytest.raises(ValueError, match="not among the outputs"):
        publication.target(str(lake / "curated/contacts/date=2021-08-02/part-00000.parquet"))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_kill_at_any_step_leaves_the_old_day_or_completes_the_new_one(tmp_path: Path, strategy: str) -> None:
    steps = _steps(tmp_path, strategy)
    assert ("commit", 1) in steps and ("swap tracelake.duckdb", 1) in steps
    commit = steps.index(("committed", 1))
    for position, (step, count) in enumerate(steps):
        lake = _lake(tmp_path / f"kill-{position}", strategy)
        killed = _victim(lake, strategy, step, str(count))
        assert killed.returncode == -9, (step, count, killed.stderr)
        recover(str(lake), DAY, filesystem=store(strategy))
        expected = "A" if position < commit else "B"
        assert _published(lake) == _day(expected), (step, count)
        publish(lake, "A", strategy)
        assert _published(lake) == _day("A"), f"the run after a kill at {step} #{count} publishes cleanly"
        assert sorted(path.name for path in (lake / "_publish" / "2021-08-03").iterdir()) == ["published.json"]


def test_an_outside_reader_never_sees_two_runs_at_once(tmp_path: Path) -> None:
    lake = _lake(tmp_path, "objectstore")
    day_files = [*DIRECTORIES, *FILES]

    def read_day() -> dict[str, bytes]:
        """What a naive reader gets: it lists and reads while files may come and go under it."""
        found = [lake / relative for relative in day_files if (lake / relative).is_file()]
        for relative in day_files:
            found += [Path(folder) / name for folder, _, names in os.walk(lake / relative) for name in names]
        seen = {}
        for file in found:
            try:
                seen[file.relative_to(lake).as_posix()] = file.read_bytes()
            except FileNotFoundError:
                seen[file.relative_to(lake).as_posix()] = b"<vanished>"
        return seen

    publisher = subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.publish_steps", str(lake), "objectstore", "loop", "40"], cwd=ROOT
    )
    reads = []
    try:
        while publisher.poll() is None:
            reads.append(read_published(str(lake), DAY, read_day, attempts=1_000, pause_seconds=0.002))
    finally:
        publisher.wait(timeout=120)
    assert publisher.returncode == 0
    assert len(reads) > 5
    for seen in reads:
        assert seen in (dict(RUNS[run]) for run in "AB"), sorted(seen)


def test_a_held_run_waits_for_its_next_step_and_a_withheld_one_is_never_published(tmp_path: Path) -> None:
    lake = _lake(tmp_path, "local")
    directories = [str(lake / d) for d in DIRECTORIES]
    first = begin(str(lake), DAY, directories=directories)
    first.hold()
    assert held(str(lake), DAY) == first
    first.withhold("3 rows broke expect_column_values_to_be_in_set")
    assert held(str(lake), DAY) is None
    second = begin(str(lake), DAY, directories=directories)
    staged = Path(second.target(str(lake / "reports/date=2021-08-03/index.html")))
    staged.parent.mkdir(parents=True)
    staged.write_bytes(b"second")
    second.hold()
    third = begin(str(lake), DAY, directories=directories)
    assert held(str(lake), DAY) is None, "a new run of D supersedes the held one"
    assert not staged.exists()
    records = sorted(path.name for path in (lake / "_publish" / "2021-08-03").glob("*.run.json"))
    assert records == sorted([f"{first.run}.run.json", f"{third.run}.run.json"]), "the withheld run is kept"
    assert _published(lake) == _day("A")


def test_another_days_committed_run_is_completed_only_once_its_owner_must_be_gone(tmp_path: Path) -> None:
    lake = _lake(tmp_path, "local")
    killed = _victim(lake, "local", "committed", "1")
    assert killed.returncode == -9
    before = _published(lake)
    other = DAY.replace(day=4)
    assert recover(str(lake), other) == []
    assert _published(lake) == before
    later = os.path.getmtime(next((lake / "_publish" / "2021-08-03").glob("*.commit.json")))
    completed = recover(str(lake), other, now=datetime.fromtimestamp(later, UTC) + timedelta(hours=2))
    assert len(completed) == 1
    assert _published(lake) == _day("B")


def test_a_run_discarded_by_a_newer_one_refuses_to_publish_and_d_keeps_its_outputs(tmp_path: Path) -> None:
    lake = _lake(tmp_path, "local")
    directories = [str(lake / d) for d in DIRECTORIES]
    overtaken = begin(str(lake), DAY, directories=directories)
    staged = Path(overtaken.target(str(lake / "reports/date=2021-08-03/index.html")))
    staged.parent.mkdir(parents=True)
    staged.write_bytes(b"overtaken")
    begin(str(lake), DAY, directories=directories)
    with pytest.raises(PublicationSuperseded, match="discarded by a newer run"):
        overtaken.publish()
    assert _published(lake) == _day("A")
