"""A small hand-made lake whose right answers can be read off this page.

The outputs' tests (worklists, analysts' DuckDB, daily report) need the trace
job's tables without running the trace job: this module writes every table
with the Arrow schemas of `schemas.lake`, from a story small enough to check
by hand. Day D is 2021-08-03 in Asia/Ho_Chi_Minh (UTC+7, no DST).

The story for D (times local):

* F0s: `an` and `binh` (confirmed).
* F1 at "Chợ Bến Thành" (district 760), exposed to `an`: c1..c6; c5 also by Bluetooth.
* F1 by Bluetooth only: `d1` (42 min with `an`; checks in at the café (770) three
  times, at the market once, at an unregistered venue five times) → district 770;
  `d2` (no check-ins) → district "unknown".
* F1 at "Cà phê Hẻm 20" (770) on 02/08, exposed to `binh`: e1.
* F2: `f1` at "Co.op Mart Cống Quỳnh" (770) exposed to c1; `f2` by Bluetooth to d1 → unknown.

Priority in district 760: c3, c5, c6, c1, c2, c4 (most recent last exposure first,
then the longest). On 2021-08-05, c1 is confirmed: one F1 of D became an F0 later.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.lake import (
    CASES,
    CONTACTS,
    EXPOSURES_CURATED,
    EXPOSURES_EXPORT,
    QUARANTINE,
    RAW,
    VAULT,
)
from tracelake.core.lake import Lake, segment_file_name

LOCAL = timedelta(hours=7)
DAY = date(2021, 8, 3)
LATER_DAY = date(2021, 8, 5)
RULES_VERSION = "vn-moh-2021"
INGESTED = datetime(2021, 8, 3, 20, 0, tzinfo=UTC)
INCARNATION = "story"

PEOPLE: dict[str, str] = {
    "an": "+84900000001",
    "binh": "+84900000002",
    "c1": "+84910000001",
    "c2": "+84910000002",
    "c3": "+84910000003",
    "c4": "+84910000004",
    "c5": "+84910000005",
    "c6": "+84910000006",
    "d1": "+84920000001",
    "d2": "079201000002",
    "e1": "+84930000001",
    "f1": "+84940000001",
    "f2": "+84940000002",
}

VENUE_NAMES = {
    "V-MARKET": "Chợ Bến Thành",
    "V-COOP": "Co.op Mart Cống Quỳnh",
    "V-CAFE": "Cà phê Hẻm 20",
}
VENUE_DISTRICTS = {"V-MARKET": "760", "V-COOP": "770", "V-CAFE": "770"}


def pseudonym(name: str) -> str:
    return f"ps-{name}"


def local(day: date, hh_mm: str) -> datetime:
    """A local wall-clock time on `day` as a UTC instant."""
    hours, minutes = (int(part) for part in hh_mm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=UTC) - LOCAL


@dataclass(frozen=True)
class Edge:
    """One exposure of `target` to `source`: one row of curated/contacts."""

    source: str
    target: str
    channel: str
    start: datetime
    end: datetime
    venue_id: str | None = None

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


def _venue(source: str, target: str, venue: str, day: date, start: str, end: str) -> Edge:
    return Edge(source, target, "venue", local(day, start), local(day, end), venue)


def _ble(source: str, target: str, day: date, start: str, end: str) -> Edge:
    return Edge(source, target, "ble", local(day, start), local(day, end))


D2 = DAY - timedelta(days=1)

EDGES: list[Edge] = [
    _venue("an", "c1", "V-MARKET", DAY, "08:15", "09:30"),
    _venue("an", "c2", "V-MARKET", DAY, "08:30", "09:30"),
    _venue("an", "c3", "V-MARKET", DAY, "10:00", "11:00"),
    _venue("an", "c4", "V-MARKET", DAY, "07:00", "07:30"),
    _venue("an", "c5", "V-MARKET", DAY, "08:00", "08:30"),
    _ble("an", "c5", DAY, "09:40", "10:00"),
    _venue("an", "c6", "V-MARKET", DAY, "09:00", "09:40"),
    _ble("an", "d1", DAY, "10:00", "10:42"),
    _ble("an", "d2", D2, "19:00", "19:20"),
    _venue("binh", "e1", "V-CAFE", D2, "14:00", "15:00"),
    _venue("c1", "f1", "V-COOP", DAY, "17:00", "17:45"),
    _ble("d1", "f2", DAY, "20:00", "20:30"),
]

TIERS = {"an": "F0", "binh": "F0", **{name: "F1" for name in ("c1", "c2", "c3", "c4", "c5", "c6", "d1", "d2", "e1")},
         "f1": "F2", "f2": "F2"}

# Check-ins that are not exposures: they decide the Bluetooth-only person's district.
EXTRA_CHECKINS: list[tuple[str, str, date, str]] = [
    ("d1", "V-CAFE", DAY - timedelta(days=3), "07:00"),
    ("d1", "V-CAFE", DAY - timedelta(days=2), "07:00"),
    ("d1", "V-CAFE", DAY, "07:00"),
    ("d1", "V-MARKET", DAY - timedelta(days=1), "12:00"),
    *[("d1", "V-GHOST", DAY - timedelta(days=day), "18:00") for day in range(5)],
    # Outside the 14-day lookback: must not count.
    *[("d2", "V-CAFE", DAY - timedelta(days=20 + day), "09:00") for day in range(3)],
]

QUARANTINED: list[tuple[str, str]] = [
    ("checkins", "malformed id in person_id"),
    ("checkins", "malformed id in person_id"),
    ("checkins", "malformed id in person_id"),
    ("checkins", "missing field venue_id"),
    ("proximity", "rssi out of range"),
    ("proximity", "rssi out of range"),
    ("case_reports", "missing field sample_date"),
]

@dataclass
class Expected:
    """The answers a reader of this page would give, for the tests to compare against."""

    exposed: int = 11
    f1: int = 9
    f2: int = 2
    districts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            "760": {"F1": 6, "F2": 0},
            "770": {"F1": 2, "F2": 1},
            "unknown": {"F1": 1, "F2": 1},
        }
    )
    priority_760: tuple[str, ...] = ("c3", "c5", "c6", "c1", "c2", "c4")
    quarantined: int = len(QUARANTINED)
    f1_became_f0: int = 1


EXPECTED = Expected()


def _write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


class _Offsets:
    """Kafka offsets per topic, so every raw row looks landed."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, topic: str) -> int:
        offset = self._next.get(topic, 0)
        self._next[topic] = offset + 1
        return offset


def _kafka(topic: str, offset: int) -> dict[str, Any]:
    return {"kafka_topic": topic, "kafka_partition": 0, "kafka_offset": offset, "kafka_timestamp": INGESTED}


def _local_day(instant: datetime) -> date:
    return (instant + LOCAL).date()


def _write_raw(lake: Path, topic: str, rows: Iterable[dict[str, Any]], day_of: Any) -> None:
    by_day: dict[date, list[dict[str, Any]]] = {}
    for row in rows:
        by_day.setdefault(day_of(row), []).append(row)
    for day, day_rows in by_day.items():
        table = pa.Table.from_pylist(day_rows, schema=RAW[topic])
        first = day_rows[0]["kafka_offset"]
        directory = lake / "raw" / topic / f"date={day.isoformat()}"
        _write(table, directory / segment_file_name(topic, 0, INCARNATION, first))


def _raw_tables(lake: Path) -> None:
    offsets = _Offsets()
    venues = [
        {"event_id": "v-old", "venue_id": "V-MARKET", "name": "Chợ cũ (tên sai)", "district_code": "999",
         "province_code": "79", "kind": "market", "lat": 10.77, "lon": 106.70},
        *[
            {"event_id": f"v-{venue}", "venue_id": venue, "name": name, "district_code": VENUE_DISTRICTS[venue],
             "province_code": "79", "kind": "shop", "lat": 10.78, "lon": 106.69}
            for venue, name in VENUE_NAMES.items()
        ],
    ]
    venues = [{**row, **_kafka("venues", offsets.take("venues"))} for row in venues]
    _write_raw(lake, "venues", venues, lambda row: date(2021, 7, 20))

    checkins: list[dict[str, Any]] = []
    for edge in EDGES:
        if edge.channel != "venue" or edge.venue_id is None:
            continue
        for person, start, end in ((edge.source, edge.start - timedelta(minutes=10), edge.end),
                                   (edge.target, edge.start, edge.end)):
            checkins.append({"person_pseudonym": pseudonym(person), "venue_id": edge.venue_id,
                             "checkin_at": start, "checkout_at": end})
    for person, venue, day, at in EXTRA_CHECKINS:
        checkins.append({"person_pseudonym": pseudonym(person), "venue_id": venue,
                         "checkin_at": local(day, at), "checkout_at": None})
    checkin_rows = [
        {"event_id": f"ci-{index}", **row, "source": "qr_venue", **_kafka("checkins", offsets.take("checkins"))}
        for index, row in enumerate(checkins)
    ]
    _write_raw(lake, "checkins", checkin_rows, lambda row: _local_day(row["checkin_at"]))

    sightings: list[dict[str, Any]] = []
    for edge in EDGES:
        if edge.channel != "ble":
            continue
        instants = [edge.start + timedelta(minutes=5 * step) for step in range(int(edge.minutes // 5) + 1)]
        if instants[-1] != edge.end:
            instants.append(edge.end)
        sightings.extend(
            {"reporter_pseudonym": pseudonym(edge.source), "contact_pseudonym": pseudonym(edge.target),
             "rssi": -60, "reporter_os": "android", "contact_os": "android", "observed_at": instant,
             "tx_power": None}
            for instant in instants
        )
    sighting_rows = [
        {"event_id": f"px-{index}", **row, **_kafka("proximity", offsets.take("proximity"))}
        for index, row in enumerate(sightings)
    ]
    _write_raw(lake, "proximity", sighting_rows, lambda row: _local_day(row["observed_at"]))

    reports = [
        {"person_pseudonym": pseudonym("an"), "kind": "confirmed", "reported_at": local(DAY, "06:00"),
         "sample_date": DAY - timedelta(days=1), "onset_date": None, "isolated_at": None},
        {"person_pseudonym": pseudonym("binh"), "kind": "confirmed", "reported_at": local(DAY, "06:30"),
         "sample_date": D2, "onset_date": None, "isolated_at": None},
        {"person_pseudonym": pseudonym("c1"), "kind": "confirmed", "reported_at": local(LATER_DAY, "09:00"),
         "sample_date": LATER_DAY, "onset_date": None, "isolated_at": None},
    ]
    report_rows = [
        {"event_id": f"cr-{index}", **row, **_kafka("case_reports", offsets.take("case_reports"))}
        for index, row in enumerate(reports)
    ]
    _write_raw(lake, "case_reports", report_rows, lambda row: _local_day(row["reported_at"]))


def _quarantine(lake: Path) -> None:
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for index, (topic, reason) in enumerate(QUARANTINED):
        by_topic.setdefault(topic, []).append(
            {"kafka_topic": topic, "kafka_partition": 0, "kafka_offset": 1000 + index, "kafka_timestamp": INGESTED,
             "event_id": f"bad-{index}", "reason": reason, "landed_at": INGESTED}
        )
    for topic, rows in by_topic.items():
        table = pa.Table.from_pylist(rows, schema=QUARANTINE)
        directory = lake / "quarantine" / topic / f"date={DAY.isoformat()}"
        _write(table, directory / segment_file_name(topic, 0, INCARNATION, 1000))


def _exposure_rows(edges: list[Edge]) -> list[dict[str, Any]]:
    rows = []
    for target in sorted({edge.target for edge in edges}):
        mine = [edge for edge in edges if edge.target == target]
        sources = sorted({edge.source for edge in mine})
        upstream = {edge.source for edge in EDGES if edge.target in sources and TIERS[edge.source] == "F0"}
        cases = sorted({source for source in sources if TIERS[source] == "F0"} | upstream)
        rows.append(
            {
                "target": target,
                "tier": TIERS[target],
                "first_exposure_at": min(edge.start for edge in mine),
                "last_exposure_at": max(edge.end for edge in mine),
                "exposure_minutes": sum(edge.minutes for edge in mine),
                "channels": [channel for channel in ("venue", "ble") if any(edge.channel == channel for edge in mine)],
                "sources": sources,
                "cases": cases,
                "venue_ids": sorted({edge.venue_id for edge in mine if edge.venue_id}),
            }
        )
    return rows


def _curated_and_export(lake: Path, day: date, edges: list[Edge], cases: list[str]) -> None:
    part = f"date={day.isoformat()}"
    contacts = pa.Table.from_pylist(
        [
            {"source_pseudonym": pseudonym(edge.source), "source_tier": TIERS[edge.source],
             "target_pseudonym": pseudonym(edge.target), "target_tier": TIERS[edge.target],
             "channel": edge.channel, "venue_id": edge.venue_id, "exposure_start": edge.start,
             "exposure_end": edge.end, "exposure_minutes": edge.minutes, "rules_version": RULES_VERSION}
            for edge in edges
        ],
        schema=CONTACTS,
    )
    _write(contacts, lake / "curated" / "contacts" / part / "part-00000.parquet")
    rows = _exposure_rows(edges)
    curated = pa.Table.from_pylist(
        [
            {"person_pseudonym": pseudonym(row["target"]), "tier": row["tier"],
             "first_exposure_at": row["first_exposure_at"], "last_exposure_at": row["last_exposure_at"],
             "exposure_minutes": row["exposure_minutes"], "channels": row["channels"],
             "source_pseudonyms": [pseudonym(name) for name in row["sources"]],
             "case_pseudonyms": [pseudonym(name) for name in row["cases"]],
             "venue_ids": row["venue_ids"], "rules_version": RULES_VERSION}
            for row in rows
        ],
        schema=EXPOSURES_CURATED,
    )
    _write(curated, lake / "curated" / "exposures" / part / "part-00000.parquet")
    export = pa.Table.from_pylist(
        [
            {"person_id": PEOPLE[row["target"]], "tier": row["tier"],
             "first_exposure_at": row["first_exposure_at"], "last_exposure_at": row["last_exposure_at"],
             "exposure_minutes": row["exposure_minutes"], "channels": row["channels"],
             "source_ids": [PEOPLE[name] for name in row["sources"]],
             "case_ids": [PEOPLE[name] for name in row["cases"]],
             "venue_ids": row["venue_ids"], "rules_version": RULES_VERSION}
            for row in rows
        ],
        schema=EXPOSURES_EXPORT,
    )
    _write(export, lake / "exports" / "exposures" / part / "part-00000.parquet")
    end_of_day = local(day + timedelta(days=1), "00:00")
    case_table = pa.Table.from_pylist(
        [
            {"person_pseudonym": pseudonym(name), "status": "confirmed",
             "window_start": local(day - timedelta(days=3), "00:00"), "window_end": end_of_day,
             "isolated_at": None, "rules_version": RULES_VERSION}
            for name in cases
        ],
        schema=CASES,
    )
    _write(case_table, lake / "curated" / "cases" / part / "part-00000.parquet")


def _manifest(lake: Path, day: date, tiers: dict[str, int]) -> None:
    """The trace job's manifest, shaped like `jobs.trace.manifest.manifest` writes it (the fields the outputs read)."""
    path = Path(Lake(str(lake)).manifest("trace", day))
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "job": "trace",
        "day": day.isoformat(),
        "engine": "duckdb",
        "rules_version": RULES_VERSION,
        "inputs": {
            "case_reports": {"files": 2, "rows_read": 3, "duplicates_dropped": 0, "rows_kept": 3},
            "checkins": {"files": 8, "rows_read": 40, "duplicates_dropped": 2, "rows_kept": 38},
            "proximity": {"files": 2, "rows_read": 24, "duplicates_dropped": 0, "rows_kept": 24},
        },
        "tier_counts": tiers,
        "timings": {"total": 1.5},
    }
    path.write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")


def _vault(vault: Path) -> None:
    table = pa.table({"pseudonym": [pseudonym(name) for name in PEOPLE], "person_id": list(PEOPLE.values())},
                     schema=VAULT)
    _write(table, vault / "identities" / "checkins+0+00000000000000000000.parquet")


def build_lake(root: Path) -> tuple[Path, Path]:
    """Write the story above under `root/lake` (and its vault under `root/lake-vault`)."""
    lake, vault = root / "lake", root / "lake-vault"
    _raw_tables(lake)
    _quarantine(lake)
    _curated_and_export(lake, DAY, EDGES, ["an", "binh"])
    _manifest(lake, DAY, {"F0": 2, "F1": EXPECTED.f1, "F2": EXPECTED.f2})
    # Two days later c1 is an F0 and nobody new is exposed.
    _curated_and_export(lake, LATER_DAY, [], ["an", "binh", "c1"])
    _manifest(lake, LATER_DAY, {"F0": 3, "F1": 0, "F2": 0})
    _vault(vault)
    return lake, vault


def build_empty_lake(root: Path) -> Path:
    """A lake root with nothing in it yet: what a fresh deployment's analysts open first."""
    lake = root / "empty-lake"
    lake.mkdir(parents=True)
    return lake
