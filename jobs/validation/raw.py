"""The raw side's suites for day D: check-ins, sightings and case reports as landed, and the landing itself.

Raw partitions are named by the lander's local day (`Settings.timezone`), so
"inside the day" is checked in that zone. What the lander says it landed for D
(`landed`, rows per topic, e.g. from `streams.status.lake_status`) is an input:
jobs/ never imports streams/, so whoever knows both stages (a DAG, the CLI)
passes it in; without it, the files' footers stand in, as the status counts
them. The landing suites then compare it with the rows the validator reads
back, check that every segment behind D is whole (jobs.validation.landing) and
that the quarantined share of those segments stays under the ceiling. While
the lander may still be landing D (the daily DAG), `validate_raw_while_landing`
takes a way to recount instead of a count.
"""

from collections.abc import Callable, Mapping
from datetime import date
from zoneinfo import ZoneInfo

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from jobs.validation.frames import table_view
from jobs.validation.landing import day_segments, landing_frame, segments_frame
from jobs.validation.report import ValidationFailed, ValidationReport
from jobs.validation.runner import TableBatch, run_suites
from jobs.validation.session import session
from jobs.validation.suites import LANDING, LANDING_SEGMENTS, RAW_TABLES
from schemas.lake import RAW
from tracelake.core.days import day_bounds
from tracelake.core.lake import Lake, filesystem, is_hidden
from tracelake.core.rules import Rules
from tracelake.core.settings import Settings

RECOUNT_ATTEMPTS = 3
"""How many times `validate_raw_while_landing` runs the suites while the lander keeps landing more of D."""


def footer_rows(lake: Lake, topic: str, day: date) -> int:
    """Rows of D's raw files by their Parquet footers: how `streams.status` counts what the lander landed."""
    fs, directory = filesystem(lake.raw_day(topic, day))
    if fs.get_file_info(directory).type != pafs.FileType.Directory:
        return 0
    return sum(
        pq.read_metadata(entry.path, filesystem=fs).num_rows
        for entry in fs.get_file_info(pafs.FileSelector(directory))
        if entry.type == pafs.FileType.File and not is_hidden(entry.base_name)
    )


def validate_raw(
    lake_root: str,
    day: date,
    settings: Settings,
    rules: Rules | None = None,
    *,
    landed: Mapping[str, int] | None = None,
    raise_on_failure: bool = True,
) -> ValidationReport:
    """Check day D's raw partitions before anything is traced from them.

    `landed`: rows per topic the lander reports for D (the DAG passes
    `streams.status`); by default the files' own footers, which is how that
    status counts. `rules` is accepted for symmetry with `validate_outputs`:
    raw partitions follow the lander's zone, `settings.timezone`. Raises
    `ValidationFailed` (each broken expectation and its bad rows' count)
    unless `raise_on_failure` is False; the Data Docs are left under
    `Lake.validation_day(D)` either way.
    """
    lake = Lake(lake_root)
    if landed is None:
        landed = {topic: footer_rows(lake, topic, day) for topic in RAW_TABLES}
    start, end = day_bounds(day, ZoneInfo(settings.timezone))
    bounds = {"day_start": start, "day_end": end}
    with session() as views:
        batches: list[TableBatch] = []
        rows_in_files: dict[str, int] = {}
        for topic, suite in RAW_TABLES.items():
            partition = table_view(views, suite, lake.raw_day(topic, day), RAW[topic])
            rows_in_files[topic] = views.count(partition)
            parameters = {**bounds, "landed_rows": landed.get(topic, 0)}
            batches.append(TableBatch(suite, suite, rows_in_files[topic], parameters))
        segments = {topic: day_segments(lake, topic, day) for topic in RAW_TABLES}
        summaries = {
            LANDING: landing_frame(landed, rows_in_files, segments),
            LANDING_SEGMENTS: segments_frame(segments),
        }
        for suite, frame in summaries.items():
            views.register(suite, frame)
        batches.append(TableBatch(LANDING, LANDING, len(summaries[LANDING]),
                                  {"quarantine_ceiling": settings.quarantine_ceiling}))
        batches.append(TableBatch(LANDING_SEGMENTS, LANDING_SEGMENTS, len(summaries[LANDING_SEGMENTS]), {}))
        report = run_suites("raw", day, batches, lake.validation_day(day), views)
    if raise_on_failure and not report.success:
        raise ValidationFailed(report)
    return report


def validate_raw_while_landing(
    lake_root: str,
    day: date,
    settings: Settings,
    recount: Callable[[], Mapping[str, int]],
    *,
    attempts: int = RECOUNT_ATTEMPTS,
) -> ValidationReport:
    """Run the raw suites against what the lander reports for D (`recount()`, rows per topic); when they fail
    and the lander has landed more of D meanwhile, count again and retry, up to `attempts` runs.

    Late sightings keep arriving for past days, so a segment landing between
    reading the lander's counts and reading the files is not a defect. A
    failure with the same counts before and after is one: raises
    `ValidationFailed` with the last report.
    """
    report = None
    for _ in range(attempts):
        before = recount()
        report = validate_raw(lake_root, day, settings, landed=before, raise_on_failure=False)
        if report.success:
            return report
        if recount() == before:
            break
    assert report is not None, "at least one attempt"
    raise ValidationFailed(report)
