"""Several landers in one consumer group, one process each: how landing uses more than one core.

Judging an event costs about as much CPU as kafka-python spends decoding it,
and both hold the GIL, so one process lands at about half the speed of a bare
consume loop. Kafka's own answer is more group members: partitions are split
between them and each lands its share exactly once, as a lone lander would.

A fleet landing `until_idle` stops all its members together, once every one
of them is caught up: a member leaving on its own mid-rebalance is legal on
Kafka, but leaves a Tansu group rebalancing forever.
"""

import logging
import multiprocessing
import queue
import threading
import time
from collections.abc import Iterable
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from streams.lander import BrokerUnavailableError, Lander, land
from streams.landing_counts import LandingCounts, Progress
from streams.segments import SegmentLimits
from streams.signals import Flag, stop_on_signals
from streams.status import group_lag
from tracelake.core.settings import Settings

log = logging.getLogger(__name__)

STOP_GRACE_S = 60.0
ALL_IDLE_FOR_S = 1.0
"""Every member must report itself caught up for this long before the fleet stops: one poll cycle and more."""


class MemberFailedError(RuntimeError):
    """A lander process of the fleet exited with an error."""


def _member(
    index: int,
    settings: Settings,
    key: bytes,
    limits: SegmentLimits | None,
    reports: "multiprocessing.Queue[tuple[int, str, Any]]",
    stop: ProcessEvent,
    idle: ProcessEvent | None,
    log_level: int,
) -> None:
    """One fleet member's life (in its own process): land until the fleet stops, reporting counts."""
    logging.basicConfig(level=log_level, format=f"%(asctime)s %(levelname)s lander-{index} %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    restore = stop_on_signals(stop)
    try:
        counts = Lander(settings, key, limits).run(
            until_idle=False,
            stop_event=stop,
            progress=lambda topic, count: reports.put((index, "progress", (topic, count))),
            idle_flag=idle,
        )
    except BrokerUnavailableError as problem:
        reports.put((index, "failed", str(problem)))
        raise SystemExit(1) from problem
    finally:
        restore()
    reports.put((index, "done", counts))


def land_in_parallel(
    settings: Settings,
    key: bytes,
    until_idle: bool,
    members: int,
    progress: Progress | None = None,
    stop_event: Flag | None = None,
    limits: SegmentLimits | None = None,
    log_level: int = logging.INFO,
) -> LandingCounts:
    """Run `members` landers in the consumer group, each in its own process; returns their summed counts.

    `until_idle`: stop them all once every member is caught up. SIGTERM/SIGINT
    (or `stop_event`) stop every member cleanly: each flushes, commits and
    leaves the group. Raises MemberFailedError if one fails. `log_level`: what
    the members log (a service logs every segment, a run in a terminal only warnings).
    """
    if members < 1:
        raise ValueError("a fleet needs at least one member")
    caller_stop = stop_event or threading.Event()
    restore = stop_on_signals(caller_stop)
    context = multiprocessing.get_context("spawn")
    reports: multiprocessing.Queue[tuple[int, str, Any]] = context.Queue()
    stop = context.Event()
    idle_flags = [context.Event() for _ in range(members)] if until_idle else []
    processes: list[BaseProcess] = [
        context.Process(
            target=_member,
            args=(index, settings, key, limits, reports, stop, idle_flags[index] if until_idle else None, log_level),
            name=f"lander-{index}",
        )
        for index in range(members)
    ]
    so_far: dict[str, dict[int, int]] = {}
    finished: dict[int, LandingCounts] = {}
    failures: dict[int, str] = {}
    all_idle_since: float | None = None
    try:
        for process in processes:
            process.start()
        while any(process.is_alive() for process in processes) or not reports.empty():
            if caller_stop.is_set():
                stop.set()
            if idle_flags and all(flag.is_set() for flag in idle_flags):
                all_idle_since = all_idle_since or time.monotonic()
                if time.monotonic() - all_idle_since >= ALL_IDLE_FOR_S:
                    stop.set()
            else:
                all_idle_since = None
            try:
                index, kind, payload = reports.get(timeout=0.2)
            except queue.Empty:
                continue
            if kind == "failed":
                failures[index] = payload
                stop.set()
                continue
            if kind == "done":
                finished[index] = payload
            elif kind == "progress":
                topic, count = payload
                so_far.setdefault(topic, {})[index] = count
                if progress is not None:
                    progress(topic, sum(so_far[topic].values()))
        for process in processes:
            process.join(STOP_GRACE_S)
    finally:
        stop.set()
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join()
        restore()
    crashed = {index: process.exitcode for index, process in enumerate(processes) if process.exitcode != 0}
    if crashed or failures:
        details = "; ".join(failures.values()) or f"exit codes {crashed}"
        raise MemberFailedError(f"{len(crashed) or len(failures)} of {members} landers failed: {details}")
    total = _sum(finished.values())
    if until_idle and not caller_stop.is_set():
        total.merge(_finish_stragglers(settings, key, limits))
    return total


def _finish_stragglers(settings: Settings, key: bytes, limits: SegmentLimits | None) -> LandingCounts:
    """A safety net: if the group still lags (a rebalance raced the stop), land the rest with one member."""
    assert settings.bootstrap_servers is not None
    behind = [lag for lag in group_lag(settings.bootstrap_servers, settings.consumer_group) if lag.lag > 0]
    if not behind:
        return LandingCounts()
    log.warning("the fleet stopped with %d partitions behind; landing the rest with one lander", len(behind))
    return land(settings, key, until_idle=True, limits=limits)


def _sum(parts: Iterable[LandingCounts]) -> LandingCounts:
    total = LandingCounts()
    for counts in parts:
        total.merge(counts)
    return total
