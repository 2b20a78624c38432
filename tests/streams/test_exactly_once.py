"""Crashes, kills, rebalances and SIGTERM never duplicate nor lose a record in the lake."""

import collections
import os
import signal
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import CommitFailedError
from kafka.structs import OffsetAndMetadata

from streams.lander import Lander
from streams.landing_counts import LandingCounts
from streams.landing_files import LakeSink
from streams.segments import ClosedSegment, SegmentLimits
from tests.streams.conftest import KEY, Landing, phone, sighting

SMALL = SegmentLimits(max_records=2_000, chunk_records=500)


def publish_sightings(landing: Landing, count: int, malformed_every: int = 97) -> int:
    """`count` small sightings (one in `malformed_every` malformed) over many reporters."""
    events: list[object] = []
    for number in range(count):
        if number % malformed_every == 0:
            events.append(b'{"event_id": "broken-%d"' % number)
        else:
            events.append(sighting(number, reporter=phone(number % 997), contact=phone(number % 997 + 1)))
    landing.write("proximity", events)
    return landing.publish()["proximity"]


def end_offsets(landing: Landing) -> dict[int, int]:
    """The true end offset of every proximity partition, read off the records themselves.

    Not ListOffsets: Tansu answers it with the last batch's base offset + 1.
    """
    consumer = KafkaConsumer(bootstrap_servers=landing.broker.bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition("proximity", p) for p in sorted(consumer.partitions_for_topic("proximity"))]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    ends = dict.fromkeys(range(len(partitions)), 0)
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 1.0:
        batches = consumer.poll(timeout_ms=200)
        if batches:
            quiet_since = time.monotonic()
        for tp, records in batches.items():
            ends[tp.partition] = records[-1].offset + 1
    consumer.close()
    return ends


def committed_offsets(landing: Landing) -> dict[int, int]:
    admin = KafkaAdminClient(bootstrap_servers=landing.broker.bootstrap)
    try:
        offsets = admin.list_group_offsets(landing.settings.consumer_group)[landing.settings.consumer_group]
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == "proximity"}


def assert_exactly_once(landing: Landing, upto: dict[int, int]) -> None:
    """Every offset below `upto[partition]` is in the lake once, raw or quarantined, and nothing else is."""
    raw, quarantine = landing.raw("proximity"), landing.quarantine("proximity")
    seen = collections.Counter(
        zip(raw["kafka_partition"].to_pylist() + quarantine["kafka_partition"].to_pylist(),
            raw["kafka_offset"].to_pylist() + quarantine["kafka_offset"].to_pylist(), strict=True)
    )
    duplicates = {key: times for key, times in seen.items() if times > 1}
    assert not duplicates, f"{len(duplicates)} offsets landed more than once, e.g. {list(duplicates)[:5]}"
    expected = {(partition, offset) for partition, end in upto.items() for offset in range(end)}
    assert set(seen) == expected, f"missing {len(expected - set(seen))}, unexpected {len(set(seen) - expected)}"


def wait_for_files(landing: Landing, at_least: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while len(landing.files("raw", "proximity")) < at_least:
        assert time.monotonic() < deadline, "the lander wrote no files in time"
        time.sleep(0.05)


class CrashAfterWriting(LakeSink):
    """Writes like the lake sink, then dies before the lander can commit: the worst moment to crash."""

    def __init__(self, landing: Landing, crash_on: int) -> None:
        super().__init__(landing.settings.lake, str(landing.settings.vault), landing.settings.timezone)
        self.writes = 0
        self.crash_on = crash_on

    def write(
        self, segment: ClosedSegment, *, incarnation: str, replaces_uncommitted: bool, identities: pa.Table
    ) -> int:
        files = super().write(
            segment, incarnation=incarnation, replaces_uncommitted=replaces_uncommitted, identities=identities
        )
        self.writes += 1
        if self.writes == self.crash_on:
            raise RuntimeError("crash between write and commit")
        return files


def test_a_crash_between_write_and_commit_is_repaired_on_restart(landing: Landing) -> None:
    sent = publish_sightings(landing, 12_000)
    crashing = Lander(landing.settings, KEY.encode(), SMALL, sink=CrashAfterWriting(landing, crash_on=3))
    with pytest.raises(RuntimeError, match="crash between write and commit"):
        crashing.run(until_idle=True)

    landing.land(limits=SegmentLimits(max_records=1_500, chunk_records=500))  # cut differently this time

    ends = end_offsets(landing)
    assert sum(ends.values()) == sent
    assert_exactly_once(landing, ends)


def test_a_failed_commit_reads_the_segment_again(landing: Landing, monkeypatch: pytest.MonkeyPatch) -> None:
    publish_sightings(landing, 6_000)
    real_commit = KafkaConsumer.commit
    failures = {"left": 2}

    def flaky_commit(self: KafkaConsumer, offsets: dict[TopicPartition, OffsetAndMetadata] | None = None,
                     timeout_ms: int | None = None) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise CommitFailedError("injected")
        real_commit(self, offsets, timeout_ms)

    monkeypatch.setattr(KafkaConsumer, "commit", flaky_commit)
    landing.land(limits=SMALL)

    assert failures["left"] == 0
    assert_exactly_once(landing, end_offsets(landing))
    assert committed_offsets(landing) == end_offsets(landing)


@pytest.mark.slow
def test_kill_9_mid_stream_then_restart_lands_every_offset_once(landing: Landing) -> None:
    publish_sightings(landing, 200_000)
    first = landing.lander_process("--until-idle", "--max-records", "5000")
    try:
        wait_for_files(landing, at_least=6)
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(30)
    assert first.returncode == -signal.SIGKILL
    landed_before_restart = len(landing.files("raw", "proximity"))

    second = landing.lander_process("--until-idle", "--max-records", "5000")
    output, _ = second.communicate(timeout=300)

    assert second.returncode == 0, output.decode()[-2000:]
    assert landed_before_restart < len(landing.files("raw", "proximity"))
    assert_exactly_once(landing, end_offsets(landing))


@pytest.mark.slow
def test_sigterm_exits_cleanly_with_commits_matching_the_files(landing: Landing) -> None:
    publish_sightings(landing, 60_000)
    service = landing.lander_process("--max-records", "3000")
    try:
        wait_for_files(landing, at_least=4)
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=60)
    finally:
        if service.poll() is None:
            service.kill()

    assert service.returncode == 0, output.decode()[-2000:]
    committed = committed_offsets(landing)
    assert committed, "nothing was committed"
    assert_exactly_once(landing, committed)


class SlowLakeSink(LakeSink):
    """The lake sink, slowed down so a second member can join while the first still has work."""

    def __init__(self, landing: Landing) -> None:
        super().__init__(landing.settings.lake, str(landing.settings.vault), landing.settings.timezone)

    def write(
        self, segment: ClosedSegment, *, incarnation: str, replaces_uncommitted: bool, identities: pa.Table
    ) -> int:
        time.sleep(0.25)
        return super().write(
            segment, incarnation=incarnation, replaces_uncommitted=replaces_uncommitted, identities=identities
        )


def _run_members(landing: Landing, stagger: bool) -> dict[str, LandingCounts]:
    results: dict[str, LandingCounts] = {}

    def member(name: str) -> None:
        lander = Lander(landing.settings, KEY.encode(), SMALL, sink=SlowLakeSink(landing) if stagger else None)
        results[name] = lander.run(until_idle=True)

    first = threading.Thread(target=member, args=("first",))
    second = threading.Thread(target=member, args=("second",))
    first.start()
    if stagger:
        wait_for_files(landing, at_least=2)
    second.start()
    first.join(180)
    second.join(180)
    assert set(results) == {"first", "second"}
    return results


@pytest.mark.slow
def test_two_landers_share_the_partitions_and_land_everything_once(landing: Landing) -> None:
    sent = publish_sightings(landing, 30_000)

    results = _run_members(landing, stagger=False)  # both join the group's first generation

    assert all(counts.total_landed + counts.total_quarantined > 0 for counts in results.values())
    assert sum(counts.total_landed + counts.total_quarantined for counts in results.values()) == sent
    assert_exactly_once(landing, end_offsets(landing))


@pytest.mark.slow
def test_a_lander_joining_mid_stream_takes_over_cleanly(landing: Landing) -> None:
    sent = publish_sightings(landing, 30_000)

    results = _run_members(landing, stagger=True)  # the first hands partitions over: flush, commit, revoke

    assert sum(counts.total_landed + counts.total_quarantined for counts in results.values()) == sent
    assert_exactly_once(landing, end_offsets(landing))


def test_the_service_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if not key.startswith("TRACELAKE_")}
    env["TRACELAKE_LAKE"] = str(tmp_path / "lake")
    env["TRACELAKE_BOOTSTRAP_SERVERS"] = "127.0.0.1:9"
    env["COLUMNS"] = "200"
    result = subprocess.run([sys.executable, "-m", "tracelake", "land"], env=env, capture_output=True, timeout=60)

    assert result.returncode == 1
    assert b"TRACELAKE_PSEUDONYMIZATION_KEY" in result.stdout
    assert not (tmp_path / "lake").exists() and not (tmp_path / "lake-vault").exists()
