"""Small hand-made lakes for the province tests, written with the lake's own Arrow schemas.

Times are written as local wall-clock strings (`"2021-08-09 08:00"`, Asia/Ho_Chi_Minh)
so each test reads like the story it tells; partitions follow the local day.
"""

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.lake import CASES, CONTACTS, RAW
from tracelake.core.lake import Lake, segment_file_name

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2021, 8, 10)


def local(text: str) -> datetime:
    shape = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(text, shape).replace(tzinfo=ZONE)


def _kafka(topic: str, offset: int, at: datetime) -> dict[str, Any]:
    return {"kafka_topic": topic, "kafka_partition": 0, "kafka_offset": offset, "kafka_timestamp": at}


@dataclass
class HandLake:
    root: Path
    raw: dict[tuple[str, date], list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    cases: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    _offsets: Iterator[int] = field(default_factory=count)
    _events: Iterator[int] = field(default_factory=count)

    @property
    def lake(self) -> Lake:
        return Lake(str(self.root))

    def _add(self, topic: str, partition_day: date, row: dict[str, Any], at: datetime) -> None:
        self.raw[(topic, partition_day)].append({**row, **_kafka(topic, next(self._offsets), at)})

    def venue(
        self, venue_id: str, name: str, district: str, *, province: str = "38", kind: str = "cafe",
        lat: float | None = None, lon: float | None = None, registered: str = "2021-07-01 09:00",
    ) -> None:
        at = local(registered)
        self._add("venues", at.date(), {
            "event_id": f"venue-{next(self._events)}", "venue_id": venue_id, "name": name,
            "district_code": district, "province_code": province, "kind": kind, "lat": lat, "lon": lon,
        }, at)

    def checkin(
        self, person: str, venue_id: str, checkin: str, checkout: str | None = None, *, event_id: str | None = None
    ) -> None:
        at = local(checkin)
        self._add("checkins", at.date(), {
            "event_id": event_id or f"checkin-{next(self._events)}", "person_pseudonym": person,
            "venue_id": venue_id, "checkin_at": at, "checkout_at": local(checkout) if checkout else None,
            "source": "qr_venue",
        }, at)

    def sighting(self, reporter: str, contact: str, observed: str) -> None:
        at = local(observed)
        self._add("proximity", at.date(), {
            "event_id": f"sighting-{next(self._events)}", "reporter_pseudonym": reporter,
            "contact_pseudonym": contact, "rssi": -60, "reporter_os": "android", "contact_os": "android",
            "observed_at": at, "tx_power": None,
        }, at)

    def case(self, person: str, status: str, window_start: str | None = None, window_end: str | None = None) -> None:
        self.cases.append({
            "person_pseudonym": person, "status": status,
            "window_start": local(window_start) if window_start else None,
            "window_end": local(window_end) if window_end else None,
            "isolated_at": None, "rules_version": "vn-moh-2021",
        })

    def contact(self, source: str, target: str, venue_id: str | None, start: str, end: str,
                *, channel: str = "venue", source_tier: str = "F0", target_tier: str = "F1") -> None:
        begin, finish = local(start), local(end)
        self.contacts.append({
            "source_pseudonym": source, "source_tier": source_tier, "target_pseudonym": target,
            "target_tier": target_tier, "channel": channel, "venue_id": venue_id,
            "exposure_start": begin, "exposure_end": finish,
            "exposure_minutes": (finish - begin).total_seconds() / 60, "rules_version": "vn-moh-2021",
        })

    def write(self, day: date = DAY, *, traced: bool = True) -> str:
        """Write every raw segment, and (when `traced`) D's curated cases and contacts, as the trace job would."""
        for (topic, partition_day), rows in self.raw.items():
            directory = Path(self.lake.raw_day(topic, partition_day))
            directory.mkdir(parents=True, exist_ok=True)
            name = segment_file_name(topic, 0, "province", 0)
            pq.write_table(pa.Table.from_pylist(rows, schema=RAW[topic]), directory / name)
        if traced:
            for table, rows, schema in (("cases", self.cases, CASES), ("contacts", self.contacts, CONTACTS)):
                directory = Path(self.lake.curated_day(table, day))
                directory.mkdir(parents=True, exist_ok=True)
                pq.write_table(pa.Table.from_pylist(rows, schema=schema), directory / "part-00000.parquet")
        return str(self.root)


def read_csv(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))
