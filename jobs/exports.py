"""Everything people read for a traced day, built in one place for the CLI and the DAGs alike.

Tracers get the per-district worklists, their copy of the notices and their
report with exact numbers (all under `exports/`); the public gets the
risky-venue notices, the province tables under `public/`, the map and the
public report (no count of people from 1 to 9); analysts the DuckDB file.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jobs.analyst_db import build_analyst_db
from jobs.province import ProvinceSummary, build_province_outputs, province_sections
from jobs.report import Audience, build_report
from jobs.staff_check.section import StaffCheckSection
from jobs.worklists import WorklistSummary, write_worklists
from tracelake.lake import Lake
from tracelake.rules import Rules

PROVINCE_TABLES = ("notices", "compliance", "coverage", "venue_risk")


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


def export_day(
    lake_root: str, day: date, rules: Rules, *, vault: str, counts: Mapping[str, Any] | None = None
) -> ExportedDay:
    """Write day D's worklists, province outputs, analysts' DuckDB file and report from a traced lake."""
    lake = Lake(lake_root)
    worklists = write_worklists(lake_root, day, rules, vault=vault)
    province = build_province_outputs(lake_root, day, rules)
    database = None if "://" in lake_root else str(build_analyst_db(lake_root, day, rules=rules))
    sections = [*province_sections(province), StaffCheckSection()]
    report = str(build_report(lake_root, day, rules, counts=counts, extra_sections=sections))
    tracer_report = str(
        build_report(lake_root, day, rules, counts=counts, extra_sections=sections, audience=Audience.TRACERS)
    )
    paths = {
        "exposures": lake.export_day("exposures", day),
        "worklists": lake.export_day("worklists", day),
        "tracers' notices": lake.export_day("notices", day),
        "tracers' report": tracer_report,
        **{table.replace("_", " "): lake.public_day(table, day) for table in PROVINCE_TABLES},
        "map": str(province.map_path),
        "report": report,
    }
    if database is not None:
        paths["duckdb"] = database
    return ExportedDay(day, worklists, province, database, report, tracer_report, paths)
