"""The rules of one run, turned into exact integers both engines share.

Every instant and duration becomes whole microseconds here, once, so the Spark
job and the DuckDB twin compare the same numbers and nothing is rounded twice.
Local midnights come from `tracelake.core.days` (Python's zoneinfo) for both engines:
one source of truth for where a local day starts, even across DST changes.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from jobs.trace.usable import DEFAULT_EARLIEST
from tracelake.core.days import duration_micros as duration_us
from tracelake.core.days import epoch_micros as micros
from tracelake.core.days import local_midnight, lookback
from tracelake.core.rules import Rules

MIDNIGHTS = pa.schema(
    [pa.field("day", pa.date32(), nullable=False), pa.field("midnight_us", pa.int64(), nullable=False)]
)
CALENDAR = pa.schema(
    [
        pa.field("day", pa.date32(), nullable=False),
        pa.field("day_start_us", pa.int64(), nullable=False),
        pa.field("day_end_us", pa.int64(), nullable=False),
    ]
)
THRESHOLDS = pa.schema(
    [
        pa.field("reporter_os", pa.string(), nullable=False),
        pa.field("contact_os", pa.string(), nullable=False),
        pa.field("threshold_dbm", pa.int32(), nullable=False),
    ]
)


def midnights(days: Iterable[date], zone: ZoneInfo) -> pa.Table:
    """Local midnight of each day, for joining onto window starts (any date, not only the lookback)."""
    unique = sorted(set(days))
    return pa.table(
        {"day": unique, "midnight_us": [micros(local_midnight(day, zone)) for day in unique]},
        schema=MIDNIGHTS,
    )


def _os_pair(pair: str) -> tuple[str, str]:
    reporter_os, _, contact_os = pair.partition("-")
    return reporter_os, contact_os


@dataclass(frozen=True)
class TraceParams:
    """One run's rules and day bounds; `range_end_us` is also the end of D."""

    day: date
    rules_version: str
    zone: ZoneInfo
    lookback_days: int
    range_start_us: int
    range_end_us: int
    default_stay_us: int
    linger_us: int
    min_overlap_us: int
    merge_gap_us: int
    min_cumulative_us: int
    days_before_onset: int
    days_before_sample: int
    max_depth: int
    rssi_thresholds: tuple[tuple[str, str, int], ...]
    earliest_us: int
    """The earliest plausible instant: a raw row with an earlier time is not traced (`jobs.trace.usable`)."""

    @classmethod
    def from_rules(cls, rules: Rules, day: date, earliest: datetime = DEFAULT_EARLIEST) -> "TraceParams":
        start, end = lookback(day, rules.lookback_days, rules.zone)
        return cls(
            day=day,
            rules_version=rules.version,
            zone=rules.zone,
            lookback_days=rules.lookback_days,
            range_start_us=micros(start),
            range_end_us=micros(end),
            default_stay_us=duration_us(rules.default_stay),
            linger_us=duration_us(rules.linger),
            min_overlap_us=duration_us(rules.min_overlap),
            merge_gap_us=duration_us(rules.merge_gap),
            min_cumulative_us=duration_us(rules.min_cumulative),
            days_before_onset=rules.infectious_window.days_before_onset,
            days_before_sample=rules.infectious_window.days_before_sample,
            max_depth=rules.tiers.max_depth,
            rssi_thresholds=tuple(
                (*_os_pair(pair), dbm) for pair, dbm in sorted(rules.ble.rssi_threshold_dbm.items())
            ),
            earliest_us=micros(earliest),
        )

    @property
    def end_of_day_us(self) -> int:
        return self.range_end_us

    def calendar(self) -> pa.Table:
        """The local days an encounter inside the lookback range can touch, one day of margin each side."""
        first = self.day - timedelta(days=self.lookback_days + 1)
        days = [first + timedelta(days=offset) for offset in range(self.lookback_days + 3)]
        bounds = [micros(local_midnight(day, self.zone)) for day in [*days, days[-1] + timedelta(days=1)]]
        return pa.table({"day": days, "day_start_us": bounds[:-1], "day_end_us": bounds[1:]}, schema=CALENDAR)

    def thresholds(self) -> pa.Table:
        reporters, contacts, dbms = zip(*self.rssi_thresholds, strict=True)
        return pa.table({"reporter_os": reporters, "contact_os": contacts, "threshold_dbm": dbms}, schema=THRESHOLDS)
