"""The embedded broker: starts, answers, creates the contract topics, stops without leaving a process."""

import os
import threading
import time

import pytest
from kafka import KafkaAdminClient

from schemas import TOPICS
from streams.broker import BrokerError, EmbeddedBroker, answers, bootstrap_servers, serve_broker
from streams.topics import ensure_topics
from tracelake.core.settings import Settings


def _partitions(bootstrap: str) -> dict[str, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return {topic["name"]: len(topic["partitions"]) for topic in admin.describe_topics(list(TOPICS))}
    finally:
        admin.close()


def test_starts_with_the_contract_topics_and_stops_cleanly() -> None:
    with EmbeddedBroker(partitions=3) as broker:
        pid = broker._process.pid if broker._process else None
        assert answers(broker.bootstrap)
        assert _partitions(broker.bootstrap) == dict.fromkeys(TOPICS, 3)
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not answers(broker.bootstrap, timeout_s=0.5)


def test_stops_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"), EmbeddedBroker() as broker:
        bootstrap = broker.bootstrap
        raise RuntimeError("boom")
    assert not answers(bootstrap, timeout_s=0.5)


def test_ensure_topics_only_creates_what_is_missing(fresh_broker: EmbeddedBroker) -> None:
    assert ensure_topics(fresh_broker.bootstrap, 8) == []
    assert _partitions(fresh_broker.bootstrap)["venues"] == 4


def test_a_taken_port_is_a_clear_error(fresh_broker: EmbeddedBroker) -> None:
    with pytest.raises(BrokerError, match=f"port {fresh_broker.port}"):
        EmbeddedBroker(port=fresh_broker.port).start()


def test_a_missing_binary_is_a_clear_error(tmp_path: object) -> None:
    with pytest.raises(BrokerError, match="not an executable"):
        EmbeddedBroker(broker_bin="/nonexistent/tansu")


def test_the_binary_users_set_reaches_the_broker_through_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACELAKE_BROKER_BIN", "/nonexistent/tansu")
    EmbeddedBroker()  # the broker reads no environment: only what it is handed
    with (
        pytest.raises(BrokerError, match="TRACELAKE_BROKER_BIN='/nonexistent/tansu' is not an executable"),
        bootstrap_servers(Settings(bootstrap_servers=None)),
    ):
        pass


def test_bootstrap_servers_prefers_the_configured_cluster(fresh_broker: EmbeddedBroker) -> None:
    with bootstrap_servers(Settings(bootstrap_servers=fresh_broker.bootstrap)) as bootstrap:
        assert bootstrap == fresh_broker.bootstrap
    with bootstrap_servers(Settings(bootstrap_servers=None)) as bootstrap:
        assert bootstrap != fresh_broker.bootstrap
        assert answers(bootstrap)
    assert not answers(bootstrap, timeout_s=0.5)


def test_serve_broker_runs_until_stopped() -> None:
    stop = threading.Event()
    announced: list[str] = []
    server = threading.Thread(target=serve_broker, kwargs={"announce": announced.append, "stop_event": stop})
    server.start()
    try:
        deadline = time.monotonic() + 10
        while not announced and time.monotonic() < deadline:
            time.sleep(0.05)
        assert announced and "TRACELAKE_BOOTSTRAP_SERVERS=" in announced[0]
        bootstrap = announced[0].split("TRACELAKE_BOOTSTRAP_SERVERS=")[1].split()[0]
        assert answers(bootstrap)
    finally:
        stop.set()
        server.join(10)
    assert not server.is_alive()
    assert not answers(bootstrap, timeout_s=0.5)
