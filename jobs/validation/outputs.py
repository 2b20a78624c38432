"""The outputs' suites for day D: curated contacts, exposures and cases, and the tracers' export.

Great Expectations judges one table at a time, but the rules that matter most
here relate tables of the same run: no F0 among the exposed, every F2 has a
source that is an F1 of this run. The runner states those relations as a few
derived columns (listed in each suite's `meta.derived_columns`), looked up from
the run's other tables, so that each becomes a plain one-row expectation whose
failure counts the rows that broke it.
"""

from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from jobs.publication import DIRECT, DayOutputs
from jobs.validation.frames import list_values, read_partition, to_frame
from jobs.validation.report import ValidationReport
from jobs.validation.runner import TableBatch, run_suites
from schemas.lake import CASES, CONTACTS, EXPOSURES_CURATED, EXPOSURES_EXPORT
from tracelake.core.days import day_bounds
from tracelake.core.lake import Lake, filesystem
from tracelake.core.rules import Rules, load_rules
from tracelake.core.settings import Settings
from tracelake.core.vault import read_identities

CASE_TIER = 0
"""The F0s are the persons whose status in curated/cases is `confirmed`."""
TIER_STEP = ">"


def _depth(tier: str | None) -> int | None:
    if tier is None or not tier.startswith("F") or not tier[1:].isdigit():
        return None
    return int(tier[1:])


def run_tiers(cases: pa.Table, exposures: pa.Table) -> dict[str, int]:
    """Pseudonym → depth in this run: 0 for the F0s, k for an Fk among the exposed."""
    confirmed = cases.filter(pc.equal(cases["status"], "confirmed"))
    tiers = dict.fromkeys(confirmed["person_pseudonym"].to_pylist(), CASE_TIER)
    for person, tier in zip(exposures["person_pseudonym"].to_pylist(), exposures["tier"].to_pylist(), strict=True):
        depth = _depth(tier)
        if depth is not None:
            tiers.setdefault(person, depth)
    return tiers


def _exposures_frame(exposures: pa.Table, tiers: Mapping[str, int]) -> pd.DataFrame:
    frame = to_frame(exposures)
    people = exposures["person_pseudonym"].to_pylist()
    frame["is_case"] = [tiers.get(person) == CASE_TIER for person in people]
    upstream = []
    for tier, sources in zip(exposures["tier"].to_pylist(), list_values(exposures, "source_pseudonyms"), strict=True):
        depth = _depth(tier)
        upstream.append(depth is not None and any(tiers.get(source) == depth - 1 for source in sources))
    frame["has_upstream_source"] = upstream
    return frame


def _contacts_frame(contacts: pa.Table, tiers: Mapping[str, int], rules: Rules) -> pd.DataFrame:
    frame = to_frame(contacts)
    frame["tier_step"] = frame["source_tier"].astype(str) + TIER_STEP + frame["target_tier"].astype(str)
    frame["source_tier_in_run"] = [
        None if tiers.get(source) is None else rules.tier_name(tiers[source])
        for source in contacts["source_pseudonym"].to_pylist()
    ]
    frame["target_is_case"] = [tiers.get(target) == CASE_TIER for target in contacts["target_pseudonym"].to_pylist()]
    return frame


def _case_person_ids(tiers: Mapping[str, int], vault: str) -> set[str]:
    """The F0s' normalized ids, looked up in the vault; kept in memory only, never in a parameter or a doc."""
    cases = {pseudonym for pseudonym, depth in tiers.items() if depth == CASE_TIER}
    if not cases:
        return set()
    wanted = read_identities(vault, pa.array(list(cases), pa.string()))
    return set(wanted["person_id"].to_pylist())


def _export_frame(export: pa.Table, case_ids: set[str]) -> pd.DataFrame:
    frame = to_frame(export)
    frame["is_case"] = [person in case_ids for person in export["person_id"].to_pylist()]
    return frame


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
    contacts = read_partition(directories["curated_contacts"], CONTACTS)
    exposures = read_partition(directories["curated_exposures"], EXPOSURES_CURATED)
    cases = read_partition(directories["curated_cases"], CASES)
    export = read_partition(directories["exports_exposures"], EXPOSURES_EXPORT)

    tiers = run_tiers(cases, exposures)
    _, day_end = day_bounds(day, rules.zone)
    depths = range(1, rules.tiers.max_depth + 1)
    steps = [f"{rules.tier_name(depth - 1)}{TIER_STEP}{rules.tier_name(depth)}" for depth in depths]
    common: dict[str, Any] = {
        "rules_versions": [rules.version],
        "tiers": [rules.tier_name(depth) for depth in depths],
        "day_end": pd.Timestamp(day_end),
    }
    batches = [
        TableBatch("curated_contacts", _contacts_frame(contacts, tiers, rules), {
            **common, "tier_steps": steps, "min_overlap_minutes": rules.venue.min_overlap_minutes,
        }),
        TableBatch("curated_exposures", _exposures_frame(exposures, tiers), common),
        TableBatch("curated_cases", to_frame(cases), common),
        TableBatch("exports_exposures", _export_frame(export, _case_person_ids(tiers, vault)), {
            **common, "curated_exposures_rows": exposures.num_rows,
        }),
    ]
    report = run_suites("outputs", day, batches, lake.validation_day(day))
    if raise_on_failure and not report.success:
        raise ValidationFailed(report)
    return report
