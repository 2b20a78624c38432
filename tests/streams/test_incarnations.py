"""The lake only grows: a new broker, or topics deleted and created again, land beside what is there."""

import threading
import time
from pathlib import Path

import pyarrow.dataset as ds
from kafka import KafkaAdminClient

from schemas import TOPICS
from streams.broker import EmbeddedBroker
from streams.incarnations import Incarnations
from streams.lander import land
from streams.topics import ensure_topics
from tests.streams.conftest import KEY, Landing, checkin, lake_event_id, phone, sighting
from tracelake.core.lake import parse_segment_file_name


def _snapshot(root: Path) -> dict[Path, bytes]:
    """Every data file under the lake and the vault, with its bytes."""
    return {path: path.read_bytes() for path in root.rglob("*.parquet")}


def _incarnations(paths: list[Path]) -> set[str | None]:
    names = [parse_segment_file_name(path.name) for path in paths]
    return {name.incarnation for name in names if name is not None}


def _publish(landing: Landing, start: int) -> None:
    """Publish 300 check-ins and 300 sightings numbered from `start` (offsets start wherever the topic is)."""
    for topic in ("checkins", "proximity"):
        (landing.events_dir / f"{topic}.jsonl").unlink(missing_ok=True)
    landing.write("checkins", [checkin(n, person=phone(n % 50)) for n in range(start, start + 300)])
    landing.write("proximity", [sighting(n, reporter=phone(n % 50), contact=phone(n % 50 + 1))
                                for n in range(start, start + 300)])
    landing.publish()


def _round(landing: Landing, start: int) -> None:
    _publish(landing, start)
    landing.land()


def _lives(bootstrap: str) -> dict[str, str]:
    lives = Incarnations(bootstrap)
    try:
        return lives.current(TOPICS)
    finally:
        lives.close()


def _create_topics_again(bootstrap: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_topics(list(TOPICS))
        deadline = time.monotonic() + 30
        while set(admin.list_topics()) & set(TOPICS):
            assert time.monotonic() < deadline, "the topics were not deleted"
            time.sleep(0.1)
    finally:
        admin.close()
    ensure_topics(bootstrap, 4)


def _assert_grew(landing: Landing, before: dict[Path, bytes], rounds: int) -> None:
    """Every earlier file kept its bytes; each round landed whole, under a life of its own; the vault knows all."""
    after = _snapshot(landing.root)
    changed = sorted(str(path.relative_to(landing.root)) for path in before if after.get(path) != before[path])
    assert not changed, f"files of an earlier round removed or overwritten: {changed[:5]}"
    assert len(after) > len(before)
    for topic, prefix in (("checkins", "c-"), ("proximity", "p-")):
        event_ids = landing.raw(topic)["event_id"].to_pylist()
        assert sorted(event_ids) == sorted(lake_event_id(f"{prefix}{n}") for n in range(300 * rounds)), topic
        incarnations = _incarnations(landing.files("raw", topic))
        assert len(incarnations) == rounds and None not in incarnations, incarnations
    vault = ds.dataset(landing.root / "vault" / "identities", format="parquet").to_table()
    assert set(vault["person_id"].to_pylist()) == {f"+849{n:08d}" for n in range(51)}
    assert _incarnations(sorted((landing.root / "vault" / "identities").iterdir())) <= _incarnations(
        landing.files("raw", "checkins") + landing.files("raw", "proximity")
    )


def test_a_lander_on_a_new_broker_lands_beside_the_last_ones_files(landing: Landing) -> None:
    _round(landing, 0)
    before = _snapshot(landing.root)
    assert before

    with EmbeddedBroker(partitions=4) as second:
        landing.broker = second
        landing.settings = landing.settings.model_copy(update={"bootstrap_servers": second.bootstrap})
        _round(landing, 300)

    _assert_grew(landing, before, rounds=2)


def test_topics_deleted_and_created_again_land_beside_their_last_life(landing: Landing) -> None:
    bootstrap = landing.broker.bootstrap
    _round(landing, 0)
    first_life = _lives(bootstrap)
    assert _lives(bootstrap) == first_life  # every member and restart names the same life
    before = _snapshot(landing.root)

    _create_topics_again(bootstrap)
    second_life = _lives(bootstrap)
    assert all(second_life[topic] != first_life[topic] for topic in TOPICS)

    _round(landing, 300)
    _assert_grew(landing, before, rounds=2)


def test_a_running_lander_lands_topics_created_again_under_it_from_their_start(landing: Landing) -> None:
    """The consumer would go on at its old position in the new topics, skipping their first records."""
    stop = threading.Event()
    service = threading.Thread(target=lambda: land(landing.settings, KEY.encode(), False, stop_event=stop))
    service.start()
    try:
        _publish(landing, 0)
        _wait_for(landing, 300)
        before = _snapshot(landing.root)
        _create_topics_again(landing.broker.bootstrap)
        _publish(landing, 300)
        _wait_for(landing, 600)
    finally:
        stop.set()
        service.join(60)
    assert not service.is_alive()
    _assert_grew(landing, before, rounds=2)


def _wait_for(landing: Landing, rows: int, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while min(landing.raw("checkins").num_rows, landing.raw("proximity").num_rows) < rows:
        assert time.monotonic() < deadline, f"fewer than {rows} rows landed in {timeout_s:.0f} s"
        time.sleep(0.2)
