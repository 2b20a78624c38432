"""The tracers' worklists: who to call first, per district, with a reason they can read out.

A district's tracers open one file in the morning and call from the top. The
day's F1s and F2s are assigned to districts (the `exposure_districts` rule of
`jobs.publish.analyst_db`, the same one analysts and the report use) and ranked by
tier (every F1 above every F2), then by what changed since the previous
published day (`jobs.publish.changes`: new, upgraded, late and changed before
unchanged, so tracers call first whom they have not called about this yet),
then by the risk score (`jobs.trace.risk`), the most recent last exposure, the
longest, venue before Bluetooth, and the id. Each row has the phone number
(or citizen ID) to call, its change, the score and a plain-text reason in
Vietnamese ("giờ ra ước tính" where an exposure rests on a check-out nobody
scanned).

A district's team makes so many calls a day (`jobs.publish.capacity`): its worklist
holds the top of its ranking up to that many, and everyone below goes to the
notification list (`jobs.publish.notifications`), so nobody is left out. The ranking
and the split are one DuckDB query; only the people to call get a reason
written out.

This is the one place besides the export where people are re-identified: the
contact graph carries pseudonyms, the identity vault maps them back. The files
go under `exports/`, never into the analysts' views.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import duckdb
import phonenumbers
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from jobs.publication import DIRECT, DayOutputs
from jobs.publish.analyst_db import UNKNOWN_DISTRICT, register_lake_views
from jobs.publish.capacity import days_to_clear
from jobs.publish.changes import STATUSES, diff
from jobs.publish.notifications import NOTIFY_FILE, Notice, notify_csv
from jobs.spreadsheet import safe_row
from schemas.lake import EXPOSURES_EXPORT
from tracelake.core.audit import record_reidentification
from tracelake.core.lake import EXPORTS, NOTIFICATIONS, Lake, filesystem, join, write_atomically, write_bytes_atomically
from tracelake.core.rules import Rules
from tracelake.core.vault import read_identities, vault_key_fingerprint

WORKLISTS = "worklists"
IMPUTED_TEXT = "giờ ra ước tính"
"""Said of an exposure whose end is the default stay: nobody scanned the check-out."""
CSV_ENCODING = "utf-8-sig"
"""With a byte-order mark: Excel, which most tracers open the CSV in, then shows Vietnamese correctly."""

COLUMNS: tuple[str, ...] = (
    "priority",
    "tier",
    "change",
    "phone_or_citizen_id",
    "phone_to_dial",
    "risk_score",
    "reason",
    "last_exposure_local",
    "first_exposure_local",
    "exposure_minutes",
    "channels",
    "venues",
    "district",
    "district_basis",
    "source_case_ids",
    "rules_version",
)


def worklist_schema(zone: str) -> pa.Schema:
    """The Parquet twin of the CSV: the same columns, with real local timestamps."""
    local_time = pa.timestamp("us", tz=zone)
    return pa.schema(
        [
            pa.field("priority", pa.int32(), nullable=False),
            pa.field("tier", pa.string(), nullable=False),
            pa.field("change", pa.string(), nullable=False),
            pa.field("phone_or_citizen_id", pa.string(), nullable=False),
            pa.field("phone_to_dial", pa.string(), nullable=False),
            pa.field("risk_score", pa.float64()),
            pa.field("reason", pa.string(), nullable=False),
            pa.field("last_exposure_local", local_time, nullable=False),
            pa.field("first_exposure_local", local_time, nullable=False),
            pa.field("exposure_minutes", pa.float64(), nullable=False),
            pa.field("channels", pa.string(), nullable=False),
            pa.field("venues", pa.string(), nullable=False),
            pa.field("district", pa.string(), nullable=False),
            pa.field("district_basis", pa.string(), nullable=False),
            pa.field("source_case_ids", pa.string(), nullable=False),
            pa.field("rules_version", pa.string(), nullable=False),
        ]
    )


@dataclass(frozen=True)
class DistrictWorklist:
    """One district's files and how many people they list: `people` in all, the top to call, the rest to text."""

    district: str
    f1: int
    f2: int
    people: int
    to_notify: int
    calls_per_day: int
    csv_path: str
    parquet_path: str
    notify_path: str | None
    """None when the district can call everyone today."""

    @property
    def to_call(self) -> int:
        return self.people - self.to_notify

    @property
    def days_to_clear(self) -> int | None:
        """Days the team needs to call everyone exposed today, today included; None when it makes no calls."""
        return days_to_clear(self.people, self.calls_per_day)


@dataclass(frozen=True)
class WorklistSummary:
    """What `write_worklists` wrote for a day, for the DAG's log and the report."""

    day: date
    directory: str
    f1: int
    f2: int
    people: int
    to_notify: int
    unlinked: int
    """People the vault could not link to the contact graph: listed with the export's facts only."""
    districts: tuple[DistrictWorklist, ...]

    @property
    def to_call(self) -> int:
        return self.people - self.to_notify

    def by_district(self) -> dict[str, DistrictWorklist]:
        return {worklist.district: worklist for worklist in self.districts}


@dataclass(frozen=True)
class Contact:
    """One edge of the contact graph into a listed person, as a tracer needs it."""

    source_pseudonym: str
    source_tier: str
    channel: str
    venue_id: str | None
    venue_name: str | None
    start: datetime
    end: datetime
    minutes: float
    imputed_checkout: bool | None
    """The exposure rests on a default stay (null in days traced before the flag)."""


@dataclass(frozen=True)
class Entry:
    """One person to call, at their place in the district's ranking."""

    person_id: str
    tier: str
    first_exposure_at: datetime
    last_exposure_at: datetime
    exposure_minutes: float
    channels: tuple[str, ...]
    case_ids: tuple[str, ...]
    venue_ids: tuple[str, ...]
    rules_version: str
    district: str
    district_basis: str
    imputed_checkout: bool | None
    risk_score: float | None
    priority: int
    change: str
    contacts: tuple[Contact, ...]


def phone_to_dial(person_id: str) -> str:
    """The number as a Vietnamese tracer dials it (`0912 345 678`); empty for a citizen ID.

    The spaces also keep spreadsheets from reading it as a number and dropping
    the leading zero or the plus sign of the E.164 column next to it.
    """
    if not person_id.startswith("+"):
        return ""
    try:
        number = phonenumbers.parse(person_id, None)
    except phonenumbers.NumberParseException:
        return ""
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return national if national.startswith("0") else "0" + national


def _minutes_text(minutes: float) -> str:
    return f"{max(1, int(minutes + 0.5))} phút"


def _clock(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def _day_text(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%d/%m")


def _span_text(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    if start.astimezone(zone).date() == end.astimezone(zone).date():
        return f"{_clock(start, zone)}–{_clock(end, zone)} ngày {_day_text(start, zone)}"
    return f"{_clock(start, zone)} ngày {_day_text(start, zone)}–{_clock(end, zone)} ngày {_day_text(end, zone)}"


def _whom(tiers: Sequence[str]) -> str:
    counted = sorted(set(tiers))
    parts = [f"{tiers.count(tier)} {tier}" if tiers.count(tier) > 1 else tier for tier in counted]
    return f"(tiếp xúc với {', '.join(parts)})"


def reason_text(contacts: Iterable[Contact], zone: ZoneInfo) -> str:
    """Each exposure as a tracer would say it, oldest first.

    Venue exposures sharing a place and a time read as one line ("... (tiếp xúc
    với 2 F0)"), marked "(giờ ra ước tính)" when one of them rests on a
    default stay; Bluetooth pieces add up per source person and local day, the
    way the rules judge them.
    """
    venue_groups: dict[tuple[str, datetime, datetime], list[Contact]] = defaultdict(list)
    ble_groups: dict[tuple[date, str], list[Contact]] = defaultdict(list)
    for contact in contacts:
        if contact.channel == "venue":
            place = contact.venue_name or f"địa điểm {contact.venue_id or 'không rõ'}"
            venue_groups[(place, contact.start, contact.end)].append(contact)
        else:
            ble_groups[(contact.start.astimezone(zone).date(), contact.source_pseudonym)].append(contact)
    lines: list[tuple[datetime, str]] = []
    for (place, start, end), together in venue_groups.items():
        estimated = f" ({IMPUTED_TEXT})" if any(contact.imputed_checkout for contact in together) else ""
        whom = _whom([contact.source_tier for contact in together])
        lines.append((start, f"Cùng có mặt tại {place} {_span_text(start, end, zone)}{estimated} {whom}"))
    for (day, _source), pieces in ble_groups.items():
        minutes = sum(piece.minutes for piece in pieces)
        first = min(piece.start for piece in pieces)
        text = f"Bluetooth: {_minutes_text(minutes)} ngày {day.strftime('%d/%m')} {_whom([pieces[0].source_tier])}"
        lines.append((first, text))
    return "; ".join(text for _start, text in sorted(lines))


def _fallback_reason(entry: Entry, zone: ZoneInfo) -> str:
    """When the vault cannot link a person to the contact graph: say what the export knows."""
    ways = " và ".join("địa điểm" if channel == "venue" else "Bluetooth" for channel in entry.channels)
    estimated = f" ({IMPUTED_TEXT})" if entry.imputed_checkout else ""
    return (
        f"Tiếp xúc qua {ways or 'không rõ'}: {_minutes_text(entry.exposure_minutes)}, "
        f"lần cuối {_clock(entry.last_exposure_at, zone)} ngày {_day_text(entry.last_exposure_at, zone)}{estimated}"
    )


def _read_export(lake: Lake, day: date, outputs: DayOutputs) -> pa.Table:
    fs, path = filesystem(outputs.source(lake.export_day("exposures", day)))
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return EXPOSURES_EXPORT.empty_table()
    return ds.dataset(path, format="parquet", filesystem=fs, schema=EXPOSURES_EXPORT).to_table()


_RANKED = """
CREATE OR REPLACE TEMP TABLE ranked AS
WITH linked AS (
    SELECT x.*, v.pseudonym, d.district_code, d.district_basis
    FROM export x
    LEFT JOIN vault v ON v.person_id = x.person_id
    LEFT JOIN (SELECT * FROM exposure_districts WHERE date = $day) d ON d.person_pseudonym = v.pseudonym
    QUALIFY row_number() OVER (PARTITION BY x.person_id ORDER BY d.district_code IS NULL, v.pseudonym) = 1
), export_venue AS (
    SELECT l.person_id, min(vn.district_code) AS district_code
    FROM linked l, unnest(l.venue_ids) AS u(venue_id)
    JOIN venues vn ON vn.venue_id = u.venue_id
    GROUP BY l.person_id
), placed AS (
    SELECT l.person_id, l.tier, l.first_exposure_at, l.last_exposure_at, l.exposure_minutes, l.channels,
           l.case_ids, l.venue_ids, l.rules_version, l.pseudonym,
           coalesce(l.district_code, ev.district_code, $unknown) AS district,
           CASE WHEN l.district_code IS NOT NULL THEN l.district_basis
                WHEN ev.district_code IS NOT NULL THEN 'exposure_venue'
                ELSE $unknown END AS district_basis,
           l.imputed_checkout, l.risk_score, coalesce(ch.change, 'new') AS change
    FROM linked l LEFT JOIN export_venue ev USING (person_id)
    LEFT JOIN changes ch ON ch.person_pseudonym = l.pseudonym
)
SELECT p.*, coalesce(c.calls_per_day, $default_calls) AS calls_per_day,
       CAST(row_number() OVER (
           PARTITION BY p.district
           ORDER BY coalesce(TRY_CAST(substr(p.tier, 2) AS INTEGER), 99), list_position($statuses, p.change),
                    p.risk_score DESC NULLS LAST,
                    p.last_exposure_at DESC, p.exposure_minutes DESC, list_contains(p.channels, 'venue') DESC,
                    p.person_id
       ) AS INTEGER) AS priority
FROM placed p LEFT JOIN capacity c ON c.district_code = p.district
"""
"""Every person of the export with their district, its calls a day and their place in its ranking."""

_TO_CALL = """
SELECT person_id, tier, first_exposure_at, last_exposure_at, exposure_minutes, channels, case_ids, venue_ids,
       rules_version, district, district_basis, imputed_checkout, risk_score, priority, change, pseudonym
FROM ranked WHERE priority <= calls_per_day ORDER BY district, priority
"""

_THEIR_CONTACTS = """
SELECT c.target_pseudonym, c.source_pseudonym, c.source_tier, c.channel, c.venue_id, v.name,
       c.exposure_start, c.exposure_end, c.exposure_minutes, c.imputed_checkout
FROM contacts c
JOIN (SELECT DISTINCT pseudonym FROM ranked WHERE priority <= calls_per_day) r ON r.pseudonym = c.target_pseudonym
LEFT JOIN venues v ON v.venue_id = c.venue_id
WHERE c.date = $day
ORDER BY c.exposure_start, c.exposure_end, c.source_pseudonym
"""

_TO_NOTIFY = """
WITH latest AS (
    SELECT c.target_pseudonym, c.channel, c.venue_id
    FROM contacts c
    JOIN (SELECT DISTINCT pseudonym FROM ranked WHERE priority > calls_per_day) r ON r.pseudonym = c.target_pseudonym
    WHERE c.date = $day
    QUALIFY row_number() OVER (
        PARTITION BY c.target_pseudonym ORDER BY c.exposure_end DESC, c.channel = 'venue' DESC, c.venue_id) = 1
)
SELECT r.district, r.person_id, r.tier, r.last_exposure_at, l.channel, coalesce(v.name, l.venue_id)
FROM ranked r
LEFT JOIN latest l ON l.target_pseudonym = r.pseudonym
LEFT JOIN venues v ON v.venue_id = l.venue_id
WHERE r.priority > r.calls_per_day
ORDER BY r.district, r.priority
"""

_DISTRICTS = """
SELECT district, count(*) FILTER (WHERE tier = 'F1'), count(*) FILTER (WHERE tier = 'F2'), count(*),
       count(*) FILTER (WHERE priority > calls_per_day), min(calls_per_day)
FROM ranked GROUP BY district ORDER BY district
"""

_UNLINKED = """
SELECT count(*) FROM ranked r
WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.date = $day AND c.target_pseudonym = r.pseudonym)
"""


def _capacity_table(capacity: Mapping[str, int]) -> pa.Table:
    return pa.table(
        {"district_code": list(capacity), "calls_per_day": list(capacity.values())},
        schema=pa.schema([("district_code", pa.string()), ("calls_per_day", pa.int64())]),
    )


def _to_call(con: duckdb.DuckDBPyConnection, day: date) -> list[Entry]:
    """The people each district calls today, in order, each with their contacts."""
    rows = con.execute(_TO_CALL).fetchall()
    contacts: dict[str, list[Contact]] = defaultdict(list)
    for target, *edge in con.execute(_THEIR_CONTACTS, {"day": day}).fetchall():
        contacts[target].append(Contact(*edge))
    return [
        Entry(
            person_id=person_id,
            tier=tier,
            first_exposure_at=first,
            last_exposure_at=last,
            exposure_minutes=minutes,
            channels=tuple(channels),
            case_ids=tuple(case_ids),
            venue_ids=tuple(venue_ids),
            rules_version=version,
            district=district,
            district_basis=basis,
            imputed_checkout=imputed,
            risk_score=risk,
            priority=priority,
            change=change,
            contacts=tuple(contacts.get(pseudonym, ())) if pseudonym else (),
        )
        for (person_id, tier, first, last, minutes, channels, case_ids, venue_ids, version, district, basis,
             imputed, risk, priority, change, pseudonym) in rows
    ]


def _to_notify(con: duckdb.DuckDBPyConnection, day: date) -> dict[str, list[Notice]]:
    """Per district, the people below its calls of the day, in ranking order."""
    notices: dict[str, list[Notice]] = defaultdict(list)
    for district, *fields in con.execute(_TO_NOTIFY, {"day": day}).fetchall():
        notices[district].append(Notice(*fields))
    return notices


def _venue_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT venue_id, name FROM venues").fetchall())


def _rows(entries: Sequence[Entry], zone: ZoneInfo, names: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for entry in entries:
        reason = reason_text(entry.contacts, zone) if entry.contacts else _fallback_reason(entry, zone)
        rows.append(
            {
                "priority": entry.priority,
                "tier": entry.tier,
                "change": entry.change,
                "phone_or_citizen_id": entry.person_id,
                "phone_to_dial": phone_to_dial(entry.person_id),
                "risk_score": None if entry.risk_score is None else round(entry.risk_score, 1),
                "reason": reason,
                "last_exposure_local": entry.last_exposure_at.astimezone(zone),
                "first_exposure_local": entry.first_exposure_at.astimezone(zone),
                "exposure_minutes": round(entry.exposure_minutes, 1),
                "channels": ", ".join(entry.channels),
                "venues": "; ".join(names.get(venue, venue) for venue in entry.venue_ids),
                "district": entry.district,
                "district_basis": entry.district_basis,
                "source_case_ids": ", ".join(entry.case_ids),
                "rules_version": entry.rules_version,
            }
        )
    return rows


def _csv_bytes(rows: Sequence[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            safe_row(
                {
                    **row,
                    "last_exposure_local": row["last_exposure_local"].strftime("%Y-%m-%d %H:%M"),
                    "first_exposure_local": row["first_exposure_local"].strftime("%Y-%m-%d %H:%M"),
                }
            )
        )
    return buffer.getvalue().encode(CSV_ENCODING)


def district_dir_name(code: str) -> str:
    """The `<code>` of `district=<code>`: the code percent-encoded, so two codes never share a folder.

    ASCII letters, digits and `-_.~` stay as written (a plain code reads as
    itself); every other byte of the code's UTF-8, `%` and `/` included,
    becomes `%XX`: `Q 1` is `Q%201`, `Q/1` is `Q%2F1`.
    """
    return quote(code, safe="")


def write_worklists(
    lake_root: str,
    day: date,
    rules: Rules,
    *,
    vault: str,
    outputs: DayOutputs = DIRECT,
    capacity: Mapping[str, int] | None = None,
    changes: pa.Table | None = None,
) -> WorklistSummary:
    """Write `exports/worklists/date=D/district=<code>/worklist.{csv,parquet}` (the people to call) and
    `exports/notifications/date=D/district=<code>/notify.csv` (the rest), replacing D's lists.

    Reads the day's export (phones), the curated contact graph and the latest
    venues; `vault` (the settings' `vault_location`) links pseudonyms to phones.
    `capacity` is calls a day per district code (`jobs.publish.capacity`); a district
    it does not name makes the rules' `capacity.default_calls_per_day`.
    `outputs` says where D's tables are read and the lists written (a
    publication's staging tree; the summary names the published places).
    `changes` is each person's change since the previous published day
    (`jobs.publish.changes`, person_pseudonym and change); computed here when not given.
    """
    lake = Lake(lake_root)
    zone = rules.zone
    con = duckdb.connect()
    try:
        register_lake_views(con, lake_root, rules, outputs)
        con.register("export", _read_export(lake, day, outputs))
        con.register("vault", read_identities(vault))
        con.register("capacity", _capacity_table(capacity or {}))
        con.register("changes", changes if changes is not None else diff(lake_root, day, rules, outputs)[0])
        con.execute(
            _RANKED,
            {"day": day, "unknown": UNKNOWN_DISTRICT, "default_calls": rules.capacity.default_calls_per_day,
             "statuses": list(STATUSES)},
        )
        entries = _to_call(con, day)
        notices = _to_notify(con, day)
        districts = con.execute(_DISTRICTS).fetchall()
        unlinked = int(con.execute(_UNLINKED, {"day": day}).fetchall()[0][0])
        names = _venue_names(con)
    finally:
        con.close()
    record_reidentification(
        vault, day=day, output=join(EXPORTS, WORKLISTS), people=len(entries),
        key_fingerprint=vault_key_fingerprint(vault),
    )
    if notices:
        record_reidentification(
            vault, day=day, output=join(EXPORTS, NOTIFICATIONS), people=sum(map(len, notices.values())),
            key_fingerprint=vault_key_fingerprint(vault),
        )

    fs, root = filesystem(lake_root)
    directory = join(root, EXPORTS, WORKLISTS, f"date={day.isoformat()}")
    notifications = join(root, EXPORTS, NOTIFICATIONS, f"date={day.isoformat()}")
    for replaced in (directory, notifications):
        staged = outputs.target(replaced)
        if fs.get_file_info(staged).type == pafs.FileType.Directory:
            fs.delete_dir(staged)
    by_district: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_district[entry.district].append(entry)

    schema = worklist_schema(rules.timezone)
    written: list[DistrictWorklist] = []
    for district, f1, f2, people, to_notify, calls in districts:
        rows = _rows(by_district[district], zone, names)
        folder = join(directory, f"district={district_dir_name(district)}")
        staged_folder = outputs.target(folder)
        fs.create_dir(staged_folder, recursive=True)
        csv_path, parquet_path = join(folder, "worklist.csv"), join(folder, "worklist.parquet")
        write_bytes_atomically(_csv_bytes(rows), fs, join(staged_folder, "worklist.csv"))
        write_atomically(pa.Table.from_pylist(rows, schema=schema), fs, join(staged_folder, "worklist.parquet"))
        notify_path = None
        if district in notices:
            notify_folder = join(notifications, f"district={district_dir_name(district)}")
            staged_notify = outputs.target(notify_folder)
            fs.create_dir(staged_notify, recursive=True)
            notify_path = join(notify_folder, NOTIFY_FILE)
            write_bytes_atomically(notify_csv(notices[district], zone), fs, join(staged_notify, NOTIFY_FILE))
        written.append(
            DistrictWorklist(
                district, f1, f2, people, to_notify, calls, _located(lake_root, root, csv_path),
                _located(lake_root, root, parquet_path),
                None if notify_path is None else _located(lake_root, root, notify_path),
            )
        )
    return WorklistSummary(
        day=day,
        directory=_located(lake_root, root, directory),
        f1=sum(worklist.f1 for worklist in written),
        f2=sum(worklist.f2 for worklist in written),
        people=sum(worklist.people for worklist in written),
        to_notify=sum(worklist.to_notify for worklist in written),
        unlinked=unlinked,
        districts=tuple(written),
    )


def _located(lake_root: str, root: str, path: str) -> str:
    """A path inside the filesystem, given back in the caller's spelling (URI or local path)."""
    if "://" in lake_root and path.startswith(root):
        return lake_root.rstrip("/") + path[len(root.rstrip("/")):]
    return path
