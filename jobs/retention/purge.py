"""`purge(before)`: delete personal data of the days before the retention window, keep what the window needs.

Deleted, for every `date=` day before `before`: raw events (but venues), the
quarantine's rows, curated tables, validation results, the tracers' exports,
and, in the identity area, the quarantined payloads; then the vault keeps
only the pairs of people the remaining raw rows name. Check-ins and case
reports that a trace inside the window still reads (jobs.retention.needed)
are carried forward into the window's first day, as landed, before their old
files go. Kept: venues (no person), public outputs, reports and manifests
(counts only), the vault's key and re-identification audit.

This is the one place where files of the lake are deleted. What went is
recorded under `manifests/purge/date=<before>/`: per area and table the days,
files and rows, never a pseudonym or an id.
"""

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from jobs.publication import PUBLISH
from jobs.publish.analyst_db import build_analyst_db
from jobs.retention.identities import IdentitiesPurged, prune_identities
from jobs.retention.needed import CARRIED_TOPICS, still_needed
from schemas.lake import RAW
from tracelake.core.lake import (
    CURATED,
    EXPORTS,
    MANIFESTS,
    QUARANTINE,
    VALIDATION,
    Lake,
    children,
    filesystem,
    is_hidden,
    is_part_file,
    join,
    partition_day,
    write_atomically,
    write_bytes_atomically,
)
from tracelake.core.lake import RAW as RAW_DIR
from tracelake.core.purge_mark import mark_purge
from tracelake.core.rejected import REJECTED_DIR
from tracelake.core.rules import Rules

KEPT_TOPICS = frozenset({"venues"})
"""Raw topics that name no person: kept whole (exports name the latest registration of old venues)."""
CARRIED_FILE = "carried.parquet"
"""The rows a day inside the window still needs from older days, in the window's first day of their topic."""
RECORD_FILE = "purge.json"
CARRIED_TABLES = frozenset(f"{RAW_DIR}/{topic}" for topic in CARRIED_TOPICS)

IDENTITY_AREA, TRACER_AREA, ANALYST_AREA = "identity", "tracer", "analyst"


@dataclass
class PurgedTable:
    """What one table lost: its days before the window, their files and (Parquet) rows."""

    area: str
    table: str
    days: list[str] = field(default_factory=list)
    files: int = 0
    rows: int = 0
    rows_carried: int = 0
    """Rows of those days kept, moved into the window's first day."""


@dataclass(frozen=True)
class PurgeResult:
    before: date
    tables: list[PurgedTable]
    identities: IdentitiesPurged
    record: str | None
    """Where this purge was recorded; None when there was nothing to purge."""

    @property
    def purged_anything(self) -> bool:
        return bool(self.tables) or self.identities.changed

    def summary(self) -> dict[str, Any]:
        """Days and counts per table, for logs and Airflow's XComs: nothing that names a person."""
        return {
            "before": self.before.isoformat(),
            "tables": {table.table: {"days": len(table.days), "rows": table.rows} for table in self.tables},
            "identity_pairs_removed": self.identities.pairs_removed,
            "record": self.record,
        }


def first_day_kept(day: date, rules: Rules) -> date:
    """The retention window of day D: D and the `retention_days - 1` days before it."""
    return day - timedelta(days=rules.retention_days - 1)


@dataclass(frozen=True)
class _Table:
    """A dated table of the lake or the vault, and how its old days go."""

    fs: pafs.FileSystem
    root: str
    area: str
    name: str
    landed: bool = False
    """Written by the lander, which may add a late event to an old day meanwhile."""
    staging: bool = False
    """A publication's staging folder (`jobs.publication`): its days are named `YYYY-MM-DD`, not `date=`."""

    def old_days(self, before: date) -> list[tuple[date, str]]:
        return sorted(
            (day, entry.path)
            for entry in children(self.fs, self.root)
            if entry.type == pafs.FileType.Directory
            and (day := self._day(entry.base_name)) is not None
            and day < before
        )

    def _day(self, name: str) -> date | None:
        if not self.staging:
            return partition_day(name)
        try:
            return date.fromisoformat(name)
        except ValueError:
            return None


def purge(
    lake_root: str, vault_root: str, before: date, rules: Rules, *, now: datetime | None = None
) -> PurgeResult:
    """Delete what is older than `before` (the first day kept) in the lake and the vault, and record it.

    Nothing is touched, not even the vault's purge mark, when no table has a
    day before `before`: purging twice is the same as purging once.
    """
    fs, root = filesystem(lake_root)
    lake = Lake(root)
    tables = [table for table in _dated_tables(lake_root, vault_root) if table.old_days(before)]
    if not tables:
        return PurgeResult(before, [], IdentitiesPurged(), None)
    moment = now or datetime.now(UTC)
    mark_purge(vault_root)
    purged = [
        _carry_forward(table, lake, before, rules) if table.name in CARRIED_TABLES else _delete_days(table, before)
        for table in tables
    ]
    identities = prune_identities(vault_root, lake_root, moment)
    result = PurgeResult(before, purged, identities, None)
    record = _record(fs, lake, result, rules, moment)
    _refresh_analyst_db(lake_root, rules, purged)
    return PurgeResult(before, purged, identities, record)


def _dated_tables(lake_root: str, vault_root: str) -> list[_Table]:
    """Every table whose old days hold personal data, by area."""
    fs, root = filesystem(lake_root)
    vault_fs, vault = filesystem(vault_root)
    raw = [table for table in _folder(fs, root, RAW_DIR, ANALYST_AREA, landed=True)
           if table.name.removeprefix(f"{RAW_DIR}/") not in KEPT_TOPICS]
    return [
        *raw,
        *_folder(fs, root, QUARANTINE, ANALYST_AREA, landed=True),
        *_folder(fs, root, CURATED, ANALYST_AREA),
        _Table(fs, join(root, VALIDATION), ANALYST_AREA, VALIDATION),
        *_folder(fs, root, EXPORTS, TRACER_AREA),
        *_folder(vault_fs, vault, REJECTED_DIR, IDENTITY_AREA, landed=True),
        _Table(fs, join(root, PUBLISH), ANALYST_AREA, PUBLISH, staging=True),
        _Table(fs, join(root, EXPORTS, PUBLISH), TRACER_AREA, f"{EXPORTS}/{PUBLISH}", staging=True),
    ]


def _folder(fs: pafs.FileSystem, root: str, folder: str, area: str, *, landed: bool = False) -> list[_Table]:
    """The tables of one folder of an area, e.g. each topic under `raw/`."""
    return sorted(
        (
            _Table(fs, entry.path, area, f"{folder}/{entry.base_name}", landed)
            for entry in children(fs, join(root, folder))
            if entry.type == pafs.FileType.Directory and not is_hidden(entry.base_name)
        ),
        key=lambda table: table.name,
    )


def _part_files(fs: pafs.FileSystem, directory: str) -> list[pafs.FileInfo]:
    return [
        entry for entry in children(fs, directory) if entry.type == pafs.FileType.File and is_part_file(entry.base_name)
    ]


def _rows(fs: pafs.FileSystem, path: str) -> int:
    with fs.open_input_file(path) as source:
        return int(pq.ParquetFile(source).metadata.num_rows)


def _delete_days(table: _Table, before: date) -> PurgedTable:
    """Delete the table's days before `before`, counting files and Parquet rows.

    In a landed table (raw, quarantine, rejected payloads) the lander may
    write a late event into an old day while the purge runs: only finished
    files are deleted, and the day's directory only once nothing is left in it.
    """
    fs = table.fs
    purged = PurgedTable(table.area, table.name)
    for day, directory in table.old_days(before):
        files = [
            entry
            for entry in fs.get_file_info(pafs.FileSelector(directory, recursive=True))
            if entry.type == pafs.FileType.File
        ]
        parts = [entry.path for entry in files if is_part_file(entry.base_name)]
        purged.days.append(day.isoformat())
        purged.files += len(parts) if table.landed else len(files)
        purged.rows += sum(_rows(fs, path) for path in parts)
        if table.landed:
            _delete_finished(fs, directory, parts)
        else:
            fs.delete_dir(directory)
    return purged


def _delete_finished(fs: pafs.FileSystem, directory: str, paths: list[str]) -> None:
    for path in paths:
        fs.delete_file(path)
    if not children(fs, directory):
        fs.delete_dir(directory)


def _carry_forward(table: _Table, lake: Lake, before: date, rules: Rules) -> PurgedTable:
    """Copy the rows the window still needs out of the topic's old days into its first day, then delete them."""
    fs, topic = table.fs, table.name.removeprefix(f"{RAW_DIR}/")
    old_days = table.old_days(before)
    old_files = [entry.path for _, directory in old_days for entry in _part_files(fs, directory)]
    window_files = [
        part.path
        for entry in children(fs, table.root)
        if entry.type == pafs.FileType.Directory
        and (day := partition_day(entry.base_name)) is not None
        and day >= before
        for part in _part_files(fs, entry.path)
    ]
    schema = RAW[topic]
    old = ds.dataset(old_files, schema=schema, filesystem=fs, format="parquet")
    window = ds.dataset(window_files, schema=schema, filesystem=fs, format="parquet")
    needed = still_needed(topic, old, window, rules, before)
    if needed.num_rows:
        directory = lake.raw_day(topic, before)
        target = join(directory, CARRIED_FILE)
        fs.create_dir(directory, recursive=True)
        carried = needed
        if fs.get_file_info(target).type == pafs.FileType.File:
            with fs.open_input_file(target) as source:
                carried = _distinct(pa.concat_tables([pq.read_table(source, schema=schema), needed]))
        write_atomically(carried, fs, target)
    purged = _delete_days(table, before)
    purged.rows_carried = needed.num_rows
    purged.rows -= needed.num_rows
    return purged


def _distinct(table: pa.Table) -> pa.Table:
    """Rows carried by an earlier, interrupted purge of the same day are not carried twice."""
    return table.group_by(table.column_names, use_threads=False).aggregate([]).select(table.column_names)


def _record(fs: pafs.FileSystem, lake: Lake, result: PurgeResult, rules: Rules, moment: datetime) -> str:
    """Append this purge to the record of its window start: counts and days, never an id."""
    directory = join(lake.root, MANIFESTS, "purge", f"date={result.before.isoformat()}")
    path = join(directory, RECORD_FILE)
    document: dict[str, Any] = {"before": result.before.isoformat(), "runs": []}
    if fs.get_file_info(path).type == pafs.FileType.File:
        with fs.open_input_stream(path) as source:
            document = json.loads(source.read())
    document["runs"].append(
        {
            "purged_at": moment.astimezone(UTC).isoformat(),
            "rules_version": rules.version,
            "retention_days": rules.retention_days,
            "tables": [asdict(table) for table in result.tables],
            "identities": asdict(result.identities),
        }
    )
    fs.create_dir(directory, recursive=True)
    write_bytes_atomically(json.dumps(document, indent=2).encode("utf-8") + b"\n", fs, path)
    return path


def _refresh_analyst_db(lake_root: str, rules: Rules, purged: list[PurgedTable]) -> None:
    """The analysts' DuckDB file holds copies of lake tables: rebuilt, it forgets the purged days too."""
    lake = Lake(lake_root)
    if "://" in lake_root or not any(table.area == ANALYST_AREA for table in purged):
        return
    fs, path = filesystem(lake.duckdb_file)
    if fs.get_file_info(path).type == pafs.FileType.File:
        build_analyst_db(lake_root, rules=rules)
