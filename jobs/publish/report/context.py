"""What every report section may read: the day, the rules, the audience, the lake's views and the day's funnel.

A section gets one `ReportContext` and queries the analysts' views
(`jobs.publish.analyst_db`) through it, so a number on the report means what the same
query means in the analysts' DuckDB file. The page has one of two audiences:
the public (and analysts), whose page hides counts of people from 1 to 9
(`jobs.disclosure`) and links to nothing under `exports/`, and the tracers,
whose copy under `exports/reports/` has the exact numbers and their worklists.
Counts that two sections print (the districts' F1/F2 in the overview, the
events' funnel in the quarantine section) are protected once, here, so both
print the same figure. The tracers' export is read only for the tracers' page,
to count its rows; no section ever prints an id.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import quote

import duckdb
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from jobs.disclosure import ALL, Disclosure, Group, Total, grid_groups, protect, protect_grid
from jobs.publication import DIRECT, DayOutputs
from jobs.publish.report.clusters import ClusterCount, cluster_counts
from schemas import TOPICS
from schemas.lake import EXPOSURES_EXPORT
from tracelake.core.lake import EXPORTS, Lake, filesystem, join
from tracelake.core.rules import Rules

T = TypeVar("T")

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
TIERS: tuple[str, ...] = ("F1", "F2")
FUNNEL_PARTS: tuple[str, ...] = ("landed", "quarantined")


class Audience(Enum):
    """Who reads a page: the public (and analysts) under `reports/`, or the tracers under `exports/reports/`."""

    PUBLIC = "public"
    TRACERS = "tracers"


@dataclass(frozen=True)
class StageCount:
    """One funnel number and where it came from (`lander`, `manifest` or `lake`)."""

    value: int
    source: str


@dataclass(frozen=True)
class Funnel:
    """Events in → landed → quarantined for the day, overall and per topic."""

    total: Mapping[str, StageCount]
    topics: Mapping[str, Mapping[str, StageCount]]


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
    audience: Audience = Audience.PUBLIC
    notes: list[str] = field(default_factory=list)
    """Caveats sections add while rendering; the page prints them at the bottom."""
    outputs: DayOutputs = DIRECT
    """Where D's export and worklists are read while the run that builds the page is staged."""
    answers: dict[Any, Any] = field(default_factory=dict)
    """Answers of the lake's views, shared by the pages of one export (the same whoever reads them)."""

    @property
    def lake(self) -> Lake:
        return Lake(self.lake_root)

    @property
    def public(self) -> bool:
        return self.audience is Audience.PUBLIC

    @property
    def page_directory(self) -> str:
        lake = self.lake
        return lake.report_day(self.day) if self.public else lake.tracer_report_day(self.day)

    def _remember(self, key: Any, compute: Callable[[], T]) -> T:
        if key not in self.answers:
            self.answers[key] = compute()
        answer: T = self.answers[key]
        return answer

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Rows of a query over the analysts' views; `$day` is the report's day unless given.

        Asked once per page set: a second page asking the same gets the same rows (`answers`).
        """
        given = {"day": self.day, **params} if "$day" in sql else params
        key = ("rows", sql, repr(sorted(given.items())))
        return list(self._remember(key, lambda: self.con.execute(sql, given).fetchall()))

    def scalar(self, sql: str, **params: Any) -> Any:
        found = self.rows(sql, **params)
        return found[0][0] if found else None

    def relative_link(self, *parts: str) -> str:
        """An href from this page to a path under the lake root; the public page never links into `exports/`."""
        if self.public and parts and parts[0] == EXPORTS:
            raise ValueError(f"the public report links to nothing in the tracers' area: {'/'.join(parts)}")
        depth = self.page_directory.removeprefix(self.lake_root.rstrip("/")).strip("/").count("/") + 1
        return "/".join([*[".."] * depth, *parts])

    def lake_has(self, *parts: str) -> bool:
        fs, root = filesystem(self.lake_root)
        return fs.get_file_info(join(root, *parts)).type != pafs.FileType.NotFound

    @cached_property
    def export_tiers(self) -> dict[str, int]:
        """Rows of the day's tracers' export per tier: the count the page must agree with."""
        fs, path = filesystem(self.outputs.source(self.lake.export_day("exposures", self.day)))
        if fs.get_file_info(path).type != pafs.FileType.Directory:
            return {}
        table = ds.dataset(path, format="parquet", filesystem=fs, schema=EXPOSURES_EXPORT).to_table(columns=["tier"])
        counted = pc.value_counts(table.column("tier")).to_pylist()
        return {row["values"]: row["counts"] for row in sorted(counted, key=lambda row: row["values"])}

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """The trace job's manifest for the day as a dict (empty when the day has none)."""
        def read() -> dict[str, Any]:
            cursor = self.con.execute("SELECT * FROM run_manifests WHERE date = $day", {"day": self.day})
            names = [column[0] for column in cursor.description or ()]
            found = cursor.fetchone()
            return dict(zip(names, found, strict=True)) if found else {}

        return dict(self._remember(("manifest", self.day), read))

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
        return Funnel(total=total, topics=topics)

    @cached_property
    def events(self) -> Disclosure[Any]:
        """The funnel, the quarantine reasons and the trace inputs as this page's audience may see them.

        Events are sent by people (check-ins, sightings, case reports), so they are counts of people:
        keys `(topic, stage)` with `ALL` for the totals (a topic's `in` is `(topic, ALL)`),
        `("reason", topic, reason)` and `("reasons", ALL)` for the quarantine section, and
        `("trace", topic, name)` for the trace run's inputs. The check-ins landed for D are the
        province pages' check-ins of D, so the reader is taken to know them.
        """
        funnel = self.funnel
        topics = list(funnel.topics)
        counts: dict[Any, int] = {}
        for topic, stages in funnel.topics.items():
            counts[(topic, ALL)] = stages["in"].value
            counts.update({(topic, stage): stages[stage].value for stage in FUNNEL_PARTS})
        counts[(ALL, ALL)] = funnel.total["in"].value
        counts.update({(ALL, stage): funnel.total[stage].value for stage in FUNNEL_PARTS})
        groups: list[Group[Any]] = list(grid_groups(topics, FUNNEL_PARTS))
        reasons = self.quarantine_reasons
        for topic in dict.fromkeys(topic for topic, _reason in reasons):
            mine = tuple(("reason", topic, reason) for found, reason in reasons if found == topic)
            groups.append(Group((topic, "quarantined"), mine))
        counts.update({("reason", topic, reason): events for (topic, reason), events in reasons.items()})
        counts[("reasons", ALL)] = sum(reasons.values())
        groups.append(Group(("reasons", ALL), tuple(("reason", topic, reason) for topic, reason in reasons)))
        for topic, numbers in self.trace_inputs.items():
            counts.update({("trace", topic, name): value for name, value in numbers.items()})
            if all(name in numbers for name in TRACE_INPUT_COUNTS):
                read, *rest = TRACE_INPUT_COUNTS
                groups.append(Group(("trace", topic, read), tuple(("trace", topic, name) for name in rest)))
        return protect(counts, groups, public=self.public, known=[("checkins", "landed")])

    @cached_property
    def clusters(self) -> list[ClusterCount]:
        """The day's transmission clusters, largest first."""
        return list(self._remember(("clusters", self.day), lambda: cluster_counts(self.con, self.day)))

    @cached_property
    def cases(self) -> Disclosure[str]:
        """Confirmed F0s of the day, split into `linked` (in a cluster) and `unlinked`, as the audience sees them."""
        confirmed = {
            person for (person,) in self.rows(
                "SELECT person_pseudonym FROM cases WHERE date = $day AND status = 'confirmed'"
            )
        }
        linked = confirmed & {case for cluster in self.clusters for case in cluster.cases}
        counts = {"confirmed": len(confirmed), "linked": len(linked), "unlinked": len(confirmed - linked)}
        return protect(counts, [Group("confirmed", ("linked", "unlinked"))], public=self.public)

    @cached_property
    def quarantine_reasons(self) -> dict[tuple[str, str], int]:
        """Quarantined events of the day per (topic, reason), most frequent first."""
        return {
            (topic, reason): int(events)
            for topic, reason, events in self.rows(
                "SELECT kafka_topic, reason, count(*) AS events FROM quarantine WHERE date = $day "
                "GROUP BY ALL ORDER BY events DESC, kafka_topic, reason"
            )
        }

    @cached_property
    def districts(self) -> Disclosure[tuple[str | Total, str | Total]]:
        """F1/F2 per district of exposure (`(code, tier)`, with `ALL` totals), as this page's audience sees them."""
        cells = {
            (code, tier): int(people)
            for code, tier, people in self.rows(
                "SELECT district_code, tier, count(*) FROM exposure_districts WHERE date = $day GROUP BY ALL"
            )
        }
        codes = sorted({code for code, _tier in cells})
        return protect_grid(cells, codes, TIERS, public=self.public)

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
        directory = self.outputs.source(join(root, EXPORTS, "worklists", f"date={self.day.isoformat()}"))
        if fs.get_file_info(directory).type != pafs.FileType.Directory:
            return {}
        links = {}
        for info in fs.get_file_info(pafs.FileSelector(directory)):
            name = info.base_name
            if info.type == pafs.FileType.Directory and name.startswith("district="):
                links[name[len("district="):]] = self.relative_link(
                    EXPORTS, "worklists", f"date={self.day.isoformat()}", quote(name, safe="="), "worklist.csv"
                )
        return links
