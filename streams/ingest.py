"""Publish the event files and land them at the same time: how a local run ingests a day.

The lander (a one-member fleet, streams.fleet) starts in its own process
before the first message is sent, so judging events overlaps producing them
instead of following it; kafka-python and the lander both hold the GIL, so a
thread would not overlap them. It cannot stop once caught up, as a lander
`until_idle` does: it may catch up with the producer while the producer is
still sending. It stops once its group has committed every partition up to
the end the producer's acknowledgements reported: everything published is
landed, exactly once, as the lander alone lands it.
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from streams.fleet import land_in_parallel
from streams.lander import BrokerUnavailableError
from streams.landing_counts import LandingCounts, Progress
from streams.publisher import publish_events
from tracelake.core.settings import Settings

log = logging.getLogger(__name__)

LANDED_CHECK_S = 0.2
"""How often the run asks Kafka how far the group committed, once publishing is done."""
LAND_PATIENCE_S = 60.0
"""A run gives up when the group commits nothing more for this long while records are still unlanded."""
OFFSETS_TIMEOUT_MS = 5000


@dataclass
class Ingested:
    """What publishing and landing did, and how long each took from the moment both started."""

    published: dict[str, int] = field(default_factory=dict)
    landing: LandingCounts = field(default_factory=LandingCounts)
    publish_s: float = 0.0
    """Until the last message was acknowledged."""
    land_s: float = 0.0
    """Until the group had committed everything published."""
    ingest_s: float = 0.0
    """Both, the lander's start and stop included."""


class _Publishing(threading.Thread):
    """Publishes the files, then waits until the landing group committed every partition to its end; sets `done`."""

    def __init__(
        self, events: Path, settings: Settings, done: threading.Event, started: float, progress: Progress | None,
    ) -> None:
        super().__init__(name="publish", daemon=True)
        self.events, self.settings, self.done, self.started, self.progress = (
            events, settings, done, started, progress
        )
        self.published: dict[str, int] = {}
        self.publish_s = 0.0
        self.land_s: float | None = None
        self.failure: BaseException | None = None

    def run(self) -> None:
        assert self.settings.bootstrap_servers is not None
        ends: dict[TopicPartition, int] = {}
        try:
            self.published = publish_events(self.events, self.settings.bootstrap_servers, self.progress, ends=ends)
            self.publish_s = time.perf_counter() - self.started
            if self._wait_until_landed(ends):
                self.land_s = time.perf_counter() - self.started
        except BaseException as problem:  # handed to the caller's thread, which reports it
            self.failure = problem
        finally:
            self.done.set()

    def _wait_until_landed(self, ends: dict[TopicPartition, int]) -> bool:
        """Whether the group committed `ends` (False if stopped first); raises if it stalls for too long."""
        assert self.settings.bootstrap_servers is not None
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self.settings.bootstrap_servers, group_id=self.settings.consumer_group,
                enable_auto_commit=False, request_timeout_ms=OFFSETS_TIMEOUT_MS, client_id="tracelake-run",
            )
        except KafkaError as problem:
            raise BrokerUnavailableError(f"Kafka at {self.settings.bootstrap_servers}: {problem}") from problem
        try:
            behind = dict(ends)
            seen: dict[TopicPartition, int] = {}
            progressed = time.monotonic()
            while behind and not self.done.is_set():
                try:
                    committed = {tp: consumer.committed(tp, timeout_ms=OFFSETS_TIMEOUT_MS) for tp in behind}
                except KafkaError as problem:
                    log.info("asking Kafka how far the landing group committed failed (%s); asking again", problem)
                    committed = {}
                moved = [tp for tp, offset in committed.items() if offset is not None and offset > seen.get(tp, -1)]
                for tp in moved:
                    seen[tp] = committed[tp] or 0
                    if seen[tp] >= behind[tp]:
                        del behind[tp]
                if moved:  # any commit counts as progress: a long partition may take minutes to reach its end
                    progressed = time.monotonic()
                elif time.monotonic() - progressed > LAND_PATIENCE_S:
                    raise BrokerUnavailableError(
                        f"the landing group {self.settings.consumer_group!r} at {self.settings.bootstrap_servers} "
                        f"landed nothing more for {LAND_PATIENCE_S:.0f} s with {len(behind)} partitions unlanded"
                    )
                self.done.wait(LANDED_CHECK_S)
            return not behind
        finally:
            consumer.close(autocommit=False)


def publish_and_land(
    events: Path,
    settings: Settings,
    key: bytes,
    publish_progress: Progress | None = None,
    land_progress: Progress | None = None,
) -> Ingested:
    """Publish `events/<topic>.jsonl` to Kafka while landing them into the lake; returns what each did.

    Raises what publishing raises (NoEventsError, PublishError), MemberFailedError
    if the lander fails, BrokerUnavailableError if it stops making progress,
    and KeyboardInterrupt if SIGINT/SIGTERM stopped the lander before it landed everything.
    """
    started = time.perf_counter()
    done = threading.Event()
    publishing = _Publishing(events, settings, done, started, publish_progress)
    publishing.start()
    try:
        landing = land_in_parallel(
            settings, key, until_idle=False, members=1, progress=land_progress, stop_event=done,
            log_level=logging.WARNING,
        )
    finally:
        done.set()
        publishing.join()
    if publishing.failure is not None:
        raise publishing.failure
    if publishing.land_s is None:
        raise KeyboardInterrupt("stopped before everything published was landed")
    return Ingested(
        published=publishing.published, landing=landing, publish_s=publishing.publish_s,
        land_s=publishing.land_s, ingest_s=time.perf_counter() - started,
    )
