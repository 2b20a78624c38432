"""Writing a staff check: who is who to the tracers' area, shares with small counts hidden to the public one.

Tracers' area, `exports/staff_check/date=D/`: `people.csv` (+ Parquet), one
row per staff member and agency; `neither.csv`, those seen neither in a QR
check-in nor in Bluezone, for each agency's follow-up; `rejected.csv`, the
rows that did not count, as the agency sent them, with their line and reason;
`agencies.csv`, the shares with exact counts. Public and analysts' area,
`public/staff_check_agencies/date=D/agencies.csv` (+ Parquet): the shares
with no count from 1 to 9. Every CSV goes through the formula-safe cell rule;
each file is whole or absent, and a new check of day D replaces D's files.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from jobs.spreadsheet import safe_row
from jobs.staff_check.activity import Window
from jobs.staff_check.roster import Column, RejectedRow
from jobs.staff_check.shares import AgencyRow, Checked
from schemas.staff_check import STAFF_CHECK_AGENCIES, STAFF_CHECK_PEOPLE
from tracelake.core.lake import filesystem, join, write_atomically, write_bytes_atomically

PEOPLE_COLUMNS = STAFF_CHECK_PEOPLE.names
NEITHER_COLUMNS = ("agency", "unit", "name", "person_id", "roster_line")
REJECTED_COLUMNS = ("line", "reason", "detail", *(column.value for column in Column))
AGENCY_COLUMNS = STAFF_CHECK_AGENCIES.names


def _csv(header: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """CRLF line ends (RFC 4180), so a CR inside a name is quoted instead of ending the row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(safe_row({name: _text(row.get(name)) for name in header}))
    return buffer.getvalue().encode("utf-8")


def _text(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def person_row(person: Checked) -> dict[str, Any]:
    member = person.member
    return {
        "agency": member.agency,
        "unit": member.unit,
        "name": member.name,
        "person_id": member.person_id,
        "checked_in": person.checked_in,
        "bluezone": person.bluezone,
        "last_checkin_day": person.last_checkin,
        "last_bluezone_day": person.last_bluezone,
        "roster_line": member.line,
    }


def rejected_row(row: RejectedRow) -> dict[str, Any]:
    return {"line": row.line, "reason": row.reason, "detail": row.detail,
            **{column.value: row.cells.get(column) for column in Column}}


def agency_row(row: AgencyRow, window: Window) -> dict[str, Any]:
    return {**row.as_dict(), "window_first_day": window.first, "window_last_day": window.last}


def write_tracers(
    directory: str, people: Sequence[Checked], rejected: Sequence[RejectedRow], agencies: Sequence[AgencyRow],
    window: Window,
) -> dict[str, str]:
    """The tracers' files of one check; returns name → location."""
    rows = [person_row(person) for person in people]
    files = {
        "people.csv": _csv(PEOPLE_COLUMNS, rows),
        "neither.csv": _csv(NEITHER_COLUMNS, (row for person, row in zip(people, rows, strict=True)
                                              if person.neither)),
        "rejected.csv": _csv(REJECTED_COLUMNS, (rejected_row(row) for row in rejected)),
        "agencies.csv": _csv(AGENCY_COLUMNS, (agency_row(row, window) for row in agencies)),
    }
    written = _write(directory, files)
    written["people.parquet"] = _parquet(directory, "people.parquet", rows, STAFF_CHECK_PEOPLE)
    return written


def write_public(directory: str, agencies: Sequence[AgencyRow], window: Window) -> dict[str, str]:
    """The public shares of one check (small counts already hidden); returns name → location."""
    rows = [agency_row(row, window) for row in agencies]
    written = _write(directory, {"agencies.csv": _csv(AGENCY_COLUMNS, rows)})
    written["agencies.parquet"] = _parquet(directory, "agencies.parquet", rows, STAFF_CHECK_AGENCIES)
    return written


def _write(directory: str, files: Mapping[str, bytes]) -> dict[str, str]:
    fs, path = filesystem(directory)
    fs.create_dir(path, recursive=True)
    for name, data in files.items():
        write_bytes_atomically(data, fs, join(path, name))
    return {name: join(directory, name) for name in files}


def _parquet(directory: str, name: str, rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> str:
    fs, path = filesystem(directory)
    fs.create_dir(path, recursive=True)
    write_atomically(pa.Table.from_pylist(list(rows), schema=schema), fs, join(path, name))
    return join(directory, name)
