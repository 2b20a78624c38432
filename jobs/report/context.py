"""What every report section may read: the day, the rules, the lake's views and the day's funnel.

A section gets one `ReportContext` and queries the analysts' views
(`jobs.analyst_db`) through it, so a number on the report means what the same
query means in the analysts' DuckDB file. The tracers' export is read only to
count its rows; no section ever prints an id.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import duckdb
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from schemas import TOPICS
from schemas.lake import EXPOSURES_EXPORT
from tracelake.lake import EXPORTS, Lake, filesystem, join
from tracelake.rules import Rules

STAGES: tuple[str, ...] = ("in", "landed", "quarantined")
STAGE_ALIASES = {"published": "in", "events_in": "in"}
"""Other names callers use for a stage (the CLI counts what it `published` to Kafka)."""
TRACE_INPUT_COUNTS: tuple[str, ...] = ("rows_read", "duplicates_dropped", "rows_kept")
TOPIC_VIEWS = {
    "checkins": "raw_checkins",
    "proximity": "raw_sightings",
    "case_reports": "raw_case_reports",
    "venues": "raw_venues",
}


@dataclass(frozen=True)
class StageCount:
    """One funnel number and where it came from (`lander`, `manifest` or `lake`)."""

    value: int
    source: str


@dataclass(frozen=True)
class Funnel:
    """Events in → landed → quarantined for the day, overall and per topic, then people exposed."""

    total: Mapping[str, StageCount]
    topics: Mapping[str, Mapping[str, StageCount]]
    exposed: int
    f1: int
    f2: int


def _is_count(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _stages(numbers: Mapping[str, Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for key, value in numbers.items():
        stage = STAGE_ALIASES.get(key, key)
        if stage in STAGES and _is_count(value):
            found[stage] = int(value)
    return found


def _split_counts(counts: Mapping[str, Any] | None) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Accept `{"in": n, ...}` and/or `{"checkins": {"in": n, ...}, ...}`; ignore anything else."""
    totals = _stages(counts or {})
    topics = {
        topic: _stages(value)
        for topic, value in (counts or {}).items()
        if topic in TOPICS and isinstance(value, Mapping)
    }
    for stage in STAGES:
        if stage not in totals and any(stage in numbers for numbers in topics.values()):
            totals[stage] = sum(numbers.get(stage, 0) for numbers in topics.values())
    return totals, topics


def _resolve(stage: str, layers: Sequence[tuple[str, Mapping[str, int]]], lake_value: int) -> StageCount:
    for source, numbers in layers:
        if stage in numbers:
            return StageCount(numbers[stage], source)
    return StageCount(lake_value, "lake")


@dataclass
class ReportContext:
    """One day's report in the making; sections read from it and never write to the lake."""

    lake_root: str
    day: date
    rules: Rules
    con: duckdb.DuckDBPyConnection
    counts: Mapping[str, Any] | None = None
    """What the lander counted for the day (see `build_report`)."""
    notes: list[str] = field(default_factory=list)
    """Caveats sections add while rendering; the page prints them at the bottom."""

    @property
    def lake(self) -> Lake:
        return Lake(self.lake_root)

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of a query over the analysts' views; `$day` is the report's day unless given."""
        return self.con.execute(sql, {"day": self.day, **params} if "$day" in sql else params).fetchall()

    def scalar(self, sql: str, **params: Any) -> Any:
        found = self.rows(sql, **params)
        return found[0][0] if found else None

    def relative_link(self, *parts: str) -> str:
        """An href from `reports/date=D/index.html` to a path under the lake root."""
        return "/".join(["..", "..", *parts])

    def lake_has(self, *parts: str) -> bool:
        fs, root = filesystem(self.lake_root)
        return fs.get_file_info(join(root, *parts)).type != pafs.FileType.NotFound

    @cached_property
    def export_tiers(self) -> dict[str, int]:
        """Rows of the day's tracers' export per tier: the count the page must agree with."""
        fs, path = filesystem(self.lake.export_day("exposures", self.day))
        if fs.get_file_info(path).type != pafs.FileType.Directory:
            return {}
        table = ds.dataset(path, format="parquet", filesystem=fs, schema=EXPOSURES_EXPORT).to_table(columns=["tier"])
        tiers = table.column("tier").to_pylist()
        return {tier: tiers.count(tier) for tier in sorted(set(tiers))}

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The trace job's manifest for the day as a dict (empty when the day has none)."""
        cursor = self.con.execute("SELECT * FROM run_manifests WHERE date = $day", {"day": self.day})
        names = [column[0] for column in cursor.description or ()]
        found = cursor.fetchone()
        return dict(zip(names, found, strict=True)) if found else {}

    @cached_property
    def funnel(self) -> Funnel:
        """Events in → landed → quarantined: the lander's counts, else the manifest's, else the lake's rows."""
        given_total, given_topics = _split_counts(self.counts)
        manifest_counts = self.manifest.get("counts")
        manifest_total, manifest_topics = _split_counts(
            manifest_counts if isinstance(manifest_counts, Mapping) else None
        )
        quarantined = dict(
            self.rows("SELECT kafka_topic, count(*) FROM quarantine WHERE date = $day GROUP BY kafka_topic")
        )
        topics: dict[str, dict[str, StageCount]] = {}
        for topic, view in TOPIC_VIEWS.items():
            landed = int(self.scalar(f"SELECT count(*) FROM {view} WHERE date = $day") or 0)
            layers = [("lander", given_topics.get(topic, {})), ("manifest", manifest_topics.get(topic, {}))]
            row = {
                "landed": _resolve("landed", layers, landed),
                "quarantined": _resolve("quarantined", layers, int(quarantined.get(topic, 0))),
            }
            row["in"] = _resolve("in", layers, row["landed"].value + row["quarantined"].value)
            topics[topic] = row
        layers = [("lander", given_total), ("manifest", manifest_total)]
        total = {
            stage: _resolve(stage, layers, sum(row[stage].value for row in topics.values()))
            for stage in ("landed", "quarantined")
        }
        total["in"] = _resolve("in", layers, total["landed"].value + total["quarantined"].value)
        tiers = self.export_tiers
        return Funnel(
            total=total,
            topics=topics,
            exposed=sum(tiers.values()),
            f1=tiers.get("F1", 0),
            f2=tiers.get("F2", 0),
        )

    @cached_property
    def trace_inputs(self) -> dict[str, dict[str, int]]:
        """Per topic, what the trace run read over its lookback (from its manifest's `inputs`)."""
        inputs = self.manifest.get("inputs")
        if not isinstance(inputs, Mapping):
            return {}
        return {
            topic: {name: int(counts[name]) for name in TRACE_INPUT_COUNTS if _is_count(counts.get(name))}
            for topic, counts in inputs.items()
            if isinstance(counts, Mapping)
        }

    def worklist_links(self) -> dict[str, str]:
        """District code → relative link of its CSV worklist for the day, when the worklists exist."""
        fs, root = filesystem(self.lake_root)
        directory = join(root, EXPORTS, "worklists", f"date={self.day.isoformat()}")
        if fs.get_file_info(directory).type != pafs.FileType.Directory:
            return {}
        links = {}
        for info in fs.get_file_info(pafs.FileSelector(directory)):
            name = info.base_name
            if info.type == pafs.FileType.Directory and name.startswith("district="):
                links[name[len("district="):]] = self.relative_link(
                    EXPORTS, "worklists", f"date={self.day.isoformat()}", name, "worklist.csv"
                )
        return links
