"""
### tracelake on case: re-trace today when a case is confirmed or discarded

Event-driven: an `AssetWatcher` runs the Kafka provider's message-queue
trigger on the `case_reports` topic (connection `kafka_default`, e.g.
`AIRFLOW_CONN_KAFKA_DEFAULT` with `bootstrap.servers`, `group.id`,
`auto.offset.reset`). Its filter, `tracelake.airflow.launcher.case_decision`,
judges each message by the contract and fires only for a valid `confirmed` or
`discarded` report; `isolated` reports and malformed messages are skipped.
The asset event carries where the report sits in Kafka, never who it is about.

Each run re-traces the **current local day** (the day, in the rules' zone, of
the moment the run was queued), validates the outputs and exports them like
the daily run does. The trace is incremental (`jobs.trace.on_case`): when all
that changed since the day's published trace is newly confirmed F0s, only
their people are traced, in DuckDB on the worker, and merged into the day's
published tables, with the same rows a full re-trace gives; otherwise (a
`discarded` report, stays or sightings landed since, other rules, no trace
of the day yet) the day is traced whole with the configured engine. The task
log and the trace manifest's `on_case` entry say which, and why. The raw suites stay with the daily run: today's
partitions are still growing, so their counts would race the lander.

The tracers' lists come first (`jobs.publish.lists_first`): once the new
tables pass validation, **publish_lists** publishes them with the day's diff,
worklists and notification lists made from them; **export** then builds and
publishes everything else (province tables, reports, the analysts' file) from
those published tables. Until it does, those outputs are the previous run's.

Coalescing, so a burst of reports costs one or two traces, not one each:

* `max_active_runs=1`: reports arriving while a re-trace runs queue up as one
  pending run (Airflow keeps one queue entry per asset and DAG).
* **wait_for_reports**: waits until the lander has committed past every
  triggering report (the trigger fires a moment before that commit, so a poke
  asks again every half second for 5 s before it waits for the next poke,
  10 s on), then skips the whole run if the last successful re-trace
  of the day already read them: each successful run records the lander's
  committed offsets taken *before* its trace read the lake
  (`manifests/on_case/date=D/manifest.json`).
"""

from datetime import timedelta
from typing import Any

from airflow.providers.apache.kafka.triggers.msg_queue import KafkaMessageQueueTrigger
from airflow.sdk import Asset, AssetWatcher, PokeReturnValue, chain, dag, get_current_context, task

import tracelake.airflow.tasks as steps
from tracelake.airflow.launcher import CASE_REPORTS_TOPIC, KAFKA_CONNECTION_ID

SETTINGS, RULES = steps.parse_settings()
REPORT_POKE_SECONDS = 10.0
REPORT_WAIT = timedelta(minutes=30)
REPORT_GRACE = timedelta(seconds=5)
"""How long one poke waits for the lander's commit of reports the trigger saw a moment earlier."""

CASE_DECISIONS = Asset(
    name="tracelake_case_decisions",
    uri="tracelake://case-decisions",
    watchers=[
        AssetWatcher(
            name="tracelake_case_reports_watcher",
            trigger=KafkaMessageQueueTrigger(
                topics=[CASE_REPORTS_TOPIC],
                kafka_config_id=KAFKA_CONNECTION_ID,
                apply_function="tracelake.airflow.launcher.case_decision",
                poll_timeout=1,
                poll_interval=0.01,
            ),
        )
    ],
)


@dag(
    dag_id="tracelake_on_case",
    schedule=[CASE_DECISIONS],
    start_date=steps.start_date(SETTINGS, RULES),
    catchup=False,
    max_active_runs=1,
    default_args=steps.default_args(),
    tags=["tracelake", "event-driven", "kafka", "spark"],
    doc_md=__doc__,
)
def tracelake_on_case() -> None:
    @task.sensor(poke_interval=REPORT_POKE_SECONDS, timeout=REPORT_WAIT.total_seconds() + 60, mode="reschedule")
    def wait_for_reports() -> PokeReturnValue:
        """Wait for the lander to land the triggering reports; skip if an earlier re-trace already read them."""
        settings, rules = steps.service_settings()
        context = get_current_context()
        return steps.wait_for_reports(settings, steps.today(context, rules.zone), context, REPORT_WAIT, REPORT_GRACE)

    @task(execution_timeout=timedelta(hours=1))
    def trace() -> dict[str, Any]:
        """Trace today's new F0s into its published tables (today whole when that cannot be exact)."""
        settings, rules = steps.service_settings()
        return steps.trace(settings, rules, steps.today(get_current_context(), rules.zone), on_case=True)

    @task
    def validate_outputs() -> dict[str, Any]:
        settings, rules = steps.service_settings()
        return steps.validate_outputs(settings, rules, steps.today(get_current_context(), rules.zone))

    @task
    def publish_lists() -> dict[str, Any]:
        """Publish today's validated tables with the tracers' worklists and notification lists made from them."""
        settings, rules = steps.service_settings()
        return steps.publish_lists(settings, rules, steps.today(get_current_context(), rules.zone))

    @task(outlets=steps.EXPORT_ASSETS)
    def export() -> dict[str, Any]:
        """Build and publish the rest of today from its published tables, then record which reports this
        re-trace covered (for the next run's skip)."""
        settings, rules = steps.service_settings()
        context = get_current_context()
        day = steps.today(context, rules.zone)
        published = steps.export(settings, rules, day, context["outlet_events"])
        steps.record_coverage(settings, day, context["ti"].xcom_pull(task_ids="wait_for_reports"), context["run_id"])
        return published

    chain(wait_for_reports(), trace(), validate_outputs(), publish_lists(), export())


DAG = tracelake_on_case()
