"""The outputs' suites for day D: curated contacts, exposures and cases, and the tracers' export.

Great Expectations judges one table at a time, but the rules that matter most
here relate tables of the same run: no F0 among the exposed, every F2 has a
source that is an F1 of this run. The runner states those relations as a few
derived columns (listed in each suite's `meta.derived_columns`), looked up from
the run's other tables, so that each becomes a plain one-row expectation whose
failure counts the rows that broke it.

The lookups are SQL joins in the tables' views (jobs.validation.session): the
run's tiers are one small DuckDB table of pseudonyms and depths, and the F0s'
ids from the vault an Arrow table registered in the session's memory. The
exposures' lookups, the costly ones, are computed once into a table of the
session that all of Great Expectations' queries then read.
"""

from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from jobs.publication import DIRECT, DayOutputs
from jobs.validation.frames import partition_view, shown_columns, table_view
from jobs.validation.report import ValidationReport
from jobs.validation.runner import TableBatch, run_suites
from jobs.validation.session import Session, literal, session
from schemas.lake import CASES, CONTACTS, EXPOSURES_CURATED, EXPOSURES_EXPORT
from tracelake.core.days import day_bounds
from tracelake.core.lake import Lake, filesystem
from tracelake.core.rules import Rules, load_rules
from tracelake.core.settings import Settings
from tracelake.core.vault import read_identities

CASE_TIER = 0
"""The F0s are the persons whose status in curated/cases is `confirmed`."""
TIER_STEP = ">"
MISSING_TIER = "None"
"""How a null tier reads in `tier_step`: the suites were written against pandas, whose `astype(str)` says None."""


def _depth(tier: str) -> str:
    """SQL for the depth a tier names (`F2` → 2), null for anything that is not `F` and digits."""
    return f"CASE WHEN regexp_full_match({tier}, 'F[0-9]+') THEN TRY_CAST(substr({tier}, 2) AS BIGINT) END"


RUN_TIERS = f"""
CREATE TABLE run_tiers AS
SELECT person, min(depth) AS depth FROM (
    SELECT person_pseudonym AS person, {CASE_TIER} AS depth FROM cases WHERE status = 'confirmed'
    UNION ALL
    SELECT person_pseudonym, {_depth("tier")} FROM exposures WHERE {_depth("tier")} IS NOT NULL
) GROUP BY person
"""
"""Pseudonym → depth in this run: 0 for the F0s, k for an Fk among the exposed (the shallowest, should a
person be listed twice, which the uniqueness expectation reports). A null pseudonym is a key like any other:
joins below match it with IS NOT DISTINCT FROM."""

EXPOSURES_TABLE = f"""
CREATE TABLE curated_exposures AS
WITH numbered AS (
    SELECT row_number() OVER () AS row_id, * FROM exposures
), with_upstream AS (
    SELECT DISTINCT listed.row_id FROM (
        SELECT row_id, unnest(source_pseudonyms) AS source, {_depth("tier")} - 1 AS upstream_depth FROM numbered
    ) AS listed
    JOIN run_tiers AS upstream
      ON upstream.person IS NOT DISTINCT FROM listed.source AND upstream.depth = listed.upstream_depth
)
SELECT {shown_columns(EXPOSURES_CURATED, "e")},
    coalesce(own.depth = {CASE_TIER}, false) AS is_case,
    found.row_id IS NOT NULL AS has_upstream_source
FROM numbered AS e
LEFT JOIN run_tiers AS own ON own.person IS NOT DISTINCT FROM e.person_pseudonym
LEFT JOIN with_upstream AS found ON found.row_id = e.row_id
ORDER BY e.row_id
"""
"""The exposures as their suite sees them, computed once: a table rather than a view, because every query
Great Expectations makes of it (a handful per run) would otherwise join the run's tiers again. A row has an
upstream source when one of its listed sources is in the tier above its own: one join of every listed source
with the run's tiers (a lookup per row and source, as a correlated subquery, took seconds at province
scale). In the session's memory, spilled to its scratch directory if it outgrows it."""

SOURCE_TIERS = """
CREATE TABLE source_tiers AS
SELECT sources.person, names.name
FROM (SELECT DISTINCT source_pseudonym AS person FROM contacts) AS sources
LEFT JOIN run_tiers AS tiers ON tiers.person IS NOT DISTINCT FROM sources.person
LEFT JOIN tier_names AS names ON names.depth = tiers.depth
"""
"""Every distinct source of the contacts with the name of the tier it holds in this run (null if none): one
pass over the contacts' sources, so that each query of the contacts' suite looks a source up among the
contacts' few sources rather than among everyone this run holds (a lookup in the run's tiers, repeated by
every query, cost about a second each at province scale)."""

CASE_PEOPLE = f"""
CREATE TABLE case_people AS SELECT person FROM run_tiers WHERE depth = {CASE_TIER}
"""
"""The run's F0s, for `target_is_case`: a few hundred rows to look every target up in."""

CONTACTS_VIEW = f"""
CREATE VIEW curated_contacts AS
SELECT {shown_columns(CONTACTS, "c")},
    coalesce(c.source_tier, {literal(MISSING_TIER)}) || {literal(TIER_STEP)}
        || coalesce(c.target_tier, {literal(MISSING_TIER)}) AS tier_step,
    source.name AS source_tier_in_run,
    target.person IS NOT NULL AS target_is_case
FROM contacts AS c
LEFT JOIN source_tiers AS source ON source.person IS NOT DISTINCT FROM c.source_pseudonym
LEFT JOIN case_people AS target ON target.person IS NOT DISTINCT FROM c.target_pseudonym
"""
"""The contacts as their suite sees them. `source_tiers` has one row per distinct source and `case_people` one
per F0 (null included, as everywhere here), so the view keeps the contacts' rows one for one."""

EXPORT_VIEW = f"""
CREATE VIEW exports_exposures AS
SELECT {shown_columns(EXPOSURES_EXPORT, "x")},
    coalesce(x.person_id IN (SELECT person_id FROM case_ids), false) AS is_case
FROM export AS x
"""


def _tier_names(views: Session, rules: Rules) -> None:
    """The rules' name of every depth this run holds, for `source_tier_in_run`."""
    depths = [depth for (depth,) in views.execute("SELECT DISTINCT depth FROM run_tiers WHERE depth IS NOT NULL")]
    views.register("tier_names", pa.table({
        "depth": pa.array(depths, pa.int64()),
        "name": pa.array([rules.tier_name(depth) for depth in depths], pa.string()),
    }))


def _case_ids(views: Session, vault: str) -> None:
    """The F0s' normalized ids, looked up in the vault: registered in the session's memory only, never written,
    never a parameter or in a doc."""
    cases = views.arrow("SELECT person FROM case_people")["person"]
    ids = read_identities(vault, cases).select(["person_id"]) if len(cases) else pa.table(
        {"person_id": pa.array([], pa.string())}
    )
    views.register("case_ids", ids)


def _present(directory: str) -> bool:
    fs, path = filesystem(directory)
    return fs.get_file_info(path).type == pafs.FileType.Directory


def validate_outputs(
    lake_root: str,
    day: date,
    settings: Settings,
    rules: Rules | None = None,
    *,
    vault: str | None = None,
    raise_on_failure: bool = True,
    outputs: DayOutputs = DIRECT,
) -> ValidationReport:
    """Check the trace job's tables for day D; raise `ValidationFailed` naming what broke.

    `rules` default to `settings.rules` (the shipped ones), `vault` to
    `settings.vault_location`: the F0s' ids are looked up there to check the
    export, in memory only. The day's tables must exist (a run that wrote
    nothing is a failure, not an empty success); an empty table is fine.
    `outputs` says where they are: a run's staging tree before it is published.
    """
    from jobs.validation.report import ValidationFailed

    rules = rules or load_rules(settings.rules)
    vault = vault or settings.vault_location
    lake = Lake(lake_root)
    directories = {
        "curated_contacts": outputs.source(lake.curated_day("contacts", day)),
        "curated_exposures": outputs.source(lake.curated_day("exposures", day)),
        "curated_cases": outputs.source(lake.curated_day("cases", day)),
        "exports_exposures": outputs.source(lake.export_day("exposures", day)),
    }
    absent = [name for name, directory in directories.items() if not _present(directory)]
    if absent:
        raise FileNotFoundError(f"no outputs for {day.isoformat()} to validate: missing {', '.join(absent)}")
    _, day_end = day_bounds(day, rules.zone)
    depths = range(1, rules.tiers.max_depth + 1)
    steps = [f"{rules.tier_name(depth - 1)}{TIER_STEP}{rules.tier_name(depth)}" for depth in depths]
    common: dict[str, Any] = {
        "rules_versions": [rules.version],
        "tiers": [rules.tier_name(depth) for depth in depths],
        "day_end": day_end,
    }
    with session() as views:
        partition_view(views, "contacts", directories["curated_contacts"], CONTACTS)
        partition_view(views, "exposures", directories["curated_exposures"], EXPOSURES_CURATED)
        partition_view(views, "cases", directories["curated_cases"], CASES)
        partition_view(views, "export", directories["exports_exposures"], EXPOSURES_EXPORT)
        views.execute(RUN_TIERS)
        _tier_names(views, rules)
        views.execute(CASE_PEOPLE)
        _case_ids(views, vault)
        views.execute(SOURCE_TIERS)
        views.execute(CONTACTS_VIEW)
        views.execute(EXPOSURES_TABLE)
        table_view(views, "curated_cases", directories["curated_cases"], CASES)
        views.execute(EXPORT_VIEW)
        exposures = views.count("exposures")
        batches = [
            TableBatch("curated_contacts", "curated_contacts", views.count("contacts"), {
                **common, "tier_steps": steps, "min_overlap_minutes": rules.venue.min_overlap_minutes,
            }),
            TableBatch("curated_exposures", "curated_exposures", exposures, common),
            TableBatch("curated_cases", "curated_cases", views.count("cases"), common),
            TableBatch("exports_exposures", "exports_exposures", views.count("export"), {
                **common, "curated_exposures_rows": exposures,
            }),
        ]
        report = run_suites("outputs", day, batches, lake.validation_day(day), views)
    if raise_on_failure and not report.success:
        raise ValidationFailed(report)
    return report
