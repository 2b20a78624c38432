"""Whether the lander has covered local day D: the daily run's go-ahead, read from the lander's status and the lake.

A busy lander is rarely at lag 0, so the test is the lander's watermark per
Kafka partition: D is covered once it has ended and every partition of the
traced topics has either caught up or already landed events of a later local
day. The daily DAG pokes `landing_coverage` until it says so, and logs why not.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.fs as pafs

from streams.status import day_status, lake_status
from tracelake.core.days import day_bounds
from tracelake.core.lake import Lake, filesystem, parse_segment_file_name
from tracelake.core.settings import Settings

TRACED_TOPICS = ("checkins", "proximity", "case_reports")
"""The topics a trace reads: the venues' registry is not part of a day."""


@dataclass
class Coverage:
    """Whether the lander has covered day D, and if not, why: the sensor's log line and, at the end, its error."""

    day: str
    landed: dict[str, int]
    reasons: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return not self.reasons

    def describe(self) -> str:
        rows = ", ".join(f"{topic} {count:,}" for topic, count in sorted(self.landed.items())) or "none"
        if self.covered:
            return f"landing covers {self.day} (rows landed: {rows})"
        return f"landing does not cover {self.day} yet: {'; '.join(self.reasons)} (rows landed so far: {rows})"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def landed_rows(settings: Settings, day: date) -> dict[str, int]:
    """Rows the lander reports for day D per traced topic (its status: Parquet footers of D's raw files)."""
    return {
        status.topic: status.landed
        for status in day_status(settings)
        if status.day == day and status.topic in TRACED_TOPICS
    }


def landing_coverage(settings: Settings, day: date, now: datetime | None = None) -> Coverage:
    """Whether the lander has covered day D (see `coverage_of`), from its status and the lake's later days."""
    status = lake_status(settings)
    landed = {item.topic: item.landed for item in status.days if item.day == day and item.topic in TRACED_TOPICS}
    _, end = day_bounds(day, ZoneInfo(settings.timezone))
    lag = None
    if status.lag is not None:
        lag = {(item.topic, item.partition): item.lag for item in status.lag if item.topic in TRACED_TOPICS}
    later = {topic: partitions_landed_after(settings, topic, day) for topic in TRACED_TOPICS}
    return coverage_of(day, landed, lag, status.lag_error, later, end, now or datetime.now(UTC))


def coverage_of(
    day: date,
    landed: dict[str, int],
    lag: Mapping[tuple[str, int], int] | None,
    lag_error: str | None,
    later: Mapping[str, set[int]],
    end: datetime,
    now: datetime,
) -> Coverage:
    """D is covered once it has ended and every Kafka partition of the traced topics is either fully
    landed (no lag) or past D: the lake already holds events of that partition on a later local day (the
    lander's watermark has passed the end of D).

    A busy lander is rarely at lag 0, hence the watermark; a replay of old days is usually behind, hence
    not the watermark alone without the partition's later-day files. D's own files are not required: a
    day without check-ins or sightings is still traced, since its lookback can hold F1s.
    """
    coverage = Coverage(day.isoformat(), landed)
    if now < end:
        coverage.reasons.append(f"{day.isoformat()} has not ended yet (it ends at {end.isoformat()})")
    if lag is None:
        coverage.reasons.append(f"the landing group's lag is unknown: {lag_error}")
    else:
        behind: dict[str, list[str]] = {}
        for (topic, partition), messages in sorted(lag.items()):
            if messages > 0 and partition not in later.get(topic, set()):
                behind.setdefault(topic, []).append(f"{partition} ({messages:,} behind)")
        if behind:
            where = "; ".join(f"{topic} partition {', '.join(parts)}" for topic, parts in behind.items())
            coverage.reasons.append(f"the lander has neither caught up nor passed the end of {day.isoformat()} on "
                                    f"{where}")
    return coverage


def partitions_landed_after(settings: Settings, topic: str, day: date) -> set[int]:
    """Kafka partitions of `topic` with raw files on a local day after D (segment names carry the partition)."""
    fs, root = filesystem(Lake(settings.lake).raw(topic))
    partitions: set[int] = set()
    for directory in fs.get_file_info(pafs.FileSelector(root, allow_not_found=True)):
        name = directory.base_name
        if directory.type != pafs.FileType.Directory or not name.startswith("date=") or name[5:] <= day.isoformat():
            continue
        for entry in fs.get_file_info(pafs.FileSelector(directory.path)):
            segment = parse_segment_file_name(entry.base_name)
            if segment is not None and segment.topic == topic:
                partitions.add(segment.partition)
    return partitions
