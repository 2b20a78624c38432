"""
### tracelake daily: validate, trace and export one local day

Runs once per local day D of the rules' time zone (`Asia/Ho_Chi_Minh` by
default), after D has ended. D is the run's **logical date** in that zone, so a
backfilled or re-run day traces the same D whatever the wall clock says.

1. **wait_for_landing**: D has ended, and on every partition of the traced
   topics the lander has either caught up (lag 0) or already landed events of
   a later day (its watermark passed the end of D). D needs no files of its
   own: a day without check-ins or sightings is traced too (its lookback can
   hold F1s). Logs why not at each poke; fails with that reason after
   `TRACELAKE_LANDING_TIMEOUT_MINUTES`.
2. **validate_raw**: Great Expectations suites of D's check-ins, sightings and
   case reports, and of the landing itself (files vs the lander's counts,
   quarantined share under `TRACELAKE_QUARANTINE_CEILING`).
3. **trace**: `jobs.trace.day.trace_day` with Spark (`TRACELAKE_SPARK_MASTER`).
4. **validate_outputs**: suites of the curated tables and the tracers' export
   of the run the trace staged; a failure withholds the run, never published.
5. **export**: as `tracelake run` does: district worklists, the province's
   notices, compliance, coverage, venue risk and map, the analysts' DuckDB
   file and the daily report; publishes the `tracelake_exposures_export`,
   `tracelake_worklists`, `tracelake_analyst_db` and `tracelake_daily_report`
   assets (event extra: `{"day": D}`).
6. **purge**: retention (`retention_days` of the rules, D included): deletes
   raw events, quarantine, curated tables, validation results, exports and
   quarantined payloads of the days before D's window, carries forward the
   check-ins and case reports a day inside it still needs, prunes the identity
   vault, and records counts and days under `<lake>/manifests/purge/`.

The tasks hand each other nothing but the lake: the trace stages a run of D
and holds it there, the validation and the export find it, and the export
publishes all of D at once (`jobs.publication`); any task can be cleared and
re-run alone (with no held run, they work on D as published); XComs only
carry a summary for the UI. A failed suite fails its task at once (no retry can fix
data) with each broken expectation and its bad rows' count; the Data Docs are
under `<lake>/validation/date=D/index.html`. Every task refuses to run
without `TRACELAKE_PSEUDONYMIZATION_KEY`.
"""

from datetime import timedelta
from typing import Any

from airflow.sdk import CronDataIntervalTimetable, PokeReturnValue, chain, dag, get_current_context, task

import tracelake.airflow.tasks as steps

SETTINGS, RULES = steps.parse_settings()
LANDING_TIMEOUT_SECONDS = 60 * SETTINGS.landing_timeout_minutes + 2 * SETTINGS.landing_poke_seconds
"""Airflow's own limit, a little after ours: `give_up_if_overdue` fails first, with the reason."""


@dag(
    dag_id="tracelake_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=RULES.timezone),
    start_date=steps.start_date(SETTINGS, RULES),
    catchup=SETTINGS.airflow_catchup,
    max_active_runs=1,
    default_args=steps.default_args(),
    tags=["tracelake", "daily", "validation", "spark"],
    doc_md=__doc__,
)
def tracelake_daily() -> None:
    @task.sensor(poke_interval=SETTINGS.landing_poke_seconds, timeout=LANDING_TIMEOUT_SECONDS, mode="reschedule")
    def wait_for_landing() -> PokeReturnValue:
        """Poke the lander's status; log why D is not covered yet, and fail with that reason when overdue."""
        settings, rules = steps.service_settings()
        context = get_current_context()
        return steps.wait_for_landing(settings, steps.run_day(context, rules.zone), context)

    @task
    def validate_raw() -> dict[str, Any]:
        """The raw suites, against the counts the lander reports for D."""
        settings, rules = steps.service_settings()
        return steps.validate_raw(settings, steps.run_day(get_current_context(), rules.zone))

    @task(execution_timeout=timedelta(hours=2))
    def trace() -> dict[str, Any]:
        settings, rules = steps.service_settings()
        return steps.trace(settings, rules, steps.run_day(get_current_context(), rules.zone))

    @task
    def validate_outputs() -> dict[str, Any]:
        settings, rules = steps.service_settings()
        return steps.validate_outputs(settings, rules, steps.run_day(get_current_context(), rules.zone))

    @task(outlets=steps.EXPORT_ASSETS)
    def export() -> dict[str, Any]:
        settings, rules = steps.service_settings()
        context = get_current_context()
        return steps.export(settings, rules, steps.run_day(context, rules.zone), context["outlet_events"])

    @task
    def purge() -> dict[str, Any]:
        settings, rules = steps.service_settings()
        return steps.purge(settings, rules, steps.run_day(get_current_context(), rules.zone))

    chain(wait_for_landing(), validate_raw(), trace(), validate_outputs(), export(), purge())


DAG = tracelake_daily()
