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
notification list (`jobs.publish.notifications`), so nobody is left out. The ranking,
the split, the reasons and the messages are DuckDB queries and the files are
written from their Arrow tables a column at a time (`jobs.publish.csv_columns`):
no Python call per person, so a province's million rows cost what their writing
costs.

This is the one place besides the export where people are re-identified: the
contact graph carries pseudonyms, the identity vault maps them back. The files
go under `exports/`, never into the analysts' views.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from jobs.publication import DIRECT, DayOutputs
from jobs.publish.analyst_db import UNKNOWN_DISTRICT
from jobs.publish.capacity import days_to_clear
from jobs.publish.changes import STATUSES, diff
from jobs.publish.csv_columns import csv_bytes, safe_column
from jobs.publish.day_views import DayViews, day_views
from jobs.publish.notifications import NOTIFY_FILE, NOTIFY_SELECT, notify_csv
from schemas.lake import EXPOSURES_EXPORT, UTC_TIME
from tracelake.core import duckdb_memory
from tracelake.core.audit import record_reidentification
from tracelake.core.lake import EXPORTS, NOTIFICATIONS, Lake, filesystem, join, write_atomically, write_bytes_atomically
from tracelake.core.rules import Rules
from tracelake.core.vault import read_identities, vault_key_fingerprint

WORKLISTS = "worklists"
IMPUTED_TEXT = "giờ ra ước tính"
"""Said of an exposure whose end is the default stay: nobody scanned the check-out."""

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


_VN_NUMBER = r"^\+84[1-9][0-9]{4,13}$"
_SHAPE_PREFIX = len("+84") + 3
"""libphonenumber formats a `+84` number without a national prefix 0 by its first national digits (at most
three in VN's leading-digit patterns) and its count of digits (its format patterns are runs of `\\d`):
numbers sharing their first three national digits and their length are written alike."""

Template = tuple[str | tuple[int, int], ...]
"""A way of writing a number: literal text, and (start, stop) slices of the E.164 id."""


def _template(number: str) -> Template | None:
    """How `phone_to_dial` writes the numbers shaped like `number`; None when it cannot be told from the shape.

    The digits of the written form are matched from the end with those of the id after its shape prefix;
    the template is then checked on two other numbers of the same shape, digits changed.
    """
    written = phone_to_dial(number)
    pieces: list[str | int] = []
    position = len(number) - 1
    for character in reversed(written):
        if position >= _SHAPE_PREFIX and character == number[position]:
            pieces.append(position)
            position -= 1
        else:
            pieces.append(character)
    if position >= _SHAPE_PREFIX:
        return None
    template: list[str | tuple[int, int]] = []
    for piece in reversed(pieces):
        if isinstance(piece, int):
            last = template[-1] if template else None
            if isinstance(last, tuple) and last[1] == piece:
                template[-1] = (last[0], piece + 1)
            else:
                template.append((piece, piece + 1))
        elif template and isinstance(template[-1], str):
            template[-1] += piece
        else:
            template.append(piece)
    for shift in (1, 3):
        other = number[:_SHAPE_PREFIX] + "".join(str((int(d) + shift) % 10) for d in number[_SHAPE_PREFIX:])
        if _filled(tuple(template), pa.array([other]))[0].as_py() != phone_to_dial(other):
            return None
    return tuple(template)


def _filled(template: Template, numbers: pa.Array) -> pa.Array:
    parts = [
        piece if isinstance(piece, str) else pc.utf8_slice_codeunits(numbers, piece[0], piece[1])
        for piece in template
    ]
    if not any(isinstance(part, pa.Array) for part in parts):
        return pa.array([template[0] if template else ""] * len(numbers), pa.string())
    return pc.binary_join_element_wise(*parts, "")


def dial_column(person_ids: pa.Array) -> pa.Array:
    """`phone_to_dial` of each id: libphonenumber is asked once per shape of `+84` number (see `_SHAPE_PREFIX`),
    once per other id starting with `+`; a citizen ID needs nothing."""
    ids = pc.fill_null(person_ids, "")
    dialed = pa.array([""] * len(ids), pa.string())
    shaped = pc.match_substring_regex(ids, _VN_NUMBER)
    numbers = ids.filter(shaped)
    keys = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(numbers, 0, _SHAPE_PREFIX), pc.cast(pc.utf8_length(numbers), pa.string()), ":"
    )
    shapes = pc.unique(keys)
    firsts = pc.take(numbers, pc.index_in(shapes, keys)).to_pylist()
    templates = [_template(first) for first in firsts]
    by_shape = pc.take(pa.array(range(len(shapes)), pa.int64()), pc.index_in(keys, shapes))
    written = pa.array([""] * len(numbers), pa.string())
    shapes_written_alike: dict[Template | None, list[int]] = {}
    for shape, template in enumerate(templates):
        shapes_written_alike.setdefault(template, []).append(shape)
    for template, alike in shapes_written_alike.items():
        mask = pc.is_in(by_shape, pa.array(alike, pa.int64()))
        chosen = numbers.filter(mask)
        if template is None:
            text = pa.array([phone_to_dial(number) for number in chosen.to_pylist()], pa.string())
        else:
            text = _filled(template, chosen)
        written = pc.replace_with_mask(written, mask, text)
    dialed = pc.replace_with_mask(dialed, shaped, written)
    other = pc.and_(pc.starts_with(ids, "+"), pc.invert(shaped))
    if pc.any(other).as_py():
        others = pa.array([phone_to_dial(number) for number in ids.filter(other).to_pylist()], pa.string())
        dialed = pc.replace_with_mask(dialed, other, others)
    return dialed


def _reasons(edges: str) -> str:
    """A CTE list ending in `reasons(pseudonym, reason)`: each person's exposures as a tracer would say them.

    `edges` is a relation of contact-graph edges into the listed people: `pseudonym` (the target),
    `source`, `tier` (the source's), `channel`, `venue_id`, `venue_name`, `start`, `end`, `minutes` and
    `imputed` (the exposure rests on a default stay). Lines come oldest first. Venue exposures sharing a
    place and a time read as one line ("... (tiếp xúc với 2 F0)"), marked "(giờ ra ước tính)" when one of
    them rests on a default stay; Bluetooth pieces add up (in the order of the edges) per source person
    and local day, the way the rules judge them.
    """
    return f"""
    reason_edges AS (
        SELECT pseudonym, source, tier, channel, start, "end", minutes, coalesce(imputed, false) AS imputed,
               coalesce(nullif(venue_name, ''), 'địa điểm ' || coalesce(nullif(venue_id, ''), 'không rõ')) AS place,
               timezone($zone, start) AS local_start, timezone($zone, "end") AS local_end
        FROM {edges}
    ), venue_tiers AS (
        SELECT pseudonym, place, start, "end", any_value(local_start) AS local_start,
               any_value(local_end) AS local_end, tier, count(*) AS edges, bool_or(imputed) AS imputed
        FROM reason_edges WHERE channel = 'venue'
        GROUP BY pseudonym, place, start, "end", tier
    ), venue_lines AS (
        SELECT pseudonym, start,
               'Cùng có mặt tại ' || place || ' '
               || CASE WHEN CAST(any_value(local_start) AS DATE) = CAST(any_value(local_end) AS DATE)
                       THEN strftime(any_value(local_start), '%H:%M') || '–' || strftime(any_value(local_end), '%H:%M')
                            || ' ngày ' || strftime(any_value(local_start), '%d/%m')
                       ELSE strftime(any_value(local_start), '%H:%M ngày %d/%m') || '–'
                            || strftime(any_value(local_end), '%H:%M ngày %d/%m') END
               || CASE WHEN bool_or(imputed) THEN ' ({IMPUTED_TEXT})' ELSE '' END
               || ' (tiếp xúc với '
               || string_agg(CASE WHEN edges > 1 THEN edges || ' ' || tier ELSE tier END, ', ' ORDER BY tier)
               || ')' AS line
        FROM venue_tiers GROUP BY pseudonym, place, start, "end"
    ), ble_lines AS (
        SELECT pseudonym, min(start) AS start,
               'Bluetooth: '
               || greatest(1, CAST(trunc(list_reduce(list(minutes ORDER BY start, "end"), lambda a, b: a + b) + 0.5)
                                   AS BIGINT))
               || ' phút ngày ' || strftime(CAST(local_start AS DATE), '%d/%m')
               || ' (tiếp xúc với ' || first(tier ORDER BY start, "end") || ')' AS line
        FROM (SELECT * REPLACE (CAST(local_start AS DATE) AS local_start) FROM reason_edges WHERE channel <> 'venue')
        GROUP BY pseudonym, local_start, source
    ), reasons AS (
        SELECT pseudonym, string_agg(line, '; ' ORDER BY start, line) AS reason
        FROM (SELECT * FROM venue_lines UNION ALL SELECT * FROM ble_lines)
        GROUP BY pseudonym
    )
    """


def reason_text(contacts: Iterable[Contact], zone: ZoneInfo) -> str:
    """Each exposure as a tracer would say it, oldest first (the worklists' `_reasons`, for one person)."""
    edges = pa.Table.from_pylist(
        [
            {"pseudonym": "", "source": contact.source_pseudonym, "tier": contact.source_tier,
             "channel": contact.channel, "venue_id": contact.venue_id, "venue_name": contact.venue_name,
             "start": contact.start, "end": contact.end, "minutes": float(contact.minutes),
             "imputed": contact.imputed_checkout}
            for contact in contacts
        ],
        schema=pa.schema([("pseudonym", pa.string()), ("source", pa.string()), ("tier", pa.string()),
                          ("channel", pa.string()), ("venue_id", pa.string()), ("venue_name", pa.string()),
                          ("start", UTC_TIME), ("end", UTC_TIME), ("minutes", pa.float64()), ("imputed", pa.bool_())]),
    )
    con = duckdb_memory.connect()
    try:
        con.register("reason_input", edges)
        sql = f"WITH {_reasons('reason_input')} SELECT reason FROM reasons"
        found = con.execute(sql, {"zone": zone.key}).fetchall()
    finally:
        con.close()
    return found[0][0] if found else ""


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

_TO_CALL = f"""
WITH called AS (SELECT * FROM ranked WHERE priority <= calls_per_day),
their_edges AS (
    SELECT c.target_pseudonym AS pseudonym, c.source_pseudonym AS source, c.source_tier AS tier, c.channel,
           c.venue_id, v.name AS venue_name, c.exposure_start AS start, c.exposure_end AS "end",
           c.exposure_minutes AS minutes, c.imputed_checkout AS imputed
    FROM contacts c
    JOIN (SELECT DISTINCT pseudonym FROM called) r ON r.pseudonym = c.target_pseudonym
    LEFT JOIN venues v ON v.venue_id = c.venue_id
    WHERE c.date = $day
),
{_reasons("their_edges")},
venue_names AS (
    SELECT u.person_id, string_agg(coalesce(v.name, u.venue_id), '; ' ORDER BY u.position) AS venues
    FROM (SELECT person_id, unnest(venue_ids) AS venue_id, generate_subscripts(venue_ids, 1) AS position
          FROM called) u
    LEFT JOIN venues v ON v.venue_id = u.venue_id
    GROUP BY u.person_id
)
SELECT c.priority, c.tier, c.change, c.person_id AS phone_or_citizen_id, c.risk_score,
       coalesce(r.reason,
                'Tiếp xúc qua '
                || coalesce(nullif(array_to_string(list_transform(
                       c.channels, lambda channel: CASE WHEN channel = 'venue' THEN 'địa điểm' ELSE 'Bluetooth' END),
                       ' và '), ''), 'không rõ')
                || ': ' || greatest(1, CAST(trunc(c.exposure_minutes + 0.5) AS BIGINT)) || ' phút, lần cuối '
                || strftime(timezone($zone, c.last_exposure_at), '%H:%M ngày %d/%m')
                || CASE WHEN c.imputed_checkout THEN ' ({IMPUTED_TEXT})' ELSE '' END) AS reason,
       c.last_exposure_at AS last_exposure_local, c.first_exposure_at AS first_exposure_local, c.exposure_minutes,
       array_to_string(c.channels, ', ') AS channels, coalesce(n.venues, '') AS venues, c.district,
       c.district_basis, array_to_string(c.case_ids, ', ') AS source_case_ids, c.rules_version,
       strftime(timezone($zone, c.last_exposure_at), '%Y-%m-%d %H:%M') AS last_exposure_text,
       strftime(timezone($zone, c.first_exposure_at), '%Y-%m-%d %H:%M') AS first_exposure_text
FROM called c
LEFT JOIN reasons r ON r.pseudonym = c.pseudonym
LEFT JOIN venue_names n ON n.person_id = c.person_id
ORDER BY c.district, c.priority
"""
"""The people each district calls today, in order, each row as the worklist writes it (but the rounded numbers
and the number to dial); a person the contact graph does not know gets what the export says instead of a reason."""

_TO_NOTIFY = f"""
WITH latest AS (
    SELECT c.target_pseudonym,
           first({{'channel': c.channel, 'venue_id': c.venue_id}}
                 ORDER BY c.exposure_end DESC, c.channel = 'venue' DESC, c.venue_id) AS contact
    FROM contacts c
    JOIN (SELECT DISTINCT pseudonym FROM ranked WHERE priority > calls_per_day) r ON r.pseudonym = c.target_pseudonym
    WHERE c.date = $day
    GROUP BY c.target_pseudonym
), notified AS (
    SELECT r.district, r.priority, r.person_id, r.tier, r.last_exposure_at, l.contact.channel,
           coalesce(v.name, l.contact.venue_id) AS place
    FROM ranked r
    LEFT JOIN latest l ON l.target_pseudonym = r.pseudonym
    LEFT JOIN venues v ON v.venue_id = l.contact.venue_id
    WHERE r.priority > r.calls_per_day
)
SELECT district, {NOTIFY_SELECT}
FROM notified
ORDER BY district, priority
"""
"""Per district, the people below its calls of the day, in ranking order, as their notification rows."""

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


def _rounded(values: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """`round(value, 1)` of each number and its CSV text (`str`, None as empty), Python's own rounding
    computed once per distinct value."""
    values = values.combine_chunks()
    distinct = pc.unique(values)
    rounded = [None if value is None else round(value, 1) for value in distinct.to_pylist()]
    positions = pc.index_in(values, distinct)
    numbers = pc.take(pa.array(rounded, pa.float64()), positions)
    texts = pc.take(pa.array(["" if value is None else str(value) for value in rounded], pa.string()), positions)
    return numbers, texts


def _worklist_tables(called: pa.Table, zone: str) -> tuple[pa.Table, pa.Table]:
    """The Parquet table of the people to call and the CSV's cells (strings, formula-safe), row for row."""
    risk, risk_text = _rounded(called["risk_score"])
    minutes, minutes_text = _rounded(called["exposure_minutes"])
    dial = dial_column(called["phone_or_citizen_id"].combine_chunks())
    replaced = {"phone_to_dial": dial, "risk_score": risk, "exposure_minutes": minutes}
    schema = worklist_schema(zone)
    table = pa.Table.from_arrays(
        [replaced[name] if name in replaced else called[name] for name in COLUMNS], names=list(COLUMNS)
    ).cast(schema)
    texts = {
        "priority": pc.cast(called["priority"], pa.string()),
        "phone_to_dial": dial,
        "risk_score": risk_text,
        "exposure_minutes": minutes_text,
        "last_exposure_local": called["last_exposure_text"],
        "first_exposure_local": called["first_exposure_text"],
    }
    cells = pa.table({name: safe_column(texts[name] if name in texts else called[name]) for name in COLUMNS})
    return table, cells


def district_runs(districts: pa.ChunkedArray) -> dict[str, tuple[int, int]]:
    """Each district's (offset, length) in rows ordered by district."""
    runs = pc.run_end_encode(districts.combine_chunks().cast(pa.string()))
    ends = runs.run_ends.to_pylist()
    starts = [0, *ends[:-1]] if ends else []
    return {
        district: (start, end - start)
        for district, start, end in zip(runs.values.to_pylist(), starts, ends, strict=True)
    }


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
    views: DayViews | None = None,
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
    Every row is made in DuckDB and Arrow, each district's files cut from the same two tables.
    `views` are D's export's own (`jobs.publish.day_views`), else the lists open their own.
    """
    inputs = {
        "export": _read_export(Lake(lake_root), day, outputs),
        "vault": read_identities(vault),
        "capacity": _capacity_table(capacity or {}),
        "changes": changes if changes is not None else diff(lake_root, day, rules, outputs)[0],
    }
    with day_views(lake_root, day, rules, outputs, views) as opened:
        con = opened.con
        for name, table in inputs.items():
            con.register(name, table)
        try:
            con.execute(
                _RANKED,
                {"day": day, "unknown": UNKNOWN_DISTRICT, "default_calls": rules.capacity.default_calls_per_day,
                 "statuses": list(STATUSES)},
            )
            called = con.sql(_TO_CALL, params={"day": day, "zone": rules.timezone}).to_arrow_table()
            notified = con.sql(_TO_NOTIFY, params={"day": day, "zone": rules.timezone}).to_arrow_table()
            districts = con.execute(_DISTRICTS).fetchall()
            unlinked = int(con.execute(_UNLINKED, {"day": day}).fetchall()[0][0])
        finally:
            con.execute("DROP TABLE IF EXISTS ranked")
            for name in inputs:
                con.unregister(name)
    record_reidentification(
        vault, day=day, output=join(EXPORTS, WORKLISTS), people=called.num_rows,
        key_fingerprint=vault_key_fingerprint(vault),
    )
    if notified.num_rows:
        record_reidentification(
            vault, day=day, output=join(EXPORTS, NOTIFICATIONS), people=notified.num_rows,
            key_fingerprint=vault_key_fingerprint(vault),
        )

    fs, root = filesystem(lake_root)
    directory = join(root, EXPORTS, WORKLISTS, f"date={day.isoformat()}")
    notifications = join(root, EXPORTS, NOTIFICATIONS, f"date={day.isoformat()}")
    for replaced in (directory, notifications):
        staged = outputs.target(replaced)
        if fs.get_file_info(staged).type == pafs.FileType.Directory:
            fs.delete_dir(staged)
    worklists, cells = _worklist_tables(called, rules.timezone)
    to_call, to_notify = district_runs(called["district"]), district_runs(notified["district"])

    written: list[DistrictWorklist] = []
    for district, f1, f2, people, notified_people, calls in districts:
        offset, length = to_call.get(district, (0, 0))
        folder = join(directory, f"district={district_dir_name(district)}")
        staged_folder = outputs.target(folder)
        fs.create_dir(staged_folder, recursive=True)
        csv_path, parquet_path = join(folder, "worklist.csv"), join(folder, "worklist.parquet")
        rows = cells.slice(offset, length)
        write_bytes_atomically(
            csv_bytes(COLUMNS, [rows[name] for name in COLUMNS]), fs, join(staged_folder, "worklist.csv")
        )
        write_atomically(worklists.slice(offset, length), fs, join(staged_folder, "worklist.parquet"))
        notify_path = None
        if district in to_notify:
            offset, length = to_notify[district]
            notify_folder = join(notifications, f"district={district_dir_name(district)}")
            staged_notify = outputs.target(notify_folder)
            fs.create_dir(staged_notify, recursive=True)
            notify_path = join(notify_folder, NOTIFY_FILE)
            write_bytes_atomically(notify_csv(notified.slice(offset, length)), fs, join(staged_notify, NOTIFY_FILE))
        written.append(
            DistrictWorklist(
                district, f1, f2, people, notified_people, calls, _located(lake_root, root, csv_path),
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
