"""Everything people read for a traced day, built in one place for the CLI and the DAGs alike.

Tracers get the per-district worklists, their copy of the notices and their
report with exact numbers (all under `exports/`); the public gets the
risky-venue notices, the province tables under `public/`, the map and the
public report (no count of people from 1 to 9); analysts the DuckDB file.

All of it is built into one publication of D (`jobs.publication`) and
published at the end: the run's own, when the trace staged D's tables into it
(`tracelake run`, the DAGs), else a new one that rebuilds these outputs from
D's published tables (`tracelake export`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from jobs.publication import DayPublication, begin
from jobs.publish.analyst_db import build_analyst_db
from jobs.publish.changes import ChangesSummary, refresh_next_day, write_changes
from jobs.publish.day_views import DayViews
from jobs.publish.prediction import write_prediction
from jobs.publish.province import ProvinceSummary, build_province_outputs, province_sections
from jobs.publish.report import Audience, build_report
from jobs.publish.report.calls import CallsSection
from jobs.publish.report.changes import ChangesSection
from jobs.publish.report.rule_quality import PredictionSection, SensorQualitySection
from jobs.publish.report.staff_check import StaffCheckSection
from jobs.publish.sensor_quality import write_sensor_quality
from jobs.publish.worklists import WorklistSummary, write_worklists
from tracelake.core.lake import CHANGES, NOTIFICATIONS, PREDICTION_TABLE, PROVINCE_TABLES, SENSOR_QUALITY_TABLE, Lake
from tracelake.core.rules import Rules
from tracelake.core.settings import QUARANTINE_CEILING

CURATED_BY_EXPORT: tuple[str, ...] = (CHANGES, PREDICTION_TABLE, SENSOR_QUALITY_TABLE)
"""The analysts' views of tables the export itself stages for D: read again before the analysts' file is filled."""


@dataclass(frozen=True)
class ExportedDay:
    day: date
    worklists: WorklistSummary
    province: ProvinceSummary
    analyst_db: str | None
    """None for an object-store lake: the DuckDB file needs a local lake root."""
    report: str
    """The public report."""
    tracer_report: str
    paths: dict[str, str] = field(default_factory=dict)
    changes: ChangesSummary | None = None
    next_day_refreshed: date | None = None
    """The next published day, whose diff against D was published anew."""
    prediction: pa.Table | None = None
    """How well each rule predicted (`jobs.publish.prediction`): the summary of `run` and `demo` prints it."""


def export_day(
    lake_root: str,
    day: date,
    rules: Rules,
    *,
    vault: str,
    counts: Mapping[str, Any] | None = None,
    publication: DayPublication | None = None,
    capacity: Mapping[str, int] | None = None,
    quarantine_ceiling: float = QUARANTINE_CEILING,
) -> ExportedDay:
    """Build day D's worklists, province outputs, analysts' DuckDB file and report, and publish D.

    Into `publication` when a run staged D's tables into it; otherwise into a
    new one reading D's published tables. `capacity` is each district's calls
    a day (`jobs.publish.capacity`), the rules' default for the others.
    `quarantine_ceiling` is the settings' (the report flags a topic above it).
    """
    lake = Lake(lake_root)
    if publication is None:
        publication = begin(lake_root, day, directories=lake.built_directories(day), files=lake.analyst_files)
    changes = write_changes(lake_root, day, rules, vault=vault, outputs=publication)
    views = DayViews.open(lake_root, day, rules, publication)
    try:
        worklists = write_worklists(
            lake_root, day, rules, vault=vault, outputs=publication, capacity=capacity, changes=changes.statuses,
            views=views,
        )
        province = build_province_outputs(lake_root, day, rules, outputs=publication)
        prediction = write_prediction(lake_root, day, rules, outputs=publication, views=views)
        sensor_quality = write_sensor_quality(lake_root, day, rules, outputs=publication, views=views)
        views.reread(*CURATED_BY_EXPORT)
        database = None
        if "://" not in lake_root:
            staged_database = build_analyst_db(lake_root, day, rules=rules, outputs=publication, lake_views=views.con)
            database = publication.published_path(str(staged_database))
        sections = [*province_sections(province), StaffCheckSection()]
        staged_report = build_report(
            lake_root, day, rules, counts=counts, extra_sections=sections, outputs=publication,
            quarantine_ceiling=quarantine_ceiling, views=views,
        )
        report = publication.published_path(str(staged_report))
        tracers_only = [
            CallsSection(worklists), ChangesSection(changes), PredictionSection(day, prediction),
            SensorQualitySection(day, sensor_quality),
        ]
        staged_tracer_report = build_report(
            lake_root, day, rules, counts=counts, extra_sections=[*sections, *tracers_only],
            audience=Audience.TRACERS, outputs=publication, quarantine_ceiling=quarantine_ceiling, views=views,
        )
        tracer_report = publication.published_path(str(staged_tracer_report))
    finally:
        views.close()
    publication.publish()
    following = refresh_next_day(lake_root, day, rules, vault=vault)
    paths = {
        "exposures": lake.export_day("exposures", day),
        "worklists": lake.export_day("worklists", day),
        "notifications": lake.export_day(NOTIFICATIONS, day),
        "tracers' notices": lake.export_day("notices", day),
        "tracers' report": tracer_report,
        **{table.replace("_", " "): lake.public_day(table, day) for table in PROVINCE_TABLES},
        "map": publication.published_path(str(province.map_path)),
        "report": report,
        "prediction": lake.curated_day(PREDICTION_TABLE, day),
        "sensor quality": lake.curated_day(SENSOR_QUALITY_TABLE, day),
        "changes": lake.export_day(CHANGES, day),
    }
    if database is not None:
        paths["duckdb"] = database
    return ExportedDay(
        day, worklists, province, database, report, tracer_report, paths, changes, following, prediction
    )
