"""The steps of tracelake's DAGs: the stages' answers turned into Airflow outcomes (no DAG, no decision here).

What a step decides lives in its stage, testable without Airflow: whether D
is landed (`streams.coverage`), whether case reports are (`streams.case_landing`),
whether a re-trace would add nothing (`jobs.trace.case_coverage`), which day a
run traces (`tracelake.core.days`). This layer reads the Airflow context,
calls them, and answers in Airflow's terms: a sensor's `PokeReturnValue`, a
skip, a failure, asset events.

Every step starts by refusing to run without a pseudonymization key: the DAGs
are a service, and only local runs may generate a key. Failures that a retry
cannot fix (no key, a failed expectation suite) raise `AirflowFailException`
so the task fails at once with the reason instead of retrying; everything
else (a busy broker, a Spark hiccup) keeps the DAG's retries.

Heavy imports (pyspark, Great Expectations, duckdb, Kafka clients) happen
inside the functions, so parsing a DAG file stays fast and offline.
"""

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from airflow.sdk import Asset, PokeReturnValue
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from tracelake.airflow.launcher import AirflowSettings
from tracelake.core import days
from tracelake.core.rules import Rules, load_rules

if TYPE_CHECKING:
    from streams.case_landing import CaseReport

OWNER = "tracelake"
LANDING_RECHECK_SECONDS = 0.5
"""How often one poke of the on-case sensor asks again whether the lander has committed the reports."""

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
    from tracelake.core.duckdb_memory import limit_memory
    from tracelake.core.vault import VaultKeyError, resolve_key

    settings = AirflowSettings()
    try:
        resolve_key(settings, local_run=False)
    except VaultKeyError as refused:
        raise AirflowFailException(str(refused)) from refused
    limit_memory(settings.duckdb_memory_limit, settings.duckdb_spill_root)
    return settings, load_rules(settings.rules)


def start_date(settings: AirflowSettings, rules: Rules) -> datetime:
    """Midnight of `TRACELAKE_AIRFLOW_START_DATE` in the rules' zone (pendulum, as Airflow's timetables expect)."""
    import pendulum

    first = settings.airflow_start_date
    return pendulum.datetime(first.year, first.month, first.day, tz=rules.timezone)


def run_day(context: Mapping[str, Any], zone: ZoneInfo) -> date:
    """Day D of a scheduled, backfilled or manual run (`tracelake.core.days.run_day`), from the run's context."""
    return days.run_day(context.get("logical_date"), context["dag_run"].run_after, zone)


def today(context: Mapping[str, Any], zone: ZoneInfo) -> date:
    """The event-driven or manual run's day: the local day of the moment the run was queued (its `run_after`)."""
    return days.local_date(context["dag_run"].run_after, zone)


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


def wait_for_landing(settings: AirflowSettings, day: date, context: Mapping[str, Any]) -> PokeReturnValue:
    """One poke of the daily run's sensor (`streams.coverage`): log why D is not covered yet, and fail with
    that reason once the wait is over `landing_timeout_minutes`."""
    from streams.coverage import landing_coverage

    coverage = landing_coverage(settings, day)
    print(coverage.describe())
    if not coverage.covered:
        give_up_if_overdue(context, settings.landing_timeout_minutes, f"the landing of {day}", coverage.describe())
    return PokeReturnValue(is_done=coverage.covered, xcom_value=coverage.as_dict())


def validate_raw(settings: AirflowSettings, day: date) -> dict[str, Any]:
    """Run the raw suites against the lander's counts of D, recounted while it lands more of D meanwhile."""
    from jobs.validation import ValidationFailed
    from jobs.validation.raw import validate_raw_while_landing
    from streams.coverage import landed_rows

    try:
        report = validate_raw_while_landing(settings.lake, day, settings, lambda: landed_rows(settings, day))
    except ValidationFailed as failed:
        raise AirflowFailException(str(failed)) from failed
    return {"expectations": report.expectations, "rows": dict(report.rows), "docs": report.docs}


def trace(settings: AirflowSettings, rules: Rules, day: date, *, on_case: bool = False) -> dict[str, Any]:
    """Trace day D with TRACELAKE_TRACE_ENGINE (Spark on TRACELAKE_SPARK_MASTER by default) into a new run of D,
    held in the lake for the validation and the export; returns what it found.

    `on_case`: the event-driven run traces only the F0s confirmed since D's published trace, merged into its
    tables (`jobs.trace.on_case`), and D whole with the engine when that cannot be exact; the log says which.
    Its run replaces D's tables and the tracers' lists only (`jobs.publish.lists_first`): `publish_lists`
    publishes them, the export the rest.
    """
    from jobs.publish.lists_first import begin_lists_first
    from jobs.trace.day import begin_day, trace_day
    from jobs.trace.on_case import trace_on_case

    publication = begin_lists_first(settings.lake, day) if on_case else begin_day(settings.lake, day)
    arguments: dict[str, Any] = {
        "vault": settings.vault_location,
        "engine": settings.trace_engine,
        "spark_master": settings.spark_master,
        "spark_driver_memory": settings.spark_driver_memory,
        "into": publication,
        "earliest": settings.earliest_instant,
    }
    mode: dict[str, str] = {}
    if on_case:
        traced = trace_on_case(settings.lake, day, rules, **arguments)
        result, mode = traced.result, {"mode": traced.mode, "reason": traced.reason}
        print(f"on-case trace of {day.isoformat()}: {traced.mode} ({traced.reason})")
    else:
        result = trace_day(settings.lake, day, rules, **arguments)
    publication.hold()
    return {
        "day": result.day.isoformat(),
        "run": result.run,
        "rules_version": result.rules_version,
        "tiers": dict(result.tier_counts),
        "manifest": result.manifest,
        **mode,
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


def _capacity(settings: AirflowSettings) -> dict[str, int] | None:
    """Each district's calls a day from the settings' capacity file, if any."""
    from jobs.publish.capacity import CapacityError, read_capacity

    try:
        return read_capacity(settings.capacity) if settings.capacity else None
    except CapacityError as problem:
        raise AirflowFailException(str(problem)) from problem  # a retry reads the same file


def publish_lists(settings: AirflowSettings, rules: Rules, day: date) -> dict[str, Any]:
    """Publish the on-case run's validated tables of D with the tracers' lists built from them
    (`jobs.publish.lists_first`), before the export builds and publishes everything else; with no run held
    (a retry after publishing), the lists are built again from D's published tables."""
    from jobs.publication import held, recover
    from jobs.publish.lists_first import publish_lists as publish

    capacity = _capacity(settings)
    recover(settings.lake, day)
    publication, worklists = publish(settings.lake, day, rules, vault=settings.vault_location,
                                     publication=held(settings.lake, day), capacity=capacity)
    return {"day": day.isoformat(), "run": publication.run, "worklists": _worklist_summary(worklists),
            "published_at": datetime.now(UTC).isoformat()}


def export(settings: AirflowSettings, rules: Rules, day: date, outlet_events: Any) -> dict[str, Any]:
    """Publish day D the way `tracelake run` does: worklists, the province's outputs, the analysts' DuckDB
    file and the daily report, with the held run's tables (or D's published ones) all at once; then the
    assets' events, whose extra names the day."""
    from jobs.publication import held, recover
    from jobs.publish.day import export_day
    from tracelake.core.lake import PROVINCE_TABLES

    capacity = _capacity(settings)
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


def triggering_reports(context: Mapping[str, Any]) -> list["CaseReport"]:
    """The case reports behind this run's asset events; none for a manual run."""
    from streams.case_landing import CaseReport

    reports = []
    for events in context.get("triggering_asset_events", {}).values():
        for event in events:
            payload = (event.extra or {}).get("payload")
            if isinstance(payload, dict) and payload.get("partition") is not None:
                reports.append(
                    CaseReport(str(payload.get("kind")), int(payload["partition"]), int(payload["offset"]))
                )
    return reports


def wait_for_reports(
    settings: AirflowSettings, day: date, context: Mapping[str, Any], wait: timedelta,
    grace: timedelta = timedelta(0),
) -> PokeReturnValue:
    """One poke of the on-case run's sensor (`streams.case_landing`): done once the lander has landed the
    triggering reports, then skipped if an earlier re-trace of D already read them; fails when over `wait`.

    The trigger fires as soon as a report is in Kafka, usually a moment before the lander commits it: the
    poke asks again every `LANDING_RECHECK_SECONDS` for up to `grace` before it gives the worker slot back
    until the next poke."""
    from streams.case_landing import case_reports_landing

    reports = triggering_reports(context)
    until = time.monotonic() + grace.total_seconds()
    landed = case_reports_landing(settings, reports)
    while not landed.done and time.monotonic() < until:
        time.sleep(LANDING_RECHECK_SECONDS)
        landed = case_reports_landing(settings, reports)
    print(landed.describe())
    if landed.done:
        skip_if_covered(settings, day, reports)
    else:
        give_up_if_overdue(context, wait.total_seconds() / 60, "the reports to land", landed.describe())
    return PokeReturnValue(is_done=landed.done, xcom_value=landed.as_dict())


def skip_if_covered(settings: AirflowSettings, day: date, reports: Sequence["CaseReport"]) -> None:
    """Skip the run when the last successful re-trace of D read the lake after all its reports were landed."""
    from jobs.trace.case_coverage import already_traced

    reason = already_traced(settings.lake, day, reports)
    if reason is not None:
        raise AirflowSkipException(reason)


def record_coverage(settings: AirflowSettings, day: date, landing: Mapping[str, Any] | None, run_id: str) -> str:
    """Record which case reports D's outputs include, from the sensor's XCom (`CaseLanding.as_dict`)."""
    from jobs.trace.case_coverage import record_coverage as record

    landing = landing or {}
    return record(settings.lake, day, landing.get("committed", {}), landing.get("reports", []), run_id)


def staff_check(settings: AirflowSettings, rules: Rules, params: Mapping[str, Any], queued: date) -> dict[str, Any]:
    """Check an agency's roster (`jobs.staff_check`) for the day in `params`, else the day the run was
    `queued`; a file that is not a roster, or a day that is not one, fails at once with what to fix.
    The XCom carries counts only, never a name or a phone."""
    from jobs.staff_check import RosterError, StaffCheckError, check_staff
    from tracelake.core.vault import resolve_key

    try:
        day = days.parse_day(params["day"]) if params["day"] else queued
        result = check_staff(
            settings.lake, params["roster"], day, int(params["days"]), rules,
            key=resolve_key(settings, local_run=False), vault=settings.vault_location,
        )
    except (RosterError, StaffCheckError, ValueError) as problem:
        raise AirflowFailException(str(problem)) from problem
    for line in result.headline():
        print(line)
    return {
        "day": result.day.isoformat(), "rows": result.rows, "staff": result.staff,
        "duplicates": result.duplicates, "rejected": result.rejected, "checked_in": result.checked_in,
        "bluezone": result.bluezone, "neither": result.neither, "agencies": result.agencies,
    }
