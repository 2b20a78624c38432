"""The lander: a consumer-group member that turns the contract topics into lake segments, exactly once.

Each partition's records are judged into an open segment (streams.segments);
a closed segment is written (streams.landing_files) and only then is its
partition's offset committed, one segment at a time. So at most one written
but uncommitted segment exists per partition, and it starts at the committed
offset: whoever lands the partition next starts a segment at that same
offset, overwrites those files and removes any it does not rewrite. A crash,
a kill -9 or a rebalance therefore never duplicates nor loses a record.

The lake only grows. Offsets name records only within one life of a topic (a
new broker or a topic created again starts at 0), so file names carry the
topic's incarnation too (streams.incarnations): a later life lands next to
the earlier one's files and never over them. The lander asks Kafka for it
before every segment it writes and every few seconds when idle, so a topic
created again under a running lander is read from its start, not from the
old position the consumer would carry on at. The clean-up above removes only
files of the very name the new segment writes, that is an uncommitted
attempt at the same offsets of the same incarnation.

Open segments are also landed whenever the member is caught up (a poll came
back empty and every assigned partition is at its end): a lone case report
reaches the lake in about a second, not when the next record arrives. Where
segments are cut never matters for exactly-once, only that each one starts
at the committed offset.

`tracelake land` runs it (a service until SIGTERM; `--until-idle` stops once
every assigned partition is caught up); `land(...)` is the same from Python.
"""

import logging
import threading
import time
from collections.abc import Iterable

import pyarrow as pa
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import IllegalStateError, KafkaError
from kafka.structs import MemberState
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_any,
    stop_before_delay,
    stop_never,
    wait_exponential,
)
from tenacity.stop import stop_base

from schemas import TOPICS
from streams.gc_tuning import tune_for_streaming
from streams.incarnations import Incarnations, IncarnationUnknownError
from streams.kafka_config import consumer_settings
from streams.landing_counts import LandingCounts, Progress
from streams.landing_files import LakeSink, SegmentSink
from streams.people import People
from streams.rebalance import HandOver, PartitionOwner, Written, next_offset
from streams.segment_tables import RawColumns
from streams.segments import ClosedSegment, PartitionBuffer, SegmentLimits
from streams.signals import Flag, stop_on_signals
from streams.topics import ensure_topics
from tracelake.core.events import Plausibility
from tracelake.core.identity import Pseudonymizer
from tracelake.core.purge_mark import purge_mark
from tracelake.core.settings import Settings
from tracelake.core.vault import vouch_for_key

log = logging.getLogger(__name__)

POLL_TIMEOUT_MS = 500
CONNECT_PATIENCE_S = 60.0
"""How long a run that should end (`until_idle`) waits for an unreachable cluster before giving up."""
MAX_BACKOFF_S = 30.0
BOOTSTRAP_TIMEOUT_MS = 10_000
UNREACHABLE_WARNING_S = 10.0
JOIN_PATIENCE_S = 60.0
"""A run meant to finish gives up after this long outside a stable group (Tansu can keep a group
rebalancing forever when its leader leaves mid-rebalance) instead of hanging."""
LIFE_CHECK_S = 5.0
"""How often a member with nothing to read asks Kafka whether its topics were created again."""
WRITTEN_IDENTITIES_CAP = 2_000_000
"""Pseudonyms known to be in a committed vault file; forgetting them only costs rewriting a few pairs."""

class BrokerUnavailableError(RuntimeError):
    """The Kafka cluster could not be reached in time by a run that is meant to finish."""


class TopicCreatedAgainError(RuntimeError):
    """Records just read come from a new life of their topic: the lander must read that life from its start."""


def _describe(partitions: Iterable[TopicPartition]) -> str:
    """`checkins[0,1] proximity[0,1]`: an assignment in one short line."""
    by_topic: dict[str, list[int]] = {}
    for tp in sorted(partitions):
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return " ".join(f"{topic}{numbers}".replace(" ", "") for topic, numbers in by_topic.items()) or "nothing"


class Lander(PartitionOwner):
    """One member of the landing consumer group; `run` is its whole life."""

    def __init__(
        self,
        settings: Settings,
        key: bytes,
        limits: SegmentLimits | None = None,
        sink: SegmentSink | None = None,
    ) -> None:
        if not settings.bootstrap_servers:
            raise ValueError("the lander needs a Kafka cluster: set TRACELAKE_BOOTSTRAP_SERVERS")
        self.bootstrap: str = settings.bootstrap_servers
        self._settings = settings
        self._limits = limits or SegmentLimits()
        vouch_for_key(settings.vault_location, key)
        self._sink = sink or LakeSink(settings.lake, settings.vault_location, settings.timezone)
        self._people = People(Pseudonymizer(key).pseudonym)
        events = Pseudonymizer.for_events(key)
        self._columns = {topic: RawColumns(topic, settings.timezone, events) for topic in TOPICS}
        self._plausible = Plausibility.of(settings)
        self._buffers: dict[TopicPartition, PartitionBuffer] = {}
        self._fresh: set[TopicPartition] = set()
        self._lives = Incarnations(self.bootstrap, BOOTSTRAP_TIMEOUT_MS)
        self._incarnations: dict[str, str] = {}
        """The life of each topic this member has been reading, learnt at its first write after an assignment."""
        self._written_identities: set[str] = set()
        self._purge_mark: bytes | None = None
        self._consumer: KafkaConsumer | None = None
        self._progress: Progress | None = None
        self._idle_flag: Flag | None = None
        self._started = time.monotonic()
        self._joined: float | None = None
        self.counts = LandingCounts()

    # -- partitions come and go (called from the rebalance listener and the loop) --

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        self._idle(False)
        if self._joined is None:
            self._joined = time.monotonic()
            self.counts.joining_s = self._joined - self._started
        for tp in partitions:
            if not any(held.topic == tp.topic for held in self._buffers):
                self._incarnations.pop(tp.topic, None)
            if tp.topic in self._columns and tp not in self._buffers:
                self._buffers[tp] = PartitionBuffer(
                    tp.topic, tp.partition, self._columns[tp.topic], self._people, self._limits, self._plausible
                )
                self._fresh.add(tp)
        log.info("landing %s", _describe(self._buffers))

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        self._idle(False)
        for tp in partitions:
            self._buffers.pop(tp, None)
            self._fresh.discard(tp)

    def write_open(self, partitions: Iterable[TopicPartition]) -> list[Written]:
        """Close and write the open segments of `partitions`; the caller commits them."""
        written = []
        for tp in partitions:
            buffer = self._buffers.get(tp)
            segment = buffer.close_open() if buffer else None
            if segment is None:
                continue
            try:
                incarnation = self._incarnation(tp.topic)
            except (TopicCreatedAgainError, KafkaError, OSError) as problem:
                log.warning("not handing over %s (%s): its next owner reads it from the committed offset", tp, problem)
                continue
            written.append(self._write(tp, segment, incarnation))
        return written

    def _write(self, tp: TopicPartition, segment: ClosedSegment, incarnation: str) -> Written:
        identities = self._unwritten(segment.identities)
        files = self._sink.write(
            segment, incarnation=incarnation, replaces_uncommitted=tp in self._fresh, identities=identities
        )
        segment.files = files
        return tp, segment, identities

    def _incarnation(self, topic: str) -> str:
        """The token of the life of `topic` this member reads; TopicCreatedAgainError if Kafka now serves another.

        Asked before every write: the records just read may come from a topic
        created again under this member, at its old position in the new life.
        """
        current = self._current_lives([topic])[topic]
        if not self._follows(topic, current):
            raise TopicCreatedAgainError(f"{topic} was created again while it was being read")
        return current

    def _current_lives(self, topics: list[str]) -> dict[str, str]:
        try:
            return self._lives.current(topics)
        except IncarnationUnknownError as problem:
            raise BrokerUnavailableError(str(problem)) from problem

    def _follows(self, topic: str, current: str) -> bool:
        """Whether `current` is the life of `topic` this member reads (learnt if it knew none); else it is now."""
        known = self._incarnations.setdefault(topic, current)
        if known == current:
            return True
        self._incarnations[topic] = current
        return False

    def _follow_new_lives(self, consumer: KafkaConsumer) -> None:
        """Read topics created again under this member from their start, even with nothing to fetch.

        A new life shorter than the old position gives the consumer no records
        at all (Tansu) until it grows past it: only asking Kafka notices that.
        """
        topics = sorted({tp.topic for tp in list(self._buffers)})
        if not topics:
            return
        try:
            lives = self._current_lives(topics)
        except (KafkaError, OSError) as problem:
            log.info("could not ask Kafka which lives of %s it serves (%s); asking again later", topics, problem)
            return
        for topic, current in lives.items():
            if not self._follows(topic, current):
                log.warning("%s was created again while it was being read: landing its new life from the beginning",
                            topic)
                self._read_new_life(consumer, topic)

    def _unwritten(self, pairs: pa.Table) -> pa.Table:
        """The vault pairs not yet in a committed vault file (as far as this member knows).

        A purge may remove pairs this member wrote (their people had left the
        retention window): once the vault's purge mark changes, it writes every pair again once.
        """
        mark = purge_mark(self._settings.vault_location)
        if mark != self._purge_mark:
            self._purge_mark = mark
            self._written_identities.clear()
        written = self._written_identities
        if not written:
            return pairs
        fresh = [pseudonym not in written for pseudonym in pairs.column("pseudonym").to_pylist()]
        return pairs.filter(pa.array(fresh, pa.bool_()))

    def committed(self, written: list[Written]) -> None:
        """Book segments whose offsets are committed: their vault pairs now count as durable."""
        if len(self._written_identities) > WRITTEN_IDENTITIES_CAP:
            self._written_identities.clear()
        if self._joined is not None:
            self.counts.landing_s = time.monotonic() - self._joined
        for tp, segment, identities in written:
            self._fresh.discard(tp)
            self._written_identities.update(identities.column("pseudonym").to_pylist())
            self.counts.add(segment.topic, segment.raw.num_rows, segment.quarantine.num_rows, segment.files)
            log.info(
                "landed %s+%d offsets %d..%d: %d rows, %d quarantined, %d files",
                segment.topic, segment.partition, segment.first_offset, segment.last_offset,
                segment.raw.num_rows, segment.quarantine.num_rows, segment.files,
            )
        if self._progress is not None:
            for topic in sorted({segment.topic for _, segment, _ in written}):
                self._progress(topic, self.counts.events(topic))

    def _land(self, consumer: KafkaConsumer, tp: TopicPartition, segment: ClosedSegment) -> bool:
        """Write one closed segment, then commit it; on a failed commit start over from the committed offset."""
        try:
            incarnation = self._incarnation(tp.topic)
        except TopicCreatedAgainError as problem:
            log.warning("%s: landing its new life from the beginning", problem)
            self._read_new_life(consumer, tp.topic)
            return False
        except (KafkaError, OSError) as problem:
            log.warning("Kafka did not say which life of %s it serves (%s): reading %s again from offset %d",
                        tp.topic, problem, tp, segment.first_offset)
            self._start_over(consumer, tp, segment.first_offset)
            return False
        written = self._write(tp, segment, incarnation)
        try:
            consumer.commit({tp: next_offset(segment)})
        except KafkaError as problem:
            log.warning(
                "commit of %s at %d failed (%s): reading again from offset %d", tp, segment.next_offset,
                problem, segment.first_offset,
            )
            self._start_over(consumer, tp, segment.first_offset)
            return False
        self.committed([written])
        return True

    def _start_over(self, consumer: KafkaConsumer, tp: TopicPartition, offset: int) -> None:
        buffer = self._buffers.get(tp)
        if buffer is not None:
            buffer.discard()
            self._fresh.add(tp)
        try:
            consumer.seek(tp, offset)
        except (IllegalStateError, KafkaError, AssertionError):
            self.forget([tp])

    def _read_new_life(self, consumer: KafkaConsumer, topic: str) -> None:
        """Drop what was read of `topic` (its offsets belong to the new life, its start was skipped); read from 0."""
        partitions = [tp for tp in list(self._buffers) if tp.topic == topic]
        for tp in partitions:
            self._buffers[tp].discard()
            self._fresh.add(tp)
        try:
            consumer.seek_to_beginning(*partitions)
        except (IllegalStateError, KafkaError, AssertionError):
            self.forget(partitions)

    def _flush_all(self, consumer: KafkaConsumer) -> bool:
        """Land every open segment; False if a commit failed (those partitions are being read again)."""
        landed = True
        for tp in list(self._buffers):
            buffer = self._buffers.get(tp)
            segment = buffer.close_open() if buffer else None
            if segment is not None:
                landed = self._land(consumer, tp, segment) and landed
        return landed

    @property
    def _has_open(self) -> bool:
        return any(buffer.segment is not None for buffer in self._buffers.values())

    # -- the loop --

    def run(
        self,
        until_idle: bool,
        stop_event: Flag | None = None,
        progress: Progress | None = None,
        idle_flag: Flag | None = None,
    ) -> LandingCounts:
        """Land until caught up (`until_idle`) or until `stop_event` is set; returns the counts.

        `idle_flag`, if given, is kept set while this member is caught up and
        cleared while it has work: a fleet stops its members together once all
        are idle, instead of letting each leave mid-rebalance.
        """
        stop = stop_event or threading.Event()
        self._progress = progress
        self._idle_flag = idle_flag
        tune_for_streaming()
        self._started = time.monotonic()
        consumer = self._connect(stop, patient=not until_idle)
        if consumer is None:
            return self.counts
        self._consumer = consumer
        try:
            consumer.subscribe(list(TOPICS), listener=HandOver(self, consumer))
            self._loop(consumer, until_idle, stop)
            self._flush_all(consumer)
        except BaseException:
            # Whatever failed may have been a write: commit nothing more, not even on the way out of the group.
            self._buffers.clear()
            raise
        finally:
            try:
                consumer.close()
            except KafkaError as problem:
                log.warning("leaving the consumer group failed (%s); it notices at its session timeout", problem)
            self._consumer = None
            self._lives.close()
        return self.counts

    def _idle(self, idle: bool) -> None:
        if self._idle_flag is not None:
            if idle:
                self._idle_flag.set()
            else:
                self._idle_flag.clear()

    def _loop(self, consumer: KafkaConsumer, until_idle: bool, stop: Flag) -> None:
        backoff = 0.5
        unstable_since: float | None = None
        last_warning = 0.0
        watch_idle = until_idle or self._idle_flag is not None
        next_life_check = time.monotonic() + LIFE_CHECK_S
        while not stop.is_set():
            started = time.monotonic()
            try:
                batches = consumer.poll(timeout_ms=POLL_TIMEOUT_MS)
            except KafkaError as problem:
                log.warning("polling Kafka at %s failed (%s); retrying in %.1f s", self.bootstrap, problem, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            if batches:
                self._idle(False)
            elif time.monotonic() >= next_life_check:
                next_life_check = time.monotonic() + LIFE_CHECK_S
                self._follow_new_lives(consumer)
            for tp, records in batches.items():
                buffer = self._buffers.get(tp)
                if buffer is None:
                    self.assign([tp])
                    buffer = self._buffers[tp]
                for segment in buffer.add(records):
                    if not self._land(consumer, tp, segment):
                        break
            stable = consumer.group_metadata().state == MemberState.STABLE
            if stable:
                backoff, unstable_since = 0.5, None
            else:
                self._idle(False)
                now = time.monotonic()
                unstable_since = unstable_since or now
                waited = now - unstable_since
                if until_idle and waited > JOIN_PATIENCE_S:
                    raise BrokerUnavailableError(
                        f"no stable membership in consumer group {self._settings.consumer_group!r} at "
                        f"{self.bootstrap} for {waited:.0f} s"
                    )
                if waited > UNREACHABLE_WARNING_S and now - last_warning > UNREACHABLE_WARNING_S:
                    last_warning = now
                    log.warning(
                        "not a member of consumer group %r for %.0f s: is Kafka at %s reachable? still trying",
                        self._settings.consumer_group, waited, self.bootstrap,
                    )
                if not batches and time.monotonic() - started < POLL_TIMEOUT_MS / 1000 / 2:
                    stop.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
            check = watch_idle or (not batches and self._has_open)
            if stable and check and self._caught_up(consumer, bool(batches)) and self._flush_all(consumer):
                if until_idle:
                    log.info("caught up with every assigned partition: %s", self.counts)
                    return
                self._idle(True)

    def _caught_up(self, consumer: KafkaConsumer, polled: bool) -> bool:
        """Whether every assigned partition has been read to its end (and some partitions are assigned).

        The end is the larger of ListOffsets' answer and the high watermark of
        the last fetch: Tansu answers ListOffsets with the last batch's base
        offset + 1, which would stop a run with records still unread. After a
        poll that brought records, ListOffsets is asked only once every
        partition, the idle ones included, is at its last fetch's high
        watermark: the last records end the run at once, not a fetch wait later.
        """
        assignment = consumer.assignment()
        if not assignment:
            return False
        highwaters = {tp: consumer.highwater(tp) for tp in assignment}
        if any(highwater is None for highwater in highwaters.values()):
            return False
        try:
            positions = {tp: consumer.position(tp, timeout_ms=5000) for tp in assignment}
            if polled and any(positions[tp] < highwaters[tp] for tp in assignment):
                return False
            ends = consumer.end_offsets(list(assignment), timeout_ms=5000)
            return all(positions[tp] >= max(ends[tp], highwaters[tp]) for tp in assignment)
        except (KafkaError, IllegalStateError, KeyError, TypeError):
            return False

    def _connect(self, stop: Flag, patient: bool) -> KafkaConsumer | None:
        """A consumer connected to the cluster, retrying with backoff; None if stopped while waiting."""
        if stop.is_set():
            return None
        stopped = _Stopped(stop)
        retrying = Retrying(
            retry=retry_if_exception_type((KafkaError, OSError)),
            wait=wait_exponential(multiplier=1, max=MAX_BACKOFF_S),
            stop=stop_any(stopped, stop_never if patient else stop_before_delay(CONNECT_PATIENCE_S)),
            sleep=stopped.sleep,
            before_sleep=lambda state: log.warning(
                "Kafka at %s is unreachable (%s); retrying in %.0f s",
                self.bootstrap, state.outcome.exception() if state.outcome else None, state.upcoming_sleep,
            ),
            reraise=True,
        )
        try:
            return retrying(self._new_consumer)
        except (KafkaError, OSError) as problem:
            if stop.is_set():
                return None
            raise BrokerUnavailableError(
                f"Kafka at {self.bootstrap} did not answer for {CONNECT_PATIENCE_S:.0f} s: {problem}"
            ) from problem

    def _new_consumer(self) -> KafkaConsumer:
        ensure_topics(self.bootstrap, self._settings.topic_partitions, timeout_ms=BOOTSTRAP_TIMEOUT_MS)
        return KafkaConsumer(
            **consumer_settings(self.bootstrap, self._settings.consumer_group),
            allow_auto_create_topics=False,
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        )


class _Stopped(stop_base):
    """Stop retrying once the lander is asked to stop, and wait between tries on the stop flag itself."""

    def __init__(self, flag: Flag) -> None:
        self._flag = flag

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self._flag.is_set()

    def sleep(self, seconds: float) -> None:
        self._flag.wait(seconds)


def land(
    settings: Settings,
    key: bytes,
    until_idle: bool,
    progress: Progress | None = None,
    stop_event: Flag | None = None,
    limits: SegmentLimits | None = None,
) -> LandingCounts:
    """Land the contract topics into the lake as one group member; stops on SIGTERM/SIGINT or `stop_event`.

    `until_idle`: return once every assigned partition is caught up (local
    runs); otherwise run as a service. Raises BrokerUnavailableError when a
    run meant to finish cannot reach Kafka.
    """
    stop = stop_event or threading.Event()
    restore = stop_on_signals(stop)
    try:
        return Lander(settings, key, limits).run(until_idle, stop, progress)
    finally:
        restore()

