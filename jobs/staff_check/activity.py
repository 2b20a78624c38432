"""When each of a few pseudonyms last showed up in the lake: in a QR check-in, and in Bluezone.

The lake holds only pseudonyms, so the roster's people are looked up by
theirs. Only the raw partitions around the window are read (the lander's
`date=` days follow its own time zone, so one day of margin on each side),
and the exact local days are decided on the events' instants. A check-in
counts when the person scanned a QR code (`qr_venue` or `qr_personal`), not
when a venue wrote them down by hand (`manual`). A sighting counts for both
phones, reporter and contact: each ran Bluezone to log or be heard. A resent
event may be read twice; it changes no last day. Rows the trace cannot use
(`jobs.trace.usable`) are skipped as it skips them.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from jobs.trace.duckdb.usable import usable_view
from jobs.trace.plan import raw_files
from tracelake.core import duckdb_memory
from tracelake.core.days import epoch_micros, from_epoch_micros, local_midnight
from tracelake.core.lake import Lake

QR_SOURCES = ("qr_venue", "qr_personal")

_FILES = "read_parquet($files, union_by_name = true)"

_LAST_CHECKIN = f"""
SELECT c.person_pseudonym, max(epoch_us(c.checkin_at))
FROM {usable_view("checkins", _FILES)} c JOIN roster r ON c.person_pseudonym = r.pseudonym
WHERE epoch_us(c.checkin_at) >= $start_us AND epoch_us(c.checkin_at) < $end_us AND list_contains($sources, c.source)
GROUP BY 1
"""

_LAST_SIGHTING = f"""
WITH sightings AS (SELECT * FROM {usable_view("proximity", _FILES)}), phones AS (
    SELECT reporter_pseudonym AS pseudonym, epoch_us(observed_at) AS observed_us FROM sightings
    UNION ALL
    SELECT contact_pseudonym, epoch_us(observed_at) FROM sightings
)
SELECT p.pseudonym, max(p.observed_us)
FROM phones p JOIN roster r USING (pseudonym)
WHERE p.observed_us >= $start_us AND p.observed_us < $end_us
GROUP BY 1
"""


@dataclass(frozen=True)
class Window:
    """The local days `first` to `last`, inclusive."""

    first: date
    last: date

    @classmethod
    def ending(cls, day: date, days: int) -> "Window":
        return cls(day - timedelta(days=days - 1), day)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Activity:
    """Pseudonym → the last local day it was seen, for those seen in the window."""

    checkins: Mapping[str, date]
    bluezone: Mapping[str, date]
    files: Mapping[str, int]
    """Raw files read per topic."""


def last_seen(lake_root: str, pseudonyms: Collection[str], window: Window, zone: ZoneInfo) -> Activity:
    """The last local day in `window` each pseudonym checked in by QR code, and was in a Bluetooth sighting."""
    lake = Lake(lake_root)
    start_us = epoch_micros(local_midnight(window.first, zone))
    end_us = epoch_micros(local_midnight(window.last + timedelta(days=1), zone))
    margin = timedelta(days=1)
    con = duckdb_memory.connect()
    try:
        con.register("roster", pa.table({"pseudonym": pa.array(sorted(set(pseudonyms)), pa.string())}))
        found: dict[str, dict[str, date]] = {}
        files: dict[str, int] = {}
        for topic, sql, extra in (
            ("checkins", _LAST_CHECKIN, {"sources": list(QR_SOURCES)}),
            ("proximity", _LAST_SIGHTING, {}),
        ):
            paths, _size = raw_files(lake, topic, window.first - margin, window.last + margin)
            files[topic] = len(paths)
            rows = (
                con.execute(sql, {"files": list(paths), "start_us": start_us, "end_us": end_us, **extra}).fetchall()
                if paths and pseudonyms
                else []
            )
            found[topic] = {pseudonym: from_epoch_micros(micros).astimezone(zone).date() for pseudonym, micros in rows}
    finally:
        con.close()
    return Activity(found["checkins"], found["proximity"], files)
