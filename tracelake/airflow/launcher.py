"""Airflow on one machine for tracelake: `airflow standalone` over the repo's `dags/`, with our settings.

Airflow reads its own `AIRFLOW__*` variables; tracelake reads `TRACELAKE_*`.
This module is where the two meet, so neither the DAGs nor the Makefile repeat
paths or connection flags. It also holds the two things Airflow processes
import from us outside a DAG file: `AirflowSettings` (the DAGs' few knobs,
read from `TRACELAKE_*` like every other setting) and `case_decision`, the
triggerer's filter for case reports. The triggerer does not put `dags/` on its
import path, so that filter must live in an installed package.

Importing this module is cheap: no Airflow, no Spark, no Kafka client.
"""

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from schemas import CASE_REPORTS_TOPIC
from tracelake.core.events import Accepted, judge
from tracelake.core.settings import Settings
from tracelake.core.vault import resolve_key

DECISION_KINDS = frozenset({"confirmed", "discarded"})
"""Reports that change who is an F0, so change who is exposed; `isolated` only shortens windows."""

KAFKA_CONNECTION_ID = "kafka_default"


class AirflowSettings(Settings):
    """Settings the DAGs and the launcher need on top of the shared ones (same `TRACELAKE_` prefix)."""

    airflow_home: str = "airflow-home"
    """Airflow's home (metadata DB, logs, generated admin password); relative to the working directory."""
    airflow_catchup: bool = False
    """Whether the daily DAG runs every missed day since `airflow_start_date` when it is switched on."""
    airflow_start_date: date = date(2021, 8, 1)
    """The first local day the daily DAG may trace."""
    landing_timeout_minutes: float = 360.0
    """How long the daily DAG waits for the lander to cover day D before failing with the reason."""
    landing_poke_seconds: float = 60.0
    case_trigger_group: str = "tracelake-case-trigger"
    """The Kafka consumer group of the case-report trigger; never the lander's group."""
    case_trigger_offset_reset: str = "latest"
    """Where a brand-new trigger group starts: `latest` reacts to new reports only (the daily run covers history)."""


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def dags_folder() -> Path:
    """The repo's `dags/` (the project is installed editable; the DAG files are not package data)."""
    return repo_root() / "dags"


def _absolute(location: str) -> str:
    return location if "://" in location else str(Path(location).resolve())


def kafka_connection(settings: AirflowSettings) -> str | None:
    """`AIRFLOW_CONN_KAFKA_DEFAULT` for the case-report trigger, or None without a configured cluster."""
    if not settings.bootstrap_servers:
        return None
    extra = {
        "bootstrap.servers": settings.bootstrap_servers,
        "group.id": settings.case_trigger_group,
        "auto.offset.reset": settings.case_trigger_offset_reset,
        "enable.auto.commit": False,
    }
    return json.dumps({"conn_type": "kafka", "extra": extra})


def tracelake_environment(settings: AirflowSettings) -> dict[str, str]:
    """Every set `TRACELAKE_*` value, with local paths made absolute (Airflow's processes run elsewhere)."""
    values: dict[str, Any] = settings.model_dump(exclude_none=True)
    values["lake"] = _absolute(settings.lake)
    values["vault"] = _absolute(settings.vault_location)
    values["airflow_home"] = _absolute(settings.airflow_home)
    if settings.rules:
        values["rules"] = _absolute(settings.rules)
    environment: dict[str, str] = {}
    for name, value in values.items():
        if name == "pseudonymization_key":
            value = settings.pseudonymization_key.get_secret_value() if settings.pseudonymization_key else None
        if value is None:
            continue
        environment[f"TRACELAKE_{name.upper()}"] = value.isoformat() if isinstance(value, date) else str(value)
    return environment


def airflow_environment(settings: AirflowSettings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment `airflow standalone` runs with: ours on top of `base` (default: this process's)."""
    environment = dict(os.environ if base is None else base)
    environment.update(tracelake_environment(settings))
    environment["AIRFLOW_HOME"] = _absolute(settings.airflow_home)
    environment["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder())
    environment["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    environment.setdefault("AIRFLOW__CORE__DEFAULT_TIMEZONE", settings.timezone)
    environment.setdefault("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "True")
    connection = kafka_connection(settings)
    if connection is not None:
        environment.setdefault("AIRFLOW_CONN_KAFKA_DEFAULT", connection)
    return environment


def airflow_settings(settings: Settings | None = None) -> AirflowSettings:
    """The shared settings plus the Airflow ones (from `TRACELAKE_*`); values already in `settings` win."""
    if isinstance(settings, AirflowSettings):
        return settings
    if settings is None:
        return AirflowSettings()
    return AirflowSettings(**settings.model_dump(exclude_unset=True))


def run_standalone(settings: Settings | None = None) -> int:
    """Run `airflow standalone` (scheduler, triggerer, DAG processor, API server) until interrupted.

    Refuses to start without `TRACELAKE_PSEUDONYMIZATION_KEY`: the DAGs are a
    service, and a service never generates its own key. Returns Airflow's exit code.
    """
    settings = airflow_settings(settings)
    resolve_key(settings, local_run=False)
    environment = airflow_environment(settings)
    Path(environment["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    if "AIRFLOW_CONN_KAFKA_DEFAULT" not in environment:
        print(
            "tracelake airflow: no TRACELAKE_BOOTSTRAP_SERVERS, so the case-report trigger of "
            "tracelake_on_case has no Kafka connection; the daily DAG still runs.",
            file=sys.stderr,
        )
    command = [sys.executable, "-m", "airflow", "standalone"]
    return subprocess.run(command, env=environment, check=False).returncode


class KafkaMessage(Protocol):
    """The part of confluent-kafka's `Message` the trigger hands to `case_decision`."""

    def value(self) -> bytes | None: ...
    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...


def case_decision(message: KafkaMessage) -> dict[str, Any] | None:
    """The trigger's `apply_function`: a payload for a valid `confirmed`/`discarded` report, else None.

    Judged by the same contract as the lander, so a report the lander will
    quarantine never starts a re-trace. The payload says where the report sits
    in Kafka (the DAG waits until the lander has landed that offset) and never
    who it is about, nor the producer's event_id (a producer may spell a phone
    number in it): asset events live in Airflow's database.
    """
    landed_at_us = time.time_ns() // 1000
    verdict = judge(CASE_REPORTS_TOPIC, message.value(), landed_at_us)
    if not isinstance(verdict, Accepted) or verdict.record["kind"] not in DECISION_KINDS:
        return None
    reported_at = datetime.fromtimestamp(verdict.record["reported_at"] / 1_000_000, tz=UTC)
    return {
        "kind": verdict.record["kind"],
        "reported_at": reported_at.isoformat(),
        "topic": message.topic() or CASE_REPORTS_TOPIC,
        "partition": message.partition(),
        "offset": message.offset(),
    }
