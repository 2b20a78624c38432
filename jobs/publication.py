"""A day is published all or nothing: every output of day D of one run appears together, or none does.

A publication is one run of day D with an id. Everything it writes for D
(curated tables, the tracers' export, worklists, notices, province tables,
the reports, the trace manifest, the analysts' DuckDB file) goes into a hidden
staging tree, `_publish/<D>/<run>/` under the root of the output's area (the
lake root, or `exports/` for the tracers' outputs, so raw phone numbers never
leave the tracers' area even while staged). Later steps of the same run read
D's tables from there (`DayOutputs.source`). Readers of the lake skip names
starting with `_`, so nothing staged is ever read as published.

When everything is staged, `publish` writes the commit record
`_publish/<D>/<run>.commit.json`: the list of D's directories to swap in (and
those to remove, when the run produced none), written whole under a hidden
name and renamed. That rename is the commit point. Then each directory is
swapped in: on a local disk the old one is renamed into the run's tree and
the staged one renamed into its place (two renames per directory); on an
object store, where a directory cannot be renamed, the old files the new run
does not have are deleted and each staged file is moved (copy, then delete).
Then `published.json` names the run, the staging tree goes, and last the
commit record.

A crash before the commit point leaves D exactly as it was; the next run of
D discards the abandoned tree. A crash after it is rolled forward by
`recover`, which every trace, validation and export of D runs first: each
step is idempotent, so an interrupted swap simply completes. A committed
record of another day is rolled forward too once it is older than
`STALE_AFTER` (its own process may still be swapping before that).

The window that remains: between the commit point and the end of the swap a
reader that lists D sees some directories of the new run and some of the old.
On a local disk that is a few renames (milliseconds); on an object store it is
the copying of D's files. `read_published` gives an outside reader one run
for certain: it reads again whenever a commit record of D was pending or
`published.json` changed during its read. One publisher per day at a time:
the DAGs run one run each at a time, a person's CLI run should not overlap
them on the same day; a run a newer one discarded refuses to publish.

The DAG's tasks hand each other nothing but the lake, so a run can be held
(`hold`) after the trace and found again (`held`) by the validation and the
export; a run that fails validation is withheld (`withhold`): kept for
whoever investigates, never published.
"""

import json
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from time import sleep
from typing import Any, Protocol, TypeVar

import pyarrow.fs as pafs

from tracelake.core.lake import EXPORTS, filesystem, write_bytes_atomically

PUBLISH = "_publish"
RUN_SUFFIX = ".run.json"
COMMIT_SUFFIX = ".commit.json"
PUBLISHED_FILE = "published.json"
RETIRED = "_retired"
STALE_AFTER = timedelta(hours=1)
AREAS: tuple[str, ...] = ("", EXPORTS)
"""Roots of the areas a run stages into: the lake root, and the tracers' `exports/`."""

OPEN, HELD, WITHHELD = "open", "held", "withheld"

Step = Callable[[str], None]
T = TypeVar("T")


class DayOutputs(Protocol):
    """Where a builder writes an output of day D and where it reads one back."""

    def target(self, final: str) -> str:
        """Where to write `final` (a path of D, as the builder spells it)."""
        ...

    def source(self, final: str) -> str:
        """Where to read `final` while building D."""
        ...

    def replaced_partition(self, table: str) -> tuple[date, str] | None:
        """(D, where D's partition is read from) when this run replaces `table`'s `date=D`, else None."""
        ...


class _Direct:
    """Writes and reads the published places themselves: for a builder run on its own."""

    def target(self, final: str) -> str:
        return final

    def source(self, final: str) -> str:
        return final

    def replaced_partition(self, table: str) -> tuple[date, str] | None:
        return None


DIRECT: DayOutputs = _Direct()


class PublicationSuperseded(RuntimeError):
    """A newer run of D discarded this one before it was published: publishing it would remove D's outputs."""


class PublicationBusy(RuntimeError):
    """Day D kept changing while an outside reader tried to read one run of it."""


def unwatched(step: str) -> None:
    """No one watches the steps of a run (the crash tests stop a process at one)."""


def _new_run() -> str:
    """Sortable by time: the latest held run is the last name."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"


def _rel(*parts: str) -> str:
    return "/".join(part.strip("/") for part in parts if part.strip("/"))


def _under(root: str, relative: str) -> str:
    """`relative` under a root spelled as a path or a URI."""
    return f"{root.rstrip('/')}/{relative}" if relative else root


def _area(relative: str) -> str:
    head = relative.split("/", 1)[0]
    return head if head in AREAS else ""


@dataclass(frozen=True)
class _Store:
    """The lake's filesystem and the root path inside it; every other path here is relative to that root."""

    fs: pafs.FileSystem
    root: str

    @classmethod
    def of(cls, lake_root: str, given: pafs.FileSystem | None = None) -> "_Store":
        if given is not None:
            return cls(given, lake_root.rstrip("/"))
        fs, root = filesystem(lake_root if "://" in lake_root else str(Path(lake_root).resolve()))
        return cls(fs, root.rstrip("/"))

    @property
    def renames_directories(self) -> bool:
        """Only a local disk renames a directory in one step; object stores copy file by file."""
        return self.fs.type_name == "local"

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}" if relative else self.root

    def kind(self, relative: str) -> pafs.FileType:
        return self.fs.get_file_info(self.path(relative)).type

    def exists(self, relative: str) -> bool:
        return self.kind(relative) != pafs.FileType.NotFound

    def entries(self, relative: str) -> list[pafs.FileInfo]:
        if self.kind(relative) != pafs.FileType.Directory:
            return []
        return list(self.fs.get_file_info(pafs.FileSelector(self.path(relative))))

    def files(self, relative: str) -> list[str]:
        """Every file under a directory, as paths relative to it, sorted."""
        if self.kind(relative) != pafs.FileType.Directory:
            return []
        prefix = self.path(relative) + "/"
        found = self.fs.get_file_info(pafs.FileSelector(self.path(relative), recursive=True))
        return sorted(info.path[len(prefix):] for info in found if info.type == pafs.FileType.File)

    def delete(self, relative: str) -> None:
        kind = self.kind(relative)
        if kind == pafs.FileType.Directory:
            self.fs.delete_dir(self.path(relative))
        elif kind == pafs.FileType.File:
            self.fs.delete_file(self.path(relative))

    def move(self, source: str, destination: str) -> None:
        parent = destination.rpartition("/")[0]
        if parent:
            self.fs.create_dir(self.path(parent), recursive=True)
        self.fs.move(self.path(source), self.path(destination))

    def read_json(self, relative: str) -> dict[str, Any] | None:
        try:
            with self.fs.open_input_stream(self.path(relative)) as stream:
                document = json.loads(stream.read())
        except FileNotFoundError:
            return None
        return document if isinstance(document, dict) else None

    def write_json(self, relative: str, document: dict[str, Any]) -> None:
        """Whole or not at all: written under a hidden name, then renamed (one copy on an object store)."""
        self.fs.create_dir(self.path(relative.rpartition("/")[0]), recursive=True)
        data = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
        write_bytes_atomically(data, self.fs, self.path(relative))

    def mtime(self, relative: str) -> datetime | None:
        return self.fs.get_file_info(self.path(relative)).mtime


def _day_dir(day: date) -> str:
    return _rel(PUBLISH, day.isoformat())


def _record_path(day: date, run: str, suffix: str) -> str:
    return _rel(_day_dir(day), run + suffix)


def _run_tree(area: str, day: date, run: str) -> str:
    return _rel(area, PUBLISH, day.isoformat(), run)


@dataclass(frozen=True)
class DayPublication:
    """One run of day D: what it replaces, where it stages, and how it becomes D."""

    lake_root: str
    day: date
    run: str
    directories: tuple[str, ...]
    """D's directories, relative to the lake root: each is replaced by the run's, or removed if the run has none."""
    files: tuple[str, ...] = ()
    """Lake-wide files (the analysts' DuckDB file): replaced when the run staged one, else left as they are."""
    on_step: Step = field(default=unwatched, compare=False, repr=False)
    filesystem: pafs.FileSystem | None = field(default=None, compare=False, repr=False)
    """The lake's filesystem when its root is a path inside one the URI cannot name (a wrapped one)."""

    @property
    def _store(self) -> _Store:
        return _Store.of(self.lake_root, self.filesystem)

    def _spellings(self) -> list[str]:
        roots = {self.lake_root.rstrip("/"), self._store.root}
        if "://" not in self.lake_root:
            roots |= {os.path.abspath(self.lake_root), str(Path(self.lake_root).resolve())}
        return sorted(roots, key=len, reverse=True)

    def _split(self, path: str) -> tuple[str, str]:
        """(the lake root as `path` spells it, `path` relative to it)."""
        spellings = [path] if "://" in path or os.path.isabs(path) else [path, os.path.abspath(path)]
        for spelled in spellings:
            for root in self._spellings():
                if spelled == root:
                    return root, ""
                if spelled.startswith(root + "/"):
                    return root, spelled[len(root) + 1:]
        raise ValueError(f"{path} is not in the lake {self.lake_root}")

    def _owner(self, relative: str) -> str | None:
        """The directory or file of this run that holds `relative`."""
        for owned in (*self.directories, *self.files):
            if relative == owned or relative.startswith(owned + "/"):
                return owned
        return None

    def _staged(self, relative: str) -> str:
        area = _area(relative)
        return _rel(_run_tree(area, self.day, self.run), relative[len(area):])

    def replaces(self, final: str) -> bool:
        _, relative = self._split(final)
        return self._owner(relative) is not None

    def target(self, final: str) -> str:
        root, relative = self._split(final)
        if self._owner(relative) is None:
            raise ValueError(f"{relative} is not among the outputs the run {self.run} of {self.day} publishes")
        self.on_step(f"stage {relative}")
        return _under(root, self._staged(relative))

    def source(self, final: str) -> str:
        root, relative = self._split(final)
        if self._owner(relative) is None:
            return final
        return _under(root, self._staged(relative))

    def replaced_partition(self, table: str) -> tuple[date, str] | None:
        partition = f"{table.rstrip('/')}/date={self.day.isoformat()}"
        return (self.day, self.source(partition)) if self.replaces(partition) else None

    def published_path(self, staged: str) -> str:
        """The place a staged path will have once published (for messages and summaries)."""
        root, relative = self._split(staged)
        for area in AREAS:
            tree = _run_tree(area, self.day, self.run)
            if relative.startswith(tree + "/"):
                return _under(root, _rel(area, relative[len(tree) + 1:]))
        return staged

    def _run_record(self, state: str, **extra: Any) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "run": self.run,
            "state": state,
            "directories": list(self.directories),
            "files": list(self.files),
            **extra,
        }

    def _still_current(self, store: _Store) -> None:
        if not store.exists(_record_path(self.day, self.run, RUN_SUFFIX)):
            raise PublicationSuperseded(
                f"run {self.run} of {self.day.isoformat()} was discarded by a newer run of the day; nothing published"
            )

    def hold(self) -> None:
        """Leave the staged run for a later task of the same run to find with `held`."""
        store = self._store
        self._still_current(store)
        store.write_json(_record_path(self.day, self.run, RUN_SUFFIX), self._run_record(HELD))

    def withhold(self, reason: str) -> None:
        """Never publish this run; keep what it staged (the latest withheld run of D only) for investigation."""
        store = self._store
        for run, record in _runs(store, self.day):
            if record.get("state") == WITHHELD and run != self.run:
                _discard(store, self.day, run)
        store.write_json(_record_path(self.day, self.run, RUN_SUFFIX), self._run_record(WITHHELD, reason=reason))

    def publish(self) -> None:
        """Commit, swap the run's directories in, clean up: D is now this run's, whole."""
        store = self._store
        self.on_step("commit")
        self._still_current(store)
        journal = {
            "day": self.day.isoformat(),
            "run": self.run,
            "committed_at": datetime.now(UTC).isoformat(),
            "entries": [self._entry(store, relative, directory=True) for relative in self.directories]
            + [self._entry(store, relative, directory=False) for relative in self.files],
        }
        store.write_json(_record_path(self.day, self.run, COMMIT_SUFFIX), journal)
        self.on_step("committed")
        _roll_forward(store, journal, self.on_step)
        self.on_step("published")

    def _entry(self, store: _Store, relative: str, *, directory: bool) -> dict[str, Any]:
        staged = self._staged(relative)
        if not store.exists(staged):
            return {"final": relative, "staged": None, "directory": directory, "files": []}
        return {"final": relative, "staged": staged, "directory": directory, "files": store.files(staged)}


def begin(
    lake_root: str,
    day: date,
    *,
    directories: Iterable[str],
    files: Iterable[str] = (),
    on_step: Step = unwatched,
    filesystem: pafs.FileSystem | None = None,
) -> DayPublication:
    """Start a run of D replacing `directories` (and `files`, lake-wide), paths under `lake_root`.

    Completes a committed run of D first and discards D's runs abandoned
    before their commit (a crashed run, or a held one this run supersedes).
    """
    store = _Store.of(lake_root, filesystem)
    recover(lake_root, day, filesystem=filesystem)
    for run, record in _runs(store, day):
        if record.get("state") != WITHHELD:
            _discard(store, day, run)
    for area in AREAS:
        for entry in store.entries(_rel(area, PUBLISH, day.isoformat())):
            run = entry.base_name
            if entry.type == pafs.FileType.Directory and not store.exists(_record_path(day, run, RUN_SUFFIX)):
                store.delete(_run_tree(area, day, run))
    probe = DayPublication(lake_root, day, "", (), (), filesystem=filesystem)
    relative = tuple(probe._split(path)[1] for path in directories)
    lake_files = tuple(probe._split(path)[1] for path in files)
    publication = DayPublication(lake_root, day, _new_run(), relative, lake_files, on_step, filesystem)
    store.write_json(_record_path(day, publication.run, RUN_SUFFIX), publication._run_record(OPEN))
    return publication


def held(
    lake_root: str, day: date, *, on_step: Step = unwatched, filesystem: pafs.FileSystem | None = None
) -> DayPublication | None:
    """The latest run of D left by `hold` and neither withheld nor published, if any."""
    store = _Store.of(lake_root, filesystem)
    waiting = [(run, record) for run, record in _runs(store, day) if record.get("state") == HELD]
    if not waiting:
        return None
    run, record = max(waiting, key=lambda waiting_run: waiting_run[0])
    return DayPublication(
        lake_root, day, run, tuple(record.get("directories", ())), tuple(record.get("files", ())), on_step, filesystem
    )


def recover(
    lake_root: str, day: date, *, now: datetime | None = None, filesystem: pafs.FileSystem | None = None
) -> list[str]:
    """Roll forward D's committed runs, and other days' once older than `STALE_AFTER`; returns the runs completed."""
    store = _Store.of(lake_root, filesystem)
    moment = now or datetime.now(UTC)
    completed: list[str] = []
    for day_dir in store.entries(PUBLISH):
        if day_dir.type != pafs.FileType.Directory:
            continue
        for entry in store.entries(_rel(PUBLISH, day_dir.base_name)):
            if not entry.base_name.endswith(COMMIT_SUFFIX):
                continue
            journal = store.read_json(_rel(PUBLISH, day_dir.base_name, entry.base_name))
            if journal is None:
                continue
            committed = datetime.fromisoformat(journal["committed_at"])
            if journal["day"] == day.isoformat() or moment - committed > STALE_AFTER:
                _roll_forward(store, journal, unwatched)
                completed.append(journal["run"])
    return completed


def read_published(
    lake_root: str,
    day: date,
    read: Callable[[], T],
    *,
    attempts: int = 100,
    pause_seconds: float = 0.05,
    filesystem: pafs.FileSystem | None = None,
) -> T:
    """`read()` of day D as one run saw it, for a reader outside tracelake's own steps.

    Reads again while a commit of D is pending or when D was published
    anew during the read; raises `PublicationBusy` after `attempts`.
    """
    store = _Store.of(lake_root, filesystem)
    marker = _rel(_day_dir(day), PUBLISHED_FILE)
    for _ in range(attempts):
        before = store.read_json(marker)
        if not _pending(store, day):
            value = read()
            if not _pending(store, day) and store.read_json(marker) == before:
                return value
        sleep(pause_seconds)
    raise PublicationBusy(f"{day.isoformat()} kept being published while it was read ({attempts} attempts)")


def _pending(store: _Store, day: date) -> bool:
    return any(entry.base_name.endswith(COMMIT_SUFFIX) for entry in store.entries(_day_dir(day)))


def _runs(store: _Store, day: date) -> list[tuple[str, dict[str, Any]]]:
    """The runs of D that are not committed, with their records, oldest first."""
    found = []
    for entry in store.entries(_day_dir(day)):
        name = entry.base_name
        if not name.endswith(RUN_SUFFIX):
            continue
        run = name.removesuffix(RUN_SUFFIX)
        record = store.read_json(_record_path(day, run, RUN_SUFFIX))
        if record is not None and not store.exists(_record_path(day, run, COMMIT_SUFFIX)):
            found.append((run, record))
    return sorted(found)


def _discard(store: _Store, day: date, run: str) -> None:
    for area in AREAS:
        store.delete(_run_tree(area, day, run))
    store.delete(_record_path(day, run, RUN_SUFFIX))


def _roll_forward(store: _Store, journal: dict[str, Any], on_step: Step) -> None:
    """Make D the committed run's; every step can be repeated after a crash in it."""
    day, run = date.fromisoformat(journal["day"]), journal["run"]
    for entry in journal["entries"]:
        on_step(f"swap {entry['final']}")
        if not entry["directory"]:
            _swap_file(store, entry)
        elif store.renames_directories:
            _swap_by_rename(store, entry, _retired(entry["final"], day, run))
        else:
            _swap_file_by_file(store, entry, on_step)
    store.write_json(_rel(_day_dir(day), PUBLISHED_FILE), {
        "day": journal["day"],
        "run": run,
        "published_at": journal["committed_at"],
        "directories": [entry["final"] for entry in journal["entries"]],
    })
    for area in AREAS:
        store.delete(_run_tree(area, day, run))
    store.delete(_record_path(day, run, RUN_SUFFIX))
    store.delete(_record_path(day, run, COMMIT_SUFFIX))


def _retired(final: str, day: date, run: str) -> str:
    area = _area(final)
    return _rel(_run_tree(area, day, run), RETIRED, final[len(area):])


def _swap_by_rename(store: _Store, entry: dict[str, Any], retired: str) -> None:
    final, staged = entry["final"], entry["staged"]
    if staged is not None and not store.exists(staged):
        return
    if store.exists(final):
        store.delete(retired)
        store.move(final, retired)
    if staged is not None:
        store.move(staged, final)


def _swap_file_by_file(store: _Store, entry: dict[str, Any], on_step: Step) -> None:
    """Object stores: drop the old files the run does not have, then move the run's files in one by one."""
    final, staged, names = entry["final"], entry["staged"], entry["files"]
    for name in sorted(set(store.files(final)) - set(names)):
        store.delete(_rel(final, name))
    if staged is not None:
        for name in names:
            if store.exists(_rel(staged, name)):
                on_step(f"move {_rel(final, name)}")
                store.move(_rel(staged, name), _rel(final, name))
    _prune_empty(store, final, names)


def _prune_empty(store: _Store, final: str, names: list[str]) -> None:
    """Folders of the old run with no file of the new one (an object store has none; a local mount may)."""
    if store.kind(final) != pafs.FileType.Directory:
        return
    if not names:
        store.delete(final)
        return
    kept = {"/".join(name.split("/")[:depth]) for name in names for depth in range(1, name.count("/") + 1)}
    prefix = store.path(final) + "/"
    found = store.fs.get_file_info(pafs.FileSelector(store.path(final), recursive=True))
    for info in sorted(found, key=lambda info: info.path, reverse=True):
        folder = info.path[len(prefix):]
        if info.type == pafs.FileType.Directory and folder not in kept and store.exists(_rel(final, folder)):
            store.delete(_rel(final, folder))


def _swap_file(store: _Store, entry: dict[str, Any]) -> None:
    """A lake-wide file: the run's copy replaces it in one rename, unless a newer one is already in place."""
    final, staged = entry["final"], entry["staged"]
    if staged is None or not store.exists(staged):
        return
    ours, theirs = store.mtime(staged), store.mtime(final)
    if ours is not None and theirs is not None and theirs > ours:
        return
    store.move(staged, final)
