"""The on-case trace of day D: only the new F0s' people, merged into D's published tables.

When a case is confirmed during D, the on-case DAG needs the new F0's F1s and
F2s in the worklists within a minute, and tracing the whole province again
takes far longer. If all that changed since D's published trace is new F0s,
this traces only what they change (`jobs.trace.duckdb.changed_sources`), on
this process in DuckDB whichever engine traced D, and publishes D's tables
with those rows merged in (`jobs.trace.merge`): the same rows as a full
re-trace of the lake, and a manifest with the same counts.

It traces D whole instead (`jobs.trace.day.trace_day`, with the configured
engine), and says why in the manifest's `on_case` entry, when the change may
remove or move something the published rows rest on:

- D has no published trace, or it was made under other rules;
- stays or sightings were landed since (other files, or other counts): a new
  stay or sighting can join or split encounters, change who was at a venue,
  and concern anyone, not only the new F0s;
- a case report file the published trace read is gone;
- a person it tiered changed status, window or isolation other than by
  becoming F0 (a `discarded` report, a late report that moves a window, an
  isolation that shortens one): their rows can shrink, not only grow;
- someone it tiered is no longer tiered before a later round (possible only
  beyond two tiers): they would be judged against every unchanged source.

Which reports the published trace used is in its manifest: the case report
files it read (segment files are never rewritten, `jobs.trace.plan`).
"""

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from jobs.publication import DayPublication, begin, recover
from jobs.trace.day import EngineName, TraceResult, absolute_root, day_directories, trace_day
from jobs.trace.duckdb.cases import build_cases
from jobs.trace.duckdb.changed_sources import NotAnAddition, new_cases, trace_changed_sources
from jobs.trace.duckdb.published import register_published
from jobs.trace.duckdb.raw_events import load_inputs
from jobs.trace.duckdb.sql import scalar
from jobs.trace.duckdb.tiers import EXPOSED
from jobs.trace.engines import CASE_ROWS, CONTACT_ROWS, EXPOSED_ROWS, DayTables, TopicCounts, conform
from jobs.trace.manifest import manifest, manifest_bytes
from jobs.trace.merge import ChangedRows, merge_day
from jobs.trace.parameters import TraceParams
from jobs.trace.plan import InputPlan, plan_inputs
from jobs.trace.published import PublishedTrace, read_published_trace
from jobs.trace.usable import DEFAULT_EARLIEST
from jobs.trace.write import DayDirectory, stage_directories
from schemas.lake import CASES, CONTACTS, EXPOSURES_CURATED
from tracelake.core import duckdb_memory
from tracelake.core.audit import record_reidentification
from tracelake.core.lake import EXPORTS, Lake, join
from tracelake.core.rules import Rules
from tracelake.core.vault import vault_key_fingerprint

INCREMENTAL, FULL = "incremental", "full"
ENGINE = "duckdb"
STAYS_AND_SIGHTINGS = ("checkins", "proximity")
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class OnCaseTrace:
    result: TraceResult
    mode: str
    """`incremental` (the new F0s' people only) or `full` (D traced whole)."""
    reason: str
    """What the incremental trace changed, or why D was traced whole."""


def why_whole(published: PublishedTrace | None, rules: Rules, plan: InputPlan) -> str | None:
    """Why D must be traced whole, from the published manifest and the files on hand; None: maybe not."""
    if published is None:
        return "no published trace of D yet"
    document = published.manifest
    if document.get("rules") != rules.model_dump(mode="json"):
        return f"the rules changed since the published trace ({document.get('rules_version')} → {rules.version})"
    inputs = document.get("inputs", {})
    for topic in STAYS_AND_SIGHTINGS:
        if inputs.get(topic, {}).get("files") != plan.relative(topic):
            return f"{topic} files were landed or removed since the published trace"
    missing = set(inputs.get("case_reports", {}).get("files", [])) - set(plan.relative("case_reports"))
    if missing:
        return f"{len(missing)} case report file(s) the published trace read are gone"
    return None


def _counts(counts: TopicCounts) -> dict[str, Any]:
    return {name: value for name, value in asdict(counts).items() if name != "files"}


def _same_stays_and_sightings(published: PublishedTrace, counts: Mapping[str, TopicCounts]) -> None:
    for topic in STAYS_AND_SIGHTINGS:
        recorded = {name: value for name, value in published.manifest["inputs"][topic].items() if name != "files"}
        if recorded != _counts(counts[topic]):
            raise NotAnAddition(f"{topic} rows differ from those the published trace read")


def _changed_rows(
    published: PublishedTrace, plan: InputPlan, params: TraceParams, rules: Rules
) -> tuple[ChangedRows, dict[str, TopicCounts], dict[str, int], dict[str, float]]:
    """The on-case trace's rows, the inputs' counts, what it changed, and its timings."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    with duckdb_memory.opened() as con:
        con.execute("SET TimeZone = 'UTC'")
        counts = load_inputs(con, plan, params)
        _same_stays_and_sightings(published, counts)
        timings["read"], clock = time.perf_counter() - clock, time.perf_counter()
        build_cases(con, params)
        register_published(
            con,
            published.table("cases", CASES),
            partial(published.register, name="contacts", schema=CONTACTS),
            published.table("exposures", EXPOSURES_CURATED),
            [rules.tier_name(depth) for depth in range(rules.tiers.max_depth + 1)],
        )
        timings["published"], clock = time.perf_counter() - clock, time.perf_counter()
        added = new_cases(con)
        judged = trace_changed_sources(con, params)
        dropped = scalar(con, 'SELECT coalesce(sum("rows"), 0) FROM dropped_pairs')
        cases = conform(con.sql("SELECT * FROM cases").to_arrow_table(), CASE_ROWS)
        changed = ChangedRows(
            cases=cases,
            added_contacts=conform(con.sql("SELECT * FROM new_contacts").to_arrow_table(), CONTACT_ROWS),
            dropped_pairs=con.sql("SELECT target_depth, source, target FROM dropped_pairs").to_arrow_table(),
            dropped_contacts=dropped,
            exposed=conform(con.sql(EXPOSED).to_arrow_table(), EXPOSED_ROWS),
            exposed_contacts=conform(con.sql("SELECT * FROM contacts").to_arrow_table(), CONTACT_ROWS),
            touched=con.sql("SELECT person FROM touched ORDER BY person").to_arrow_table()["person"].combine_chunks(),
        )
        timings["tiers"] = time.perf_counter() - clock
    summary = {"new_f0": added, "exposures_judged": judged, "exposures_dropped": dropped,
               "people_touched": len(changed.touched)}
    return changed, counts, summary, timings


def _trace_new_cases(
    lake: Lake, day: date, rules: Rules, params: TraceParams, plan: InputPlan, published: PublishedTrace,
    vault: str, into: DayPublication | None,
) -> tuple[TraceResult, str]:
    changed, counts, summary, timings = _changed_rows(published, plan, params, rules)
    clock = time.perf_counter()
    publication = into or begin(
        lake.root, day, directories=[*lake.traced_directories(day), *lake.built_directories(day)]
    )
    directories = day_directories(lake, day)
    merged = merge_day(published, changed, params, DayTables(publication, directories, rules, vault))
    timings["write"], clock = time.perf_counter() - clock, time.perf_counter()
    record_reidentification(
        vault, day=day, output=join(EXPORTS, "exposures"), people=merged.people_named,
        key_fingerprint=vault_key_fingerprint(vault),
    )
    confirmed = sum(1 for status in changed.cases["status"].to_pylist() if status == "confirmed")
    tier_counts = {rules.tier_name(0): confirmed} | {
        rules.tier_name(depth): merged.exposed_tiers.get(rules.tier_name(depth), 0)
        for depth in range(1, rules.tiers.max_depth + 1)
    }
    reason = (f"{summary['new_f0']} new F0(s): {summary['exposures_judged']} exposure(s) judged, "
              f"{summary['exposures_dropped']} dropped, {summary['people_touched']} people's rows made again")
    manifest_path = lake.manifest("trace", day)
    document = manifest(
        rules=rules, params=params, engine=ENGINE, plan=plan, inputs=counts,
        outputs={name: (path, merged.rows[name]) for name, path in directories.items()},
        tier_counts=tier_counts, timings=timings,
        on_case={"mode": INCREMENTAL, "reason": reason, **summary,
                 "published_engine": published.manifest.get("engine")},
    )
    stage_directories(
        publication, [DayDirectory(manifest_path.rpartition("/")[0], {MANIFEST_FILE: manifest_bytes(document)})]
    )
    if into is None:
        publication.publish()
    timings["publish"] = time.perf_counter() - clock
    result = TraceResult(
        day=day, engine=ENGINE, rules_version=rules.version, tier_counts=tier_counts, input_counts=counts,
        outputs=directories, manifest=manifest_path, timings=timings, run=publication.run,
    )
    return result, reason


def trace_on_case(
    lake_root: str,
    day: date,
    rules: Rules,
    *,
    vault: str,
    engine: EngineName = "spark",
    spark_master: str | None = None,
    spark_driver_memory: str | None = None,
    into: DayPublication | None = None,
    earliest: datetime = DEFAULT_EARLIEST,
) -> OnCaseTrace:
    """Trace D for the F0s confirmed since its published trace, or whole when that cannot be exact.

    The arguments are `trace_day`'s; `engine` and the Spark settings serve only a whole trace.
    """
    lake = Lake(absolute_root(lake_root))
    recover(lake.root, day)
    params = TraceParams.from_rules(rules, day, earliest)
    plan = plan_inputs(lake, day, rules.lookback_days)
    published = read_published_trace(lake.manifest("trace", day), day_directories(lake, day))
    reason = why_whole(published, rules, plan)
    if reason is None and published is not None:
        try:
            result, changes = _trace_new_cases(lake, day, rules, params, plan, published, vault, into)
            return OnCaseTrace(result, INCREMENTAL, changes)
        except NotAnAddition as refused:
            reason = str(refused)
    result = trace_day(
        lake.root, day, rules, vault=vault, engine=engine, spark_master=spark_master,
        spark_driver_memory=spark_driver_memory, into=into, earliest=earliest,
        on_case={"mode": FULL, "reason": reason},
    )
    return OnCaseTrace(result, FULL, str(reason))

