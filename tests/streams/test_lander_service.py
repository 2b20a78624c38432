"""The lander as a service and as a fleet: waits for Kafka, lands once it is there, reports status."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import streams.lander
from streams.broker import EmbeddedBroker, free_port
from streams.fleet import land_in_parallel
from streams.lander import BrokerUnavailableError, land
from streams.landing_counts import LandingCounts
from streams.status import lake_status
from tests.streams.conftest import KEY, Landing, checkin, phone, sighting
from tests.streams.test_exactly_once import assert_exactly_once, end_offsets, publish_sightings
from tracelake.core.settings import Settings


def test_a_run_that_cannot_reach_kafka_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams.lander, "CONNECT_PATIENCE_S", 1.0)
    monkeypatch.setattr(streams.lander, "BOOTSTRAP_TIMEOUT_MS", 1000)
    settings = Settings(bootstrap_servers=f"127.0.0.1:{free_port()}", lake=str(tmp_path / "lake"))

    with pytest.raises(BrokerUnavailableError, match="did not answer"):
        land(settings, KEY.encode(), until_idle=True)


@pytest.mark.slow
def test_the_service_waits_for_kafka_and_loses_nothing(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(bootstrap_servers=f"127.0.0.1:{port}", lake=str(tmp_path / "run" / "lake"),
                        vault=str(tmp_path / "run" / "vault"), pseudonymization_key=KEY)
    stop = threading.Event()
    result: list[LandingCounts] = []
    service = threading.Thread(target=lambda: result.append(land(settings, KEY.encode(), False, stop_event=stop)))
    service.start()
    try:
        time.sleep(2)  # the lander retries with backoff meanwhile
        with EmbeddedBroker(port=port) as broker:
            (tmp_path / "run").mkdir(exist_ok=True)  # the lander vouched for its key in run/vault already
            landing = Landing(broker, tmp_path / "run")
            landing.settings = settings
            landing.write("checkins", [checkin(n, person=phone(n)) for n in range(200)])
            landing.publish()
            deadline = time.monotonic() + 60
            while landing.raw("checkins").num_rows < 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            stop.set()
            service.join(30)
    finally:
        stop.set()
        service.join(30)
    assert not service.is_alive()
    assert result and result[0].landed == {"checkins": 200}


@pytest.mark.slow
def test_a_fleet_of_processes_lands_everything_once(landing: Landing) -> None:
    sent = publish_sightings(landing, 20_000)

    counts = land_in_parallel(landing.settings, KEY.encode(), until_idle=True, members=2)

    assert counts.total_landed + counts.total_quarantined == sent
    assert_exactly_once(landing, end_offsets(landing))


@pytest.mark.slow
def test_the_cli_lands_with_one_process_per_member(landing: Landing) -> None:
    sent = publish_sightings(landing, 5_000)

    done = subprocess.run(
        [sys.executable, "-m", "tracelake", "land", "--until-idle", "--members", "2"],
        env=landing.env(COLUMNS="200"), capture_output=True, text=True, timeout=300, check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    landed = landing.raw("proximity").num_rows
    quarantined = landing.quarantine("proximity").num_rows
    assert landed + quarantined == sent
    assert f"proximity: {landed:,} landed, {quarantined:,} quarantined" in done.stdout
    assert_exactly_once(landing, end_offsets(landing))
    refused = subprocess.run(
        [sys.executable, "-m", "tracelake", "land", "--members", "0"],
        env=landing.env(COLUMNS="200"), capture_output=True, text=True, timeout=60, check=False,
    )
    assert refused.returncode == 2 and "Traceback" not in refused.stdout + refused.stderr


def test_status_counts_rows_files_and_lag(landing: Landing) -> None:
    landing.write("checkins", [checkin(n, person=phone(n)) for n in range(30)] + [b"bad"])
    landing.write("proximity", [sighting(n) for n in range(12)])
    landing.publish()
    landing.land()

    status = lake_status(landing.settings)

    by_topic = {(row.topic, row.day.isoformat()): row for row in status.days}
    checkins = by_topic[("checkins", "2021-08-03")]
    assert (checkins.landed, checkins.quarantined) == (30, 0)
    assert sum(row.quarantined for row in status.days if row.topic == "checkins") == 1
    assert sum(row.files for row in status.days) == len(landing.files("raw", "checkins")) + len(
        landing.files("raw", "proximity")) + len(landing.files("quarantine", "checkins"))
    assert status.lag is not None and status.lag_error is None
    assert {lag.topic for lag in status.lag} == {"checkins", "proximity", "case_reports", "venues"}
    assert all(lag.lag == 0 for lag in status.lag)
    assert sum(lag.end for lag in status.lag if lag.topic == "checkins") == 31

    landing.write("checkins", [checkin(100)])
    landing.events_dir.joinpath("proximity.jsonl").unlink()
    for path in landing.events_dir.glob("checkins.jsonl"):
        path.write_bytes(path.read_bytes().splitlines(keepends=True)[-1])
    landing.publish()
    behind = lake_status(landing.settings)
    assert behind.lag is not None and sum(lag.lag for lag in behind.lag) == 1


def test_status_without_kafka_still_reads_the_lake(tmp_path: Path) -> None:
    status = lake_status(Settings(bootstrap_servers=None, lake=str(tmp_path / "lake")))
    assert status.days == [] and status.lag is None and status.lag_error
