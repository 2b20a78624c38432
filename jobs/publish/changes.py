"""What changed since the previous published day, per exposed person: tracers call what is new to them first.

Day D is compared with the latest day before D that has published exposures
(D-1 normally; an earlier one when D-1 was never traced). Each person
exposed on either day gets one status, the first that holds:

- `new`: exposed today, not in the previous day's exposures;
- `upgraded`: F2 then, F1 now;
- `late`: one of today's exposures started before the previous day began
  (local midnight) and was not among the previous day's exposures of the
  person: data that arrived late (a Bluezone upload, a phone offline for days);
- `changed`: more exposure than before (a later last exposure, more minutes,
  sources, venues or channels) or another tier;
- `unchanged`;
- `retracted`: exposed the previous day, not today (their F0 was discarded,
  or the exposure left the lookback window).

The comparison runs on the pseudonymous curated tables (exposures, and
contacts for the exposure intervals) in one DuckDB query. Tracers get
`exports/changes/date=D/` (person ids, Parquet and a formula-safe CSV, the
retracted list apart as well), analysts `curated/changes/date=D/`
(pseudonyms). Both are outputs of D's publication; re-running D changes the
diff of the next published day too, which `refresh_next_day` publishes as a
publication of its own holding only that day's changes directories.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from jobs.publication import DIRECT, DayOutputs, begin
from jobs.spreadsheet import safe_cell
from jobs.trace.reidentify import MissingIdentityError
from jobs.trace.write import PART_FILE, DayDirectory, stage_directories
from schemas.lake import CONTACTS, EXPOSURES_CURATED, UTC_TIME
from tracelake.core import duckdb_memory
from tracelake.core.audit import record_reidentification
from tracelake.core.lake import CHANGES, EXPORTS, PARTITION_PREFIX, Lake, filesystem, join
from tracelake.core.rules import Rules
from tracelake.core.vault import read_identities, vault_key_fingerprint

STATUSES: tuple[str, ...] = ("new", "upgraded", "late", "changed", "unchanged", "retracted")
"""In the order tracers see them: the worklists rank by this before the risk order."""
CHANGES_CSV, RETRACTED_CSV = "changes.csv", "retracted.csv"

_FIELDS = [
    pa.field("change", pa.string(), nullable=False),
    pa.field("tier", pa.string()),
    pa.field("previous_tier", pa.string()),
    pa.field("last_exposure_at", UTC_TIME),
    pa.field("previous_last_exposure_at", UTC_TIME),
    pa.field("exposure_minutes", pa.float64()),
    pa.field("previous_exposure_minutes", pa.float64()),
    pa.field("late_exposures", pa.int64(), nullable=False),
    pa.field("previous_day", pa.date32()),
]
CHANGES_CURATED = pa.schema([pa.field("person_pseudonym", pa.string(), nullable=False), *_FIELDS])
CHANGES_EXPORT = pa.schema([pa.field("person_id", pa.string(), nullable=False), *_FIELDS])

_DIFF = """
WITH today AS (SELECT * FROM exposures_today), before AS (SELECT * FROM exposures_before),
late AS (
    SELECT t.target_pseudonym AS person_pseudonym, count(*) AS late_exposures
    FROM contacts_today t
    WHERE t.exposure_start < $previous_start
      AND NOT EXISTS (
        SELECT 1 FROM contacts_before b
        WHERE b.target_pseudonym = t.target_pseudonym AND b.source_pseudonym = t.source_pseudonym
          AND b.channel = t.channel AND b.venue_id IS NOT DISTINCT FROM t.venue_id
          AND b.exposure_start = t.exposure_start)
    GROUP BY ALL
)
SELECT coalesce(t.person_pseudonym, b.person_pseudonym) AS person_pseudonym,
       CASE WHEN t.person_pseudonym IS NULL THEN 'retracted'
            WHEN b.person_pseudonym IS NULL THEN 'new'
            WHEN b.tier = 'F2' AND t.tier = 'F1' THEN 'upgraded'
            WHEN coalesce(l.late_exposures, 0) > 0 THEN 'late'
            WHEN t.tier <> b.tier OR t.last_exposure_at > b.last_exposure_at
                 OR t.exposure_minutes > b.exposure_minutes
                 OR NOT list_has_all(b.source_pseudonyms, t.source_pseudonyms)
                 OR NOT list_has_all(b.venue_ids, t.venue_ids)
                 OR NOT list_has_all(b.channels, t.channels) THEN 'changed'
            ELSE 'unchanged' END AS change,
       t.tier, b.tier AS previous_tier, t.last_exposure_at, b.last_exposure_at AS previous_last_exposure_at,
       t.exposure_minutes, b.exposure_minutes AS previous_exposure_minutes,
       coalesce(l.late_exposures, 0) AS late_exposures, CAST($previous AS DATE) AS previous_day
FROM today t
FULL OUTER JOIN before b ON b.person_pseudonym = t.person_pseudonym
LEFT JOIN late l ON l.person_pseudonym = t.person_pseudonym
ORDER BY list_position($statuses, change), person_pseudonym
"""


@dataclass(frozen=True)
class ChangesSummary:
    day: date
    previous_day: date | None
    """None when no day before D was published: everyone exposed is new."""
    counts: dict[str, int]
    statuses: pa.Table
    """person_pseudonym and change of everyone exposed today, for the worklists' order."""


def published_days(lake_root: str, table: str = "exposures") -> list[date]:
    """The days with a published curated `table`, oldest first (staging trees start with `_` and are skipped)."""
    fs, directory = filesystem(Lake(lake_root).curated(table))
    if fs.get_file_info(directory).type != pafs.FileType.Directory:
        return []
    days = []
    for info in fs.get_file_info(pafs.FileSelector(directory)):
        if info.type == pafs.FileType.Directory and info.base_name.startswith(PARTITION_PREFIX):
            try:
                days.append(date.fromisoformat(info.base_name.removeprefix(PARTITION_PREFIX)))
            except ValueError:
                continue
    return sorted(days)


def previous_day(lake_root: str, day: date) -> date | None:
    earlier = [published for published in published_days(lake_root) if published < day]
    return earlier[-1] if earlier else None


def _read(path: str, schema: pa.Schema) -> pa.Table | ds.Dataset:
    """The table's files as a dataset DuckDB scans lazily (only the columns and rows a query needs)."""
    fs, directory = filesystem(path)
    if fs.get_file_info(directory).type != pafs.FileType.Directory:
        return schema.empty_table()
    return ds.dataset(directory, format="parquet", filesystem=fs, schema=schema)


def diff(lake_root: str, day: date, rules: Rules, outputs: DayOutputs = DIRECT) -> tuple[pa.Table, date | None]:
    """Every person exposed on D or on the previous published day, with their change (`CHANGES_CURATED`)."""
    lake = Lake(lake_root)
    previous = previous_day(lake_root, day)
    con = duckdb_memory.connect()
    try:
        con.register("exposures_today", _read(outputs.source(lake.curated_day("exposures", day)), EXPOSURES_CURATED))
        con.register("contacts_today", _read(outputs.source(lake.curated_day("contacts", day)), CONTACTS))
        before = EXPOSURES_CURATED.empty_table()
        before_contacts = CONTACTS.empty_table()
        if previous is not None:
            before = _read(lake.curated_day("exposures", previous), EXPOSURES_CURATED)
            before_contacts = _read(lake.curated_day("contacts", previous), CONTACTS)
        con.register("exposures_before", before)
        con.register("contacts_before", before_contacts)
        start = datetime.combine(previous or day, time(), rules.zone)
        table = con.sql(
            _DIFF, params={"previous_start": start, "previous": previous, "statuses": list(STATUSES)}
        ).to_arrow_table()
    finally:
        con.close()
    return table.cast(CHANGES_CURATED), previous


def _with_ids(changes: pa.Table, vault: str) -> pa.Table:
    """The tracers' copy: each pseudonym's person id from the vault (one join, no loop)."""
    identities = read_identities(vault, changes["person_pseudonym"])
    joined = changes.join(identities, keys="person_pseudonym", right_keys="pseudonym", join_type="inner")
    missing = changes.num_rows - joined.num_rows
    if missing:
        raise MissingIdentityError(
            f"{missing} pseudonym(s) of the changes since the previous day are not in the identity vault; "
            "the tracers' list cannot name these people. Check that the vault matches the lake."
        )
    ranked = joined.append_column("rank", pc.index_in(joined["change"], pa.array(STATUSES)))
    ordered = ranked.sort_by([("rank", "ascending"), ("person_id", "ascending")])
    return ordered.select(CHANGES_EXPORT.names).cast(CHANGES_EXPORT)


_PLAINLY_TEXT = r"^(?:[+-]?[0-9]+|[0-9A-Za-z_.:/ ]*)$"
"""Cells no spreadsheet reads as a formula: a plain number (an E.164 phone, a citizen ID) or plain ASCII words."""


def _safe_column(column: pa.ChunkedArray) -> pa.Array:
    """`safe_cell` of each value, called only on those that are not plainly text.

    Person ids are E.164 numbers or citizen IDs and the other text cells are
    words of a fixed vocabulary, so a list of half a million people is made
    safe without a Python loop over it.
    """
    values = column.combine_chunks()
    suspect = pc.fill_null(pc.invert(pc.match_substring_regex(values, _PLAINLY_TEXT)), False)
    positions = pc.indices_nonzero(suspect)
    if len(positions) == 0:
        return values
    safe = pa.array([safe_cell(value) for value in pc.take(values, positions).to_pylist()], pa.string())
    return pc.replace_with_mask(values, suspect, safe)


def safe_csv(table: pa.Table) -> bytes:
    """UTF-8 with a byte-order mark (Excel then shows Vietnamese right), text cells formula-safe."""
    cells = pa.table({
        name: _safe_column(table[name]) if pa.types.is_string(table.schema.field(name).type) else table[name]
        for name in table.column_names
    })
    buffer = pa.BufferOutputStream()
    pacsv.write_csv(cells, buffer, pacsv.WriteOptions(quoting_style="needed"))
    return "\ufeff".encode() + buffer.getvalue().to_pybytes()


def changes_directories(lake: Lake, day: date) -> list[str]:
    return [lake.export_day(CHANGES, day), lake.curated_day(CHANGES, day)]


def write_changes(
    lake_root: str, day: date, rules: Rules, *, vault: str, outputs: DayOutputs = DIRECT
) -> ChangesSummary:
    """Write D's diff for tracers (`exports/changes/date=D/`) and analysts (`curated/changes/date=D/`)."""
    lake = Lake(lake_root)
    curated, previous = diff(lake_root, day, rules, outputs)
    export = _with_ids(curated, vault)
    record_reidentification(
        vault, day=day, output=join(EXPORTS, CHANGES), people=export.num_rows,
        key_fingerprint=vault_key_fingerprint(vault),
    )
    retracted = export.filter(pc.equal(export["change"], "retracted"))
    stage_directories(outputs, [
        DayDirectory(lake.export_day(CHANGES, day), {
            PART_FILE: export, CHANGES_CSV: safe_csv(export), RETRACTED_CSV: safe_csv(retracted),
        }),
        DayDirectory(lake.curated_day(CHANGES, day), {PART_FILE: curated}),
    ])
    counted = dict.fromkeys(STATUSES, 0)
    for status, count in zip(*pc.value_counts(curated["change"]).flatten(), strict=True):
        counted[status.as_py()] = count.as_py()
    exposed = curated.filter(pc.not_equal(curated["change"], "retracted")).select(["person_pseudonym", "change"])
    return ChangesSummary(day, previous, counted, exposed)


def refresh_next_day(lake_root: str, day: date, rules: Rules, *, vault: str) -> date | None:
    """After D is published anew, publish the next published day's diff against it; returns that day, if any.

    A publication of its own holding only the next day's changes directories:
    the rest of that day is not rebuilt (its worklists keep the order of the
    diff they were built with until the day is exported again).
    """
    later = [published for published in published_days(lake_root) if published > day]
    if not later:
        return None
    following = later[0]
    publication = begin(lake_root, following, directories=changes_directories(Lake(lake_root), following))
    write_changes(lake_root, following, rules, vault=vault, outputs=publication)
    publication.publish()
    return following
