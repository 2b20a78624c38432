"""`tracelake trace` for one local day D: read raw, find F0..Fn, write curated tables, export, manifest.

The CLI, Airflow and spark-submit all call `trace_day`. Both engines run the
same plan with the same params and write the day's tables by the same rules
(`jobs.trace.engines`): the DuckDB twin from this process, the Spark job from
its executors. A day traced by Spark and by DuckDB gives comparable files;
outputs are recomputed from raw on every run, which is what makes a
retraction stick.

The tables are staged into a publication of D (`jobs.publication`). Traced
alone, the run publishes them at once and takes D's worklists, notices and
reports away with the old tables they came from (`tracelake export` builds
them again); traced `into` a caller's publication, they wait for its
validation and export, and all of D appears together.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from jobs.publication import DayPublication, Step, begin, recover, unwatched
from jobs.trace.engines import DayTables, Engine, TopicCounts
from jobs.trace.finish import OnDriver
from jobs.trace.manifest import manifest, manifest_bytes
from jobs.trace.parameters import TraceParams
from jobs.trace.plan import plan_inputs
from jobs.trace.usable import DEFAULT_EARLIEST
from jobs.trace.write import DayDirectory, stage_directories
from tracelake.core.audit import record_reidentification
from tracelake.core.lake import EXPORTS, Lake, join
from tracelake.core.rules import Rules
from tracelake.core.vault import vault_key_fingerprint

EngineName = Literal["spark", "duckdb"]
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class TraceResult:
    day: date
    engine: str
    rules_version: str
    tier_counts: Mapping[str, int]
    """"F0", "F1", ... up to the rules' max_depth: persons per tier."""
    input_counts: Mapping[str, TopicCounts]
    outputs: Mapping[str, str]
    """contacts, exposures, cases (curated, pseudonymized) and export: the day's directories."""
    manifest: str
    timings: Mapping[str, float]
    """Seconds per stage of the job itself (the day's tables in `curate` and `write`, the manifest and the
    publishing in `publish`); Spark session start is `session_seconds`."""
    run: str
    """The publication the tables were staged into (published already when the trace ran alone)."""
    session_seconds: float = 0.0


def _engine(name: EngineName, spark_master: str | None, spark_driver_memory: str | None) -> Engine:
    if name == "spark":
        from jobs.trace.spark.engine import SparkEngine
        from jobs.trace.spark.session import DEFAULT_DRIVER_MEMORY

        return SparkEngine(spark_master, driver_memory=spark_driver_memory or DEFAULT_DRIVER_MEMORY)
    if name == "duckdb":
        from jobs.trace.duckdb import DuckDBEngine

        return OnDriver(DuckDBEngine())
    raise ValueError(f"unknown engine {name!r}: use 'spark' or 'duckdb'")


def absolute_root(root: str) -> str:
    """Local lake roots become absolute: Spark and DuckDB resolve relative paths differently."""
    return root if "://" in root else str(Path(root).resolve())


def begin_day(lake_root: str, day: date, *, on_step: Step = unwatched) -> DayPublication:
    """A publication of all of D: the trace's tables, everything built from them, the analysts' file."""
    lake = Lake(absolute_root(lake_root))
    return begin(
        lake.root,
        day,
        directories=[*lake.traced_directories(day), *lake.built_directories(day)],
        files=lake.analyst_files,
        on_step=on_step,
    )


def day_directories(lake: Lake, day: date) -> dict[str, str]:
    """Each of D's traced tables (`DAY_TABLES`) → its directory, as published."""
    return {
        "contacts": lake.curated_day("contacts", day),
        "exposures": lake.curated_day("exposures", day),
        "cases": lake.curated_day("cases", day),
        "export": lake.export_day("exposures", day),
    }


def trace_day(
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
    on_case: Mapping[str, Any] | None = None,
) -> TraceResult:
    """Trace D and stage its tables `into` a publication; without one, publish them as D's at once.

    `earliest` is the lander's `earliest_instant`: rows with earlier times are not traced. `on_case`: why
    the on-case trace (`jobs.trace.on_case`) traced D whole, recorded in the manifest.
    """
    lake = Lake(absolute_root(lake_root))
    recover(lake.root, day)
    params = TraceParams.from_rules(rules, day, earliest)
    runner = _engine(engine, spark_master, spark_driver_memory)
    plan = plan_inputs(lake, day, rules.lookback_days)
    publication = into or begin(
        lake.root, day, directories=[*lake.traced_directories(day), *lake.built_directories(day)]
    )
    directories = day_directories(lake, day)
    written = runner.trace(plan, params, DayTables(publication, directories, rules, vault))
    record_reidentification(
        vault, day=day, output=join(EXPORTS, "exposures"), people=written.people_named,
        key_fingerprint=vault_key_fingerprint(vault),
    )
    tier_counts = {rules.tier_name(depth): count for depth, count in sorted(written.tier_counts.items())}
    timings = dict(written.timings)
    clock = time.perf_counter()
    manifest_path = lake.manifest("trace", day)
    document = manifest(
        rules=rules,
        params=params,
        engine=runner.name,
        plan=plan,
        inputs=written.inputs,
        outputs={name: (path, written.rows[name]) for name, path in directories.items()},
        tier_counts=tier_counts,
        timings=timings,
        on_case=on_case,
    )
    stage_directories(
        publication, [DayDirectory(manifest_path.rpartition("/")[0], {MANIFEST_FILE: manifest_bytes(document)})]
    )
    if into is None:
        publication.publish()
    timings["publish"] = time.perf_counter() - clock
    return TraceResult(
        day=day,
        engine=runner.name,
        rules_version=rules.version,
        tier_counts=tier_counts,
        input_counts=dict(written.inputs),
        outputs=directories,
        manifest=manifest_path,
        timings=timings,
        run=publication.run,
        session_seconds=written.session_seconds,
    )
