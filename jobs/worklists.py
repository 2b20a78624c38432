"""The tracers' worklists: who to call first, per district, with a reason they can read out.

A district's tracers open one file in the morning and call from the top. The
list holds the day's F1s and F2s whose exposure is assigned to that district
(the `exposure_districts` rule of `jobs.analyst_db`, the same one analysts and
the report use): sorted F1 before F2, then the most recent last exposure, then
the longest, then venue before Bluetooth, each row with the phone number (or
citizen ID) to call and a plain-text reason in Vietnamese.

This is the one place besides the export where people are re-identified: the
contact graph carries pseudonyms, the identity vault maps them back. The files
go under `exports/`, never into the analysts' views.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
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

from jobs.analyst_db import UNKNOWN_DISTRICT, register_lake_views
from jobs.publication import DIRECT, DayOutputs
from jobs.spreadsheet import safe_row
from schemas.lake import EXPOSURES_EXPORT
from tracelake.audit import record_reidentification
from tracelake.lake import EXPORTS, Lake, filesystem, in_progress_name, join, write_atomically
from tracelake.rules import Rules
from tracelake.settings import Settings
from tracelake.vault import read_identities, vault_key_fingerprint

WORKLISTS = "worklists"
CSV_ENCODING = "utf-8-sig"
"""With a byte-order mark: Excel, which most tracers open the CSV in, then shows Vietnamese correctly."""

COLUMNS: tuple[str, ...] = (
    "priority",
    "tier",
    "phone_or_citizen_id",
    "phone_to_dial",
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
            pa.field("phone_or_citizen_id", pa.string(), nullable=False),
            pa.field("phone_to_dial", pa.string(), nullable=False),
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
    """One district's files and how many people they list."""

    district: str
    f1: int
    f2: int
    csv_path: str
    parquet_path: str

    @property
    def people(self) -> int:
        return self.f1 + self.f2


@dataclass(frozen=True)
class WorklistSummary:
    """What `write_worklists` wrote for a day, for the DAG's log and the report."""

    day: date
    directory: str
    f1: int
    f2: int
    unlinked: int
    """People the vault could not link to the contact graph: listed with the export's facts only."""
    districts: tuple[DistrictWorklist, ...]

    @property
    def people(self) -> int:
        return self.f1 + self.f2

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


@dataclass(frozen=True)
class Entry:
    """One person to call, before the district's priorities are numbered."""

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
    contacts: tuple[Contact, ...]


def priority_key(entry: Entry) -> tuple[int, float, float, int, str]:
    """F1 before F2, most recent last exposure, longest exposure, venue before Bluetooth; then the id."""
    tier_rank = int(entry.tier[1:]) if entry.tier[1:].isdigit() else 99
    return (
        tier_rank,
        -entry.last_exposure_at.timestamp(),
        -entry.exposure_minutes,
        0 if "venue" in entry.channels else 1,
        entry.person_id,
    )


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
    với 2 F0)"); Bluetooth pieces add up per source person and local day, the
    way the rules judge them.
    """
    venue_groups: dict[tuple[str, datetime, datetime], list[str]] = defaultdict(list)
    ble_groups: dict[tuple[date, str], list[Contact]] = defaultdict(list)
    for contact in contacts:
        if contact.channel == "venue":
            place = contact.venue_name or f"địa điểm {contact.venue_id or 'không rõ'}"
            venue_groups[(place, contact.start, contact.end)].append(contact.source_tier)
        else:
            ble_groups[(contact.start.astimezone(zone).date(), contact.source_pseudonym)].append(contact)
    lines: list[tuple[datetime, str]] = []
    for (place, start, end), tiers in venue_groups.items():
        lines.append((start, f"Cùng có mặt tại {place} {_span_text(start, end, zone)} {_whom(tiers)}"))
    for (day, _source), pieces in ble_groups.items():
        minutes = sum(piece.minutes for piece in pieces)
        first = min(piece.start for piece in pieces)
        text = f"Bluetooth: {_minutes_text(minutes)} ngày {day.strftime('%d/%m')} {_whom([pieces[0].source_tier])}"
        lines.append((first, text))
    return "; ".join(text for _start, text in sorted(lines))


def _fallback_reason(entry: Entry, zone: ZoneInfo) -> str:
    """When the vault cannot link a person to the contact graph: say what the export knows."""
    ways = " và ".join("địa điểm" if channel == "venue" else "Bluetooth" for channel in entry.channels)
    return (
        f"Tiếp xúc qua {ways or 'không rõ'}: {_minutes_text(entry.exposure_minutes)}, "
        f"lần cuối {_clock(entry.last_exposure_at, zone)} ngày {_day_text(entry.last_exposure_at, zone)}"
    )


def _read_export(lake: Lake, day: date, outputs: DayOutputs) -> pa.Table:
    fs, path = filesystem(outputs.source(lake.export_day("exposures", day)))
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return EXPOSURES_EXPORT.empty_table()
    return ds.dataset(path, format="parquet", filesystem=fs, schema=EXPOSURES_EXPORT).to_table()


def _entries(con: duckdb.DuckDBPyConnection, day: date, zone: ZoneInfo) -> list[Entry]:
    """The export's rows, each linked through the vault to its district and its contacts."""
    rows = con.execute(
        """
        WITH linked AS (
            SELECT x.*, v.pseudonym, d.district_code, d.district_basis
            FROM export x
            LEFT JOIN vault v ON v.person_id = x.person_id
            LEFT JOIN (SELECT * FROM exposure_districts WHERE date = $day) d ON d.person_pseudonym = v.pseudonym
            QUALIFY row_number() OVER (PARTITION BY x.person_id ORDER BY d.district_code IS NULL, v.pseudonym) = 1
        ),
        export_venue AS (
            SELECT l.person_id, min(vn.district_code) AS district_code
            FROM linked l, unnest(l.venue_ids) AS u(venue_id)
            JOIN venues vn ON vn.venue_id = u.venue_id
            GROUP BY l.person_id
        )
        SELECT l.person_id, l.tier, l.first_exposure_at, l.last_exposure_at, l.exposure_minutes, l.channels,
               l.case_ids, l.venue_ids, l.rules_version, l.pseudonym,
               coalesce(l.district_code, ev.district_code, $unknown) AS district,
               CASE WHEN l.district_code IS NOT NULL THEN l.district_basis
                    WHEN ev.district_code IS NOT NULL THEN 'exposure_venue'
                    ELSE $unknown END AS district_basis
        FROM linked l LEFT JOIN export_venue ev USING (person_id)
        """,
        {"day": day, "unknown": UNKNOWN_DISTRICT},
    ).fetchall()
    edges = con.execute(
        """
        SELECT c.target_pseudonym, c.source_pseudonym, c.source_tier, c.channel, c.venue_id, v.name,
               c.exposure_start, c.exposure_end, c.exposure_minutes
        FROM contacts c LEFT JOIN venues v ON v.venue_id = c.venue_id
        WHERE c.date = $day
        ORDER BY c.exposure_start, c.exposure_end, c.source_pseudonym
        """,
        {"day": day},
    ).fetchall()
    contacts: dict[str, list[Contact]] = defaultdict(list)
    for target, *edge in edges:
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
            contacts=tuple(contacts.get(pseudonym, ())) if pseudonym else (),
        )
        for (person_id, tier, first, last, minutes, channels, case_ids, venue_ids, version, pseudonym,
             district, basis) in rows
    ]


def _venue_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT venue_id, name FROM venues").fetchall())


def _rows(entries: Sequence[Entry], zone: ZoneInfo, names: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for priority, entry in enumerate(sorted(entries, key=priority_key), start=1):
        reason = reason_text(entry.contacts, zone) if entry.contacts else _fallback_reason(entry, zone)
        rows.append(
            {
                "priority": priority,
                "tier": entry.tier,
                "phone_or_citizen_id": entry.person_id,
                "phone_to_dial": phone_to_dial(entry.person_id),
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


def _write_bytes(fs: pafs.FileSystem, final: str, payload: bytes) -> None:
    temporary = in_progress_name(final)
    with fs.open_output_stream(temporary) as stream:
        stream.write(payload)
    fs.move(temporary, final)


def district_dir_name(code: str) -> str:
    """The `<code>` of `district=<code>`: the code percent-encoded, so two codes never share a folder.

    ASCII letters, digits and `-_.~` stay as written (a plain code reads as
    itself); every other byte of the code's UTF-8, `%` and `/` included,
    becomes `%XX`: `Q 1` is `Q%201`, `Q/1` is `Q%2F1`.
    """
    return quote(code, safe="")


def default_vault(lake_root: str) -> str:
    """The vault the settings point at for this lake (`TRACELAKE_VAULT`, else `<lake>-vault`)."""
    return Settings(lake=lake_root).vault_location


def write_worklists(
    lake_root: str, day: date, rules: Rules, *, vault: str | None = None, outputs: DayOutputs = DIRECT
) -> WorklistSummary:
    """Write `exports/worklists/date=D/district=<code>/worklist.{csv,parquet}`, replacing D's lists.

    Reads the day's export (phones), the curated contact graph and the latest
    venues; `vault` (default: the configured one) links pseudonyms to phones.
    `outputs` says where D's tables are read and the lists written (a
    publication's staging tree; the summary names the published places).
    """
    lake = Lake(lake_root)
    zone = rules.zone
    con = duckdb.connect()
    try:
        vault = vault or default_vault(lake_root)
        register_lake_views(con, lake_root, rules, outputs)
        con.register("export", _read_export(lake, day, outputs))
        con.register("vault", read_identities(vault))
        entries = _entries(con, day, zone)
        names = _venue_names(con)
    finally:
        con.close()
    record_reidentification(
        vault, day=day, output=join(EXPORTS, WORKLISTS), people=len(entries),
        key_fingerprint=vault_key_fingerprint(vault),
    )

    fs, root = filesystem(lake_root)
    directory = join(root, EXPORTS, WORKLISTS, f"date={day.isoformat()}")
    staged = outputs.target(directory)
    if fs.get_file_info(staged).type == pafs.FileType.Directory:
        fs.delete_dir(staged)
    by_district: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_district[entry.district].append(entry)

    schema = worklist_schema(rules.timezone)
    written: list[DistrictWorklist] = []
    for district in sorted(by_district):
        rows = _rows(by_district[district], zone, names)
        folder = join(directory, f"district={district_dir_name(district)}")
        staged_folder = outputs.target(folder)
        fs.create_dir(staged_folder, recursive=True)
        csv_path, parquet_path = join(folder, "worklist.csv"), join(folder, "worklist.parquet")
        _write_bytes(fs, join(staged_folder, "worklist.csv"), _csv_bytes(rows))
        write_atomically(pa.Table.from_pylist(rows, schema=schema), fs, join(staged_folder, "worklist.parquet"))
        tiers = [row["tier"] for row in rows]
        written.append(
            DistrictWorklist(district, tiers.count("F1"), tiers.count("F2"), _located(lake_root, root, csv_path),
                             _located(lake_root, root, parquet_path))
        )
    return WorklistSummary(
        day=day,
        directory=_located(lake_root, root, directory),
        f1=sum(worklist.f1 for worklist in written),
        f2=sum(worklist.f2 for worklist in written),
        unlinked=sum(1 for entry in entries if not entry.contacts),
        districts=tuple(written),
    )


def _located(lake_root: str, root: str, path: str) -> str:
    """A path inside the filesystem, given back in the caller's spelling (URI or local path)."""
    if "://" in lake_root and path.startswith(root):
        return lake_root.rstrip("/") + path[len(root.rstrip("/")):]
    return path
