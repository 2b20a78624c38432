"""D's tables after the on-case trace: the published ones with the changed people's rows replaced.

Only the touched people (`jobs.trace.duckdb.changed_sources`) get their risk
score, curated row and export row made again, with the full trace's own
steps (`risk_scores`, `curate`, `reidentify`); only they are re-identified.
Everyone else's rows are the published ones. Each table is sorted as the
full trace sorts it; a table nothing changed in is copied file by file.
"""

from dataclasses import dataclass
from functools import partial

import pyarrow as pa
import pyarrow.compute as pc

from jobs.trace.curate import contact_rows, curate, merged_contacts, tier_names
from jobs.trace.engines import DayTables, EngineOutput
from jobs.trace.parameters import TraceParams
from jobs.trace.published import PublishedTrace
from jobs.trace.reidentify import pseudonyms_named, reidentify
from jobs.trace.risk import risk_scores
from jobs.trace.write import PART_FILE, DayDirectory, RowStream, stage_copies, stage_directories
from schemas.lake import CONTACTS, EXPOSURES_CURATED, EXPOSURES_EXPORT
from tracelake.core.vault import read_identities


@dataclass(frozen=True)
class ChangedRows:
    """What the on-case trace found, as engine rows (`jobs.trace.engines`)."""

    cases: pa.Table
    """Every case row of D, as of now."""
    added_contacts: pa.Table
    """The exposures judged anew."""
    dropped_pairs: pa.Table
    """target_depth, source, target: the pairs whose published exposures of that depth all go."""
    dropped_contacts: int
    """How many published exposures go."""
    exposed: pa.Table
    """The touched people who are exposed now."""
    exposed_contacts: pa.Table
    """Their exposures: all their risk score reads."""
    touched: pa.Array
    """Everyone whose published exposed row, if any, goes."""


@dataclass(frozen=True)
class MergedDay:
    rows: dict[str, int]
    people_named: int
    exposed_tiers: dict[str, int]
    """Exposed people per tier name."""


def _without(table: pa.Table, column: str, people: pa.Array) -> pa.Table:
    return table.filter(pc.invert(pc.is_in(table[column], value_set=people)))


def _tier_counts(exposures: pa.Table) -> dict[str, int]:
    counted = pc.value_counts(exposures["tier"]).to_pylist()
    return {entry["values"]: entry["counts"] for entry in counted}


def _contacts(published: PublishedTrace, changed: ChangedRows, tables: DayTables) -> RowStream:
    """D's contacts: the published ones without the dropped pairs', with the added, in curate's order."""
    rules = tables.rules
    max_depth = rules.tiers.max_depth
    pairs = changed.dropped_pairs
    dropped = pa.table({
        "target_tier": tier_names(pairs["target_depth"], rules.tier_name, max_depth),
        "source_pseudonym": pairs["source"],
        "target_pseudonym": pairs["target"],
    })
    rows = int(published.manifest["outputs"]["contacts"]["rows"])
    added = contact_rows(changed.added_contacts, rules.version, rules.tier_name, max_depth)
    return merged_contacts(partial(published.register, name="contacts", schema=CONTACTS), dropped, added,
                           rows - changed.dropped_contacts + added.num_rows)


def merge_day(published: PublishedTrace, changed: ChangedRows, params: TraceParams, tables: DayTables) -> MergedDay:
    """Stage D's four tables into `tables`' run: written anew where something changed, else copied."""
    rules = tables.rules
    risk = risk_scores(changed.exposed_contacts, changed.exposed, rules.risk, params)
    output = EngineOutput(cases=changed.cases, contacts=changed.exposed_contacts.slice(0, 0),
                          exposed=changed.exposed, inputs={}, tier_counts={}, timings={})
    curated = curate(output, rules.version, rules.tier_name, rules.tiers.max_depth, risk)
    written: dict[str, pa.Table | RowStream] = {"cases": curated.cases}
    if changed.added_contacts.num_rows or changed.dropped_contacts:
        written["contacts"] = _contacts(published, changed, tables)
    named = pseudonyms_named(curated.exposures)
    if len(changed.touched):
        exposures = pa.concat_tables([
            _without(published.table("exposures", EXPOSURES_CURATED), "person_pseudonym", changed.touched),
            curated.exposures,
        ]).sort_by([("tier", "ascending"), ("person_pseudonym", "ascending")])
        identities = read_identities(tables.vault, pa.chunked_array([*named.chunks, changed.touched], pa.string()))
        touched_ids = pc.filter(identities["person_id"], pc.is_in(identities["pseudonym"], value_set=changed.touched))
        written["exposures"] = exposures
        written["export"] = pa.concat_tables([
            _without(published.table("export", EXPOSURES_EXPORT), "person_id", touched_ids.combine_chunks()),
            reidentify(curated.exposures, identities),
        ]).sort_by([("tier", "ascending"), ("person_id", "ascending")])
    stage_directories(
        tables.publication,
        [DayDirectory(tables.directories[name], {PART_FILE: table}) for name, table in written.items()],
    )
    rows = {name: table.num_rows for name, table in written.items()}
    for name, files in published.files.items():
        if name not in written:
            stage_copies(tables.publication, tables.directories[name], files)
            rows[name] = int(published.manifest["outputs"][name]["rows"])
    if "exposures" in written:
        exposed_tiers = _tier_counts(written["exposures"])
    else:
        exposed_tiers = {tier: count for tier, count in published.manifest["tier_counts"].items()
                         if tier != rules.tier_name(0)}
    return MergedDay(rows=rows, people_named=pc.count_distinct(named).as_py() if len(named) else 0,
                     exposed_tiers=exposed_tiers)
