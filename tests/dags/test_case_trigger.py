"""The case-report trigger: its filter on its own, then the provider's trigger against a real broker."""

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tracelake.airflow.launcher import case_decision

CONFIRMED = {
    "event_id": "cr-confirmed-1", "person_id": "0912 345 678", "kind": "confirmed",
    "reported_at": "2021-08-03T09:00:00+07:00", "sample_date": "2021-08-02",
}
DISCARDED = {
    "event_id": "cr-discarded-1", "person_id": "+84912345678", "kind": "discarded",
    "reported_at": "2021-08-04T09:00:00+07:00",
}
ISOLATED = {
    "event_id": "cr-isolated-1", "person_id": "0912345678", "kind": "isolated",
    "reported_at": "2021-08-03T08:00:00+07:00", "isolated_at": "2021-08-03T07:30:00+07:00",
}


@dataclass
class FakeMessage:
    """The four methods of confluent-kafka's Message that the filter reads."""

    payload: bytes | None
    at: int = 7

    def value(self) -> bytes | None:
        return self.payload

    def topic(self) -> str:
        return "case_reports"

    def partition(self) -> int:
        return 1

    def offset(self) -> int:
        return self.at


def _message(event: dict[str, Any]) -> FakeMessage:
    return FakeMessage(json.dumps(event).encode())


def test_confirmed_and_discarded_reports_start_a_retrace_and_say_where_they_are() -> None:
    payload = case_decision(_message(CONFIRMED))
    assert payload == {
        "kind": "confirmed", "reported_at": "2021-08-03T02:00:00+00:00",
        "topic": "case_reports", "partition": 1, "offset": 7,
    }
    assert case_decision(_message(DISCARDED))["kind"] == "discarded"  # type: ignore[index]


@pytest.mark.parametrize(
    "payload",
    [
        json.dumps(ISOLATED).encode(),
        b"{not json",
        None,
        b"[1, 2]",
        json.dumps({**CONFIRMED, "sample_date": None}).encode(),
        json.dumps({**CONFIRMED, "person_id": "not a phone"}).encode(),
        json.dumps({**CONFIRMED, "reported_at": "2021-08-03T09:00:00"}).encode(),
        json.dumps({**CONFIRMED, "kind": "recovered"}).encode(),
    ],
    ids=["isolated", "not-json", "tombstone", "not-an-object", "no-sample-date", "bad-id", "no-offset", "unknown-kind"],
)
def test_everything_else_is_skipped(payload: bytes | None) -> None:
    assert case_decision(FakeMessage(payload)) is None


@pytest.fixture(scope="module")
def kafka_bootstrap() -> Iterator[str]:
    from streams.broker import EmbeddedBroker

    with EmbeddedBroker(partitions=2) as broker:
        yield broker.bootstrap


@pytest.mark.slow
def test_the_trigger_fires_on_a_confirmed_report_from_the_broker_and_not_on_an_isolated_one(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same key, so one partition and this order: the isolated report is read first and must not fire."""
    from kafka import KafkaProducer

    monkeypatch.setenv("AIRFLOW_CONN_KAFKA_DEFAULT", json.dumps({"conn_type": "kafka", "extra": {
        "bootstrap.servers": kafka_bootstrap, "group.id": "tracelake-case-trigger-test",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    }}))
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for event in (ISOLATED, {"garbage": True}, CONFIRMED):
        producer.send("case_reports", key=b"+84912345678", value=json.dumps(event).encode())
    producer.flush()
    producer.close()

    module = _case_dag_module()
    (watcher,) = module.CASE_DECISIONS.watchers
    trigger = watcher.trigger

    async def first_event() -> Any:
        try:
            async for event in trigger.run():
                return event
        finally:
            await trigger.trigger.cleanup()
        return None

    event = asyncio.run(asyncio.wait_for(first_event(), timeout=120))
    assert "event_id" not in event.payload and "cr-confirmed-1" not in json.dumps(event.payload)
    assert event.payload["kind"] == "confirmed"
    assert event.payload["offset"] == 2, "the isolated report (offset 0) and the garbage (1) were read first"


def _case_dag_module() -> Any:
    from tests.dags.airflow_env import load_dag_module

    assert os.environ.get("AIRFLOW_HOME"), "tests/dags/conftest.py sets up Airflow"
    return load_dag_module("tracelake_on_case")
