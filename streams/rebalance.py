"""Handing partitions over in the consumer group: flush and commit what is given up, forget what is lost.

kafka-python 3 runs rebalance listeners on its IO thread while the member's
own thread waits in poll() or close(). Blocking consumer calls are off limits
there, so the commit is awaited through the asynchronous API, and the segment
writes run in a worker thread (the member's thread is parked meanwhile, so
nothing else touches its buffers) while heartbeats keep flowing.
"""

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable

import pyarrow as pa
from kafka import AsyncConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.future import Future
from kafka.structs import OffsetAndMetadata

from streams.segments import ClosedSegment

log = logging.getLogger(__name__)

Written = tuple[TopicPartition, ClosedSegment, pa.Table]
"""A segment written to the lake, not yet committed, with the vault pairs written for it."""


class PartitionOwner(ABC):
    """What a group member must do when partitions come and go."""

    @abstractmethod
    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        """Start fresh segments for newly assigned partitions (they begin at the committed offset)."""

    @abstractmethod
    def write_open(self, partitions: Iterable[TopicPartition]) -> list[Written]:
        """Close and write the open segments of `partitions`; the caller commits them."""

    @abstractmethod
    def committed(self, written: list[Written]) -> None:
        """Book segments whose offsets are committed."""

    @abstractmethod
    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Drop every buffer of `partitions`: someone else owns them now."""


def next_offset(segment: ClosedSegment) -> OffsetAndMetadata:
    return OffsetAndMetadata(segment.next_offset, "", -1)


class HandOver(AsyncConsumerRebalanceListener):
    """The lander's rebalance listener."""

    def __init__(self, owner: PartitionOwner, consumer: KafkaConsumer) -> None:
        self._owner = owner
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        try:
            written = await _in_worker_thread(lambda: self._owner.write_open(revoked))
            if written:
                await self._consumer.commit_async({tp: next_offset(segment) for tp, segment, _ in written})
                self._owner.committed(written)
        except Exception:  # a listener that raises breaks the consumer; the next owner re-lands instead
            log.exception("could not hand over %s cleanly; the next owner lands them again", sorted(revoked))
        finally:
            self._owner.forget(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._owner.assign(assigned)

    async def on_partitions_lost(self, lost: set[TopicPartition]) -> None:
        log.warning("lost %s to the group without a clean hand-over: dropping unwritten segments", sorted(lost))
        self._owner.forget(lost)


def _in_worker_thread(work: Callable[[], list[Written]]) -> Future:
    """Run blocking writes off the IO thread; the returned kafka Future is awaitable on that loop."""
    done = Future()

    def run() -> None:
        try:
            done.success(work())
        except BaseException as problem:
            done.failure(problem)

    threading.Thread(target=run, name="lander-hand-over", daemon=True).start()
    return done
