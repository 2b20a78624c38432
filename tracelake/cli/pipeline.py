"""The whole flow for one local day, as `tracelake run` and `tracelake demo` drive it.

Events files → Kafka (an embedded broker unless a cluster is configured) →
lander (landing while the files are still being published: `streams.ingest`)
→ raw lake → validation → trace (Spark) → exports, worklists, the
analysts' DuckDB, the province outputs and the daily report. Everything of
day D from the trace on is one publication (`jobs.publication`): validated
where it is staged, and published whole at the end of the export.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracelake.cli.console import console, stage_progress
from tracelake.core.lake import Lake
from tracelake.core.rules import Rules
from tracelake.core.settings import Settings
from tracelake.core.vault import resolve_key

if TYPE_CHECKING:
    from jobs.validation import ValidationReport


INGEST = "ingest (publish + land overlapped)"
"""The stage in which publishing and landing run at once: its time is the wall time of both, not their sum."""


@dataclass
class PipelineResult:
    day: date
    lake: Lake
    published: dict[str, int] = field(default_factory=dict)
    landed: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    tiers: dict[str, int] = field(default_factory=dict)
    validation_problems: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    headlines: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    to_call: int = 0
    """People on the day's worklists, within each district's calls a day."""
    to_notify: int = 0
    """People beyond them, on the notification lists."""
    changes: dict[str, int] = field(default_factory=dict)
    """People per change since the previous published day (`jobs.publish.changes`)."""
    prediction: list[dict[str, Any]] = field(default_factory=list)
    """How well each rule predicted: the rows of `jobs.publish.prediction`'s table for D."""

    def judge(self, validation: ValidationReport) -> None:
        """A failed suite is reported with the day's summary; `--strict` raised before we get here."""
        if not validation.success:
            self.validation_problems.append(validation.message())


@contextmanager
def kafka(settings: Settings) -> Iterator[str]:
    """The configured cluster, or an embedded broker that lives as long as this block."""
    from streams.broker import EmbeddedBroker, ensure_topics

    if settings.bootstrap_servers:
        ensure_topics(settings.bootstrap_servers, settings.topic_partitions)
        yield settings.bootstrap_servers
        return
    with EmbeddedBroker(partitions=settings.topic_partitions, broker_bin=settings.broker_bin) as broker:
        console.print(f"Started an embedded Kafka-protocol broker at [bold]{broker.bootstrap}[/]")
        ensure_topics(broker.bootstrap, settings.topic_partitions)
        yield broker.bootstrap
    console.print("Stopped the embedded broker.")


@contextmanager
def _timed(result: PipelineResult, stage: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    result.timings[stage] = time.perf_counter() - started


def run_pipeline(
    events: Path, settings: Settings, day: date, rules: Rules, *, strict: bool = False,
    capacity: Mapping[str, int] | None = None,
) -> PipelineResult:
    """Publish, land, validate, trace and export day D; returns what happened, stage by stage.

    `capacity`: calls a day per district code (`jobs.publish.capacity`); the rules' default for the others.
    """
    from jobs.publish.day import export_day as export_traced_day
    from jobs.trace.day import begin_day, trace_day
    from jobs.validation import validate_outputs, validate_raw
    from streams.ingest import publish_and_land

    lake = Lake(settings.lake)
    result = PipelineResult(day=day, lake=lake)
    key = resolve_key(settings, local_run=True, announce=lambda message: console.print(f"[yellow]{message}[/]"))
    with kafka(settings) as bootstrap:
        run_settings = settings.model_copy(update={"bootstrap_servers": bootstrap, "timezone": rules.timezone})
        with stage_progress("ingest") as advance:
            ingested = publish_and_land(
                events, run_settings, key,
                publish_progress=lambda topic, count: advance(f"publish {topic}", count),
                land_progress=lambda topic, count: advance(f"land {topic}", count),
            )
        result.published = ingested.published
        result.landed = dict(ingested.landing.landed)
        result.quarantined = dict(ingested.landing.quarantined)
        result.timings.update({"publish": ingested.publish_s, "land": ingested.land_s, INGEST: ingested.ingest_s})

    with _timed(result, "validate raw"):
        result.judge(validate_raw(settings.lake, day, settings, rules, raise_on_failure=strict))

    publication = begin_day(settings.lake, day)
    with _timed(result, "trace"), console.status(f"Tracing F0 → F1 → F2 with {settings.trace_engine}…"):
        traced = trace_day(
            settings.lake, day, rules, vault=settings.vault_location,
            engine=settings.trace_engine, spark_master=settings.spark_master,
            spark_driver_memory=settings.spark_driver_memory, into=publication,
            earliest=settings.earliest_instant,
        )
    result.tiers = dict(traced.tier_counts)
    result.outputs["exposures"] = lake.export_day("exposures", day)

    with _timed(result, "validate outputs"):
        result.judge(
            validate_outputs(settings.lake, day, settings, rules, raise_on_failure=strict, outputs=publication)
        )
    result.outputs["validation"] = lake.validation_day(day)

    with _timed(result, "export"), console.status("Writing worklists, the analysts' DuckDB and the report…"):
        exported = export_traced_day(
            settings.lake, day, rules, vault=settings.vault_location, counts=_report_counts(result),
            publication=publication, capacity=capacity, quarantine_ceiling=settings.quarantine_ceiling,
        )
    result.outputs.update(exported.paths)
    result.to_call, result.to_notify = exported.worklists.to_call, exported.worklists.to_notify
    result.changes = exported.changes.counts if exported.changes else {}
    result.prediction = exported.prediction.to_pylist() if exported.prediction is not None else []
    result.headlines = exported.province.headline()
    return result


def _report_counts(result: PipelineResult) -> dict[str, Any]:
    return {"published": result.published, "landed": result.landed, "quarantined": result.quarantined}
