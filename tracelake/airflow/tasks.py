"""The steps both tracelake DAGs run, as thin calls into streams/ and jobs/ (no DAG in this file).

Every step starts by refusing to run without a pseudonymization key: the DAGs
are a service, and only local runs may generate a key. Failures that a retry
cannot fix (no key, a failed expectation suite) raise `AirflowFailException`
so the task fails at once with the reason instead of retrying; everything
else (a busy broker, a Spark hiccup) keeps the DAG's retries.

Heavy imports (pyspark, Great Expectations, duckdb, Kafka clients) happen
inside the functions, so parsing a DAG file stays fast and offline.
"""

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from tracelake.airflow.launcher import CASE_REPORTS_TOPIC, AirflowSettings
from tracelake.core.days import day_bounds
from tracelake.core.rules import Rules, load_rules

OWNER = "tracelake"
RAW_TOPICS = ("checkins", "proximity", "case_reports")
VALIDATION_ATTEMPTS = 3
ON_CASE_JOB = "on_case"

EXPOSURES_EXPORT = Asset(name="tracelake_exposures_export", uri="tracelake://exports/exposures")
"""The tracers' table of day D (`exports/exposures/date=D`); each event's extra names the day."""
ANALYST_DB = Asset(name="tracelake_analyst_db", uri="tracelake://analyst-db")
"""The analysts' DuckDB file at the lake root, rebuilt after each exported day."""
WORKLISTS = Asset(name="tracelake_worklists", uri="tracelake://worklists")
"""The tracers' per-district call lists of day D."""
DAILY_REPORT = Asset(name="tracelake_daily_report", uri="tracelake://reports")
"""The day's HTML report (`reports/date=D/index.html`) with the province's notices, coverage and map."""
EXPORT_ASSETS = [EXPOSURES_EXPORT, WORKLISTS, ANALYST_DB, DAILY_REPORT]


def default_args() -> dict[str, Any]:
    """Retries with exponential back-off (1, 2, 4 min...): a lost Spark executor or a slow broker is worth
    another try; data problems raise `AirflowFailException` and are never retried."""
    return {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=20),
    }


def parse_settings() -> tuple[AirflowSettings, Rules]:
    """Settings and rules at parse time: only environment variables and one local YAML file."""
    settings = AirflowSettings()
    return settings, load_rules(settings.rules)


def service_settings() -> tuple[AirflowSettings, Rules]:
    """The task's settings, refusing to go on without a configured pseudonymization key."""
    from tracelake.core.vault import VaultKeyError, resolve_key

    settings = AirflowSettings()
    try:
        resolve_key(settings, local_run=False)
    except VaultKeyError as refused:
        raise AirflowFailException(str(refused)) from refused
    return settings, load_rules(settings.rules)


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def run_day(context: Mapping[str, Any], zone: ZoneInfo) -> date:
    """Day D of a scheduled or backfilled run: its logical date in the rules' zone (never the wall clock).

    A manual run without a logical date traces the last complete local day
    before the run was asked for.
    """
    logical: datetime | None = context.get("logical_date")
    if logical is not None:
        return local_day(logical, zone)
    run_after: datetime = context["dag_run"].run_after
    return local_day(run_after, zone) - timedelta(days=1)


def trace(settings: AirflowSettings, rules: Rules, day: date) -> dict[str, Any]:
    """Trace day D with TRACELAKE_TRACE_ENGINE (Spark on TRACELAKE_SPARK_MASTER by default) into a new run of D,
    held in the lake for the validation and the export; returns what it found."""
    from jobs.trace.day import begin_day, trace_day

    publication = begin_day(settings.lake, day)
    result = trace_day(
        settings.lake,
        day,
        rules,
        vault=settings.vault_location,
        engine=settings.trace_engine,
        spark_master=settings.spark_master,
        into=publication,
        earliest=settings.earliest_instant,
    )
    publication.hold()
    return {
        "day": result.day.isoformat(),
        "run": result.run,
        "rules_version": result.rules_version,
        "tiers": dict(result.tier_counts),
        "manifest": result.manifest,
    }


def validate_outputs(settings: AirflowSettings, rules: Rules, day: date) -> dict[str, Any]:
    """Run the outputs' suites on D's held run (else on D as published); on failure the run is withheld and
    never published, or D's published export is withheld, so tracers never get an unvalidated list."""
    from jobs.publication import DIRECT, held, recover
    from jobs.validation import ValidationFailed, validate_outputs, withhold_export

    recover(settings.lake, day)
    publication = held(settings.lake, day)
    try:
        report = validate_outputs(
            settings.lake, day, settings, rules, vault=settings.vault_location, outputs=publication or DIRECT
        )
    except ValidationFailed as failed:
        if publication is not None:
            publication.withhold(str(failed))
            note = f"\nRun {publication.run} of {day.isoformat()} was withheld; D stays as it was published."
        else:
            withheld = withhold_export(settings.lake, day)
            note = f"\nThe export of {day.isoformat()} was withheld ({withheld})." if withheld else ""
        raise AirflowFailException(f"{failed}{note}") from failed
    return {"expectations": report.expectations, "rows": dict(report.rows), "docs": report.docs}


def export(settings: AirflowSettings, rules: Rules, day: date, outlet_events: Any) -> dict[str, Any]:
    """Publish day D the way `tracelake run` does: worklists, the province's outputs, the analysts' DuckDB
    file and the daily report, with the held run's tables (or D's published ones) all at once; then the
    assets' events, whose extra names the day."""
    from jobs.publication import held, recover
    from jobs.publish.capacity import CapacityError, read_capacity
    from jobs.publish.day import export_day
    from tracelake.core.lake import PROVINCE_TABLES

    try:
        capacity = read_capacity(settings.capacity) if settings.capacity else None
    except CapacityError as problem:
        raise AirflowFailException(str(problem)) from problem  # a retry reads the same file
    recover(settings.lake, day)
    exported = export_day(settings.lake, day, rules, vault=settings.vault_location,
                          publication=held(settings.lake, day), capacity=capacity,
                          quarantine_ceiling=settings.quarantine_ceiling)
    lake_exports = exported.paths
    published = {
        "day": day.isoformat(),
        "exposures_export": lake_exports["exposures"],
        "worklists": _worklist_summary(exported.worklists),
        "province": {table: lake_exports[table.replace("_", " ")] for table in PROVINCE_TABLES},
        "analyst_db": exported.analyst_db or "not built: the analysts' DuckDB file needs a local lake root",
        "report": exported.report,
        "published_at": datetime.now(UTC).isoformat(),
    }
    for asset in EXPORT_ASSETS:
        outlet_events[asset].extra = {"day": day.isoformat(), "lake": settings.lake}
    return published


def purge(settings: AirflowSettings, rules: Rules, day: date) -> dict[str, Any]:
    """Delete what the retention window of day D no longer needs (`retention_days` up to D); counts, no ids."""
    from jobs.retention.purge import first_day_kept
    from jobs.retention.purge import purge as purge_before

    result = purge_before(settings.lake, settings.vault_location, first_day_kept(day, rules), rules)
    return result.summary()


def _worklist_summary(summary: Any) -> dict[str, Any]:
    """Where the worklists went and how many people they list: XComs never carry the phone numbers themselves."""
    return {"directory": summary.directory, "districts": len(summary.districts), "people": summary.people,
            "to_call": summary.to_call, "to_notify": summary.to_notify}


def start_date(settings: AirflowSettings, rules: Rules) -> datetime:
    """Midnight of `TRACELAKE_AIRFLOW_START_DATE` in the rules' zone (pendulum, as Airflow's timetables expect)."""
    import pendulum

    first = settings.airflow_start_date
    return pendulum.datetime(first.year, first.month, first.day, tz=rules.timezone)


def today(context: Mapping[str, Any], zone: ZoneInfo) -> date:
    """The event-driven run's day: the local day of the moment the run was queued (its `run_after`)."""
    run_after: datetime = context["dag_run"].run_after
    return local_day(run_after, zone)


@dataclass
class Coverage:
    """Whether the lander has covered day D, and if not, why: the sensor's log line and, at the end, its error."""

    day: str
    landed: dict[str, int]
    reasons: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return not self.reasons

    def describe(self) -> str:
        rows = ", ".join(f"{topic} {count:,}" for topic, count in sorted(self.landed.items())) or "none"
        if self.covered:
            return f"landing covers {self.day} (rows landed: {rows})"
        return f"landing does not cover {self.day} yet: {'; '.join(self.reasons)} (rows landed so far: {rows})"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def landed_rows(settings: AirflowSettings, day: date) -> dict[str, int]:
    """Rows the lander reports for day D per topic (its status: Parquet footers of D's raw files)."""
    from streams.status import day_status

    return {
        status.topic: status.landed
        for status in day_status(settings)
        if status.day == day and status.topic in RAW_TOPICS
    }


def landing_coverage(settings: AirflowSettings, rules: Rules, day: date, now: datetime | None = None) -> Coverage:
    """Whether the lander has covered day D (see `coverage_of`), from its status and the lake's later days."""
    from streams.status import lake_status

    status = lake_status(settings)
    landed = {item.topic: item.landed for item in status.days if item.day == day and item.topic in RAW_TOPICS}
    _, end = day_bounds(day, ZoneInfo(settings.timezone))
    lag = None
    if status.lag is not None:
        lag = {(item.topic, item.partition): item.lag for item in status.lag if item.topic in RAW_TOPICS}
    later = {topic: partitions_landed_after(settings, topic, day) for topic in RAW_TOPICS}
    return coverage_of(day, landed, lag, status.lag_error, later, end, now or datetime.now(UTC))


def coverage_of(
    day: date,
    landed: dict[str, int],
    lag: Mapping[tuple[str, int], int] | None,
    lag_error: str | None,
    later: Mapping[str, set[int]],
    end: datetime,
    now: datetime,
) -> Coverage:
    """D is covered once it has ended and every Kafka partition of the traced topics is either fully
    landed (no lag) or past D: the lake already holds events of that partition on a later local day (the
    lander's watermark has passed the end of D).

    A busy lander is rarely at lag 0, hence the watermark; a replay of old days is usually behind, hence
    not the watermark alone without the partition's later-day files. D's own files are not required: a
    day without check-ins or sightings is still traced, since its lookback can hold F1s.
    """
    coverage = Coverage(day.isoformat(), landed)
    if now < end:
        coverage.reasons.append(f"{day.isoformat()} has not ended yet (it ends at {end.isoformat()})")
    if lag is None:
        coverage.reasons.append(f"the landing group's lag is unknown: {lag_error}")
    else:
        behind: dict[str, list[str]] = {}
        for (topic, partition), messages in sorted(lag.items()):
            if messages > 0 and partition not in later.get(topic, set()):
                behind.setdefault(topic, []).append(f"{partition} ({messages:,} behind)")
        if behind:
            where = "; ".join(f"{topic} partition {', '.join(parts)}" for topic, parts in behind.items())
            coverage.reasons.append(f"the lander has neither caught up nor passed the end of {day.isoformat()} on "
                                    f"{where}")
    return coverage


def partitions_landed_after(settings: AirflowSettings, topic: str, day: date) -> set[int]:
    """Kafka partitions of `topic` with raw files on a local day after D (segment names carry the partition)."""
    import pyarrow.fs as pafs

    from tracelake.core.lake import Lake, filesystem, parse_segment_file_name

    fs, root = filesystem(Lake(settings.lake).raw(topic))
    partitions: set[int] = set()
    for directory in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True)):
        name = directory.base_name
        if directory.type != pafs.FileType.Directory or not name.startswith("date=") or name[5:] <= day.isoformat():
            continue
        for entry in fs.get_file_info(pafs.FileSelector(directory.path)):
            segment = parse_segment_file_name(entry.base_name)
            if segment is not None and segment.topic == topic:
                partitions.add(segment.partition)
    return partitions


def waited_since(context: Mapping[str, Any]) -> datetime:
    """When this sensor started waiting: its first poke, across reschedules."""
    ti = context["ti"]
    first = ti.get_first_reschedule_date(context)
    started = first or getattr(ti, "start_date", None) or datetime.now(UTC)
    return started if started.tzinfo else started.replace(tzinfo=UTC)


def give_up_if_overdue(context: Mapping[str, Any], minutes: float, what: str, reason: str) -> None:
    """Fail with the last reason once the wait is over its limit, instead of Airflow's bare timeout."""
    waited = datetime.now(UTC) - waited_since(context)
    if waited > timedelta(minutes=minutes):
        raise AirflowFailException(f"gave up waiting for {what} after {waited.total_seconds() / 60:.0f} min: {reason}")


def validate_raw(settings: AirflowSettings, day: date) -> dict[str, Any]:
    """Run the raw suites against the lander's counts; recount and retry if the lander landed more of D meanwhile.

    Late sightings keep arriving for past days, so a segment landing between
    reading the lander's counts and reading the files is not a defect.
    """
    from jobs.validation import validate_raw as run_raw_suites

    report = None
    for _ in range(VALIDATION_ATTEMPTS):
        before = landed_rows(settings, day)
        report = run_raw_suites(settings.lake, day, settings, landed=before, raise_on_failure=False)
        if report.success:
            return {"expectations": report.expectations, "rows": dict(report.rows), "docs": report.docs}
        if landed_rows(settings, day) == before:
            break
    assert report is not None
    raise AirflowFailException(report.message())


@dataclass(frozen=True)
class CaseReport:
    """Where a triggering report sits in Kafka (the trigger's payload)."""

    kind: str
    partition: int
    offset: int


def triggering_reports(context: Mapping[str, Any]) -> list[CaseReport]:
    """The case reports behind this run's asset events; none for a manual run."""
    reports = []
    for events in context.get("triggering_asset_events", {}).values():
        for event in events:
            payload = (event.extra or {}).get("payload")
            if isinstance(payload, dict) and payload.get("partition") is not None:
                reports.append(
                    CaseReport(str(payload.get("kind")), int(payload["partition"]), int(payload["offset"]))
                )
    return reports


@dataclass
class CaseLanding:
    """Whether the lander has committed past every triggering report, and its committed offsets now."""

    reports: list[dict[str, Any]]
    committed: dict[str, int]
    """case_reports partition → the lander's committed offset (the next one it will read)."""
    reasons: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not self.reasons

    def describe(self) -> str:
        what = f"{len(self.reports)} triggering report(s)" if self.reports else "a manual run"
        if self.done:
            return f"the lander has landed {what}; case_reports committed offsets {self.committed}"
        return f"waiting for the lander to land {what}: {'; '.join(self.reasons)}"

    def as_dict(self) -> dict[str, Any]:
        return {"reports": self.reports, "committed": self.committed}


def case_reports_landing(settings: AirflowSettings, reports: list[CaseReport]) -> CaseLanding:
    from streams.status import lake_status

    status = lake_status(settings)
    landing = CaseLanding([asdict(report) for report in reports], {})
    if status.lag is None:
        landing.reasons.append(f"the landing group's offsets are unknown: {status.lag_error}")
        return landing
    landing.committed = {
        str(partition.partition): partition.committed or 0
        for partition in status.lag
        if partition.topic == CASE_REPORTS_TOPIC
    }
    pending = [report for report in reports if landing.committed.get(str(report.partition), 0) <= report.offset]
    if pending:
        where = ", ".join(f"a {report.kind} report at {report.partition}:{report.offset}" for report in pending)
        landing.reasons.append(f"not landed yet: {where}")
    return landing


def _coverage_path(settings: AirflowSettings, day: date) -> str:
    from tracelake.core.lake import Lake

    return Lake(settings.lake).manifest(ON_CASE_JOB, day)


def skip_if_covered(settings: AirflowSettings, day: date, reports: list[CaseReport]) -> None:
    """Skip the run when the last successful re-trace of D started after all its reports were landed."""
    from tracelake.core.lake import filesystem

    if not reports:
        return
    fs, path = filesystem(_coverage_path(settings, day))
    try:
        with fs.open_input_stream(path) as stream:
            record = json.loads(stream.read())
    except (FileNotFoundError, OSError):
        return
    read = {str(partition): int(offset) for partition, offset in record.get("case_reports_committed", {}).items()}
    if all(report.offset < read.get(str(report.partition), 0) for report in reports):
        raise AirflowSkipException(
            f"already traced: the re-trace of {day.isoformat()} by {record.get('run_id')} read the lake after "
            f"these {len(reports)} report(s) were landed"
        )


def record_coverage(settings: AirflowSettings, day: date, landing: Mapping[str, Any], run_id: str) -> str:
    """Write which case reports today's outputs include (the offsets seen before the trace read the lake)."""
    from tracelake.core.lake import filesystem, in_progress_name

    fs, path = filesystem(_coverage_path(settings, day))
    fs.create_dir(path.rpartition("/")[0], recursive=True)
    document = {
        "job": ON_CASE_JOB,
        "day": day.isoformat(),
        "run_id": run_id,
        "recorded_at": datetime.now(UTC).isoformat(),
        "case_reports_committed": dict(landing.get("committed", {})),
        "reports": list(landing.get("reports", [])),
    }
    temporary = in_progress_name(path)
    with fs.open_output_stream(temporary) as stream:
        stream.write((json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    fs.move(temporary, path)
    return path
