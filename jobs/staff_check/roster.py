"""An agency's staff roster as it arrives: a CSV typed in a spreadsheet, in English or Vietnamese.

Health departments collect these lists from every agency, so the reader takes
what spreadsheets produce: UTF-8 with or without a byte-order mark, a comma,
semicolon (Vietnamese Excel) or tab between cells, and a header whose names
are matched ignoring case, accents, spaces and punctuation (`Số điện thoại`,
`SO DIEN THOAI`, `so_dien_thoai` and `sodienthoai` are one name). Columns the
check does not need (`STT`, `Ghi chú`) are ignored.

Every data row becomes a staff member or a `RejectedRow` with its line number
and reason, so the agency can fix exactly the rows that did not count. A
person written twice in one agency (any spelling of the same phone or CCCD, in
any of its units) counts once, in the unit of the first row; the repeats are
listed back as duplicates. Problems with the file itself (not UTF-8, no
header, a required column missing) raise `RosterError`.
"""

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from jobs.spreadsheet import clean, header_key
from tracelake.core.identity import normalize_person_id
from tracelake.core.lake import filesystem


class Column(Enum):
    """What a roster column holds."""

    AGENCY = "agency"
    UNIT = "unit"
    NAME = "name"
    PHONE = "phone"
    CITIZEN_ID = "citizen_id"
    PERSON_ID = "person_id"
    """Either a phone or a CCCD, in one column."""


HEADER_NAMES: dict[Column, tuple[str, ...]] = {
    Column.AGENCY: ("agency", "agency name", "organization", "organisation", "department", "cơ quan",
                    "tên cơ quan"),
    Column.UNIT: ("unit", "unit name", "division", "section", "team", "office", "đơn vị", "tên đơn vị",
                  "phòng", "phòng ban", "bộ phận", "khoa", "khoa phòng"),
    Column.NAME: ("name", "full name", "staff name", "employee name", "họ tên", "họ và tên", "tên",
                  "tên nhân viên", "tên cán bộ"),
    Column.PHONE: ("phone", "phone number", "mobile", "mobile number", "mobile phone", "tel", "telephone",
                   "cell phone", "số điện thoại", "điện thoại", "sđt", "số đt", "di động", "số di động",
                   "điện thoại di động"),
    Column.CITIZEN_ID: ("citizen id", "citizen id number", "national id", "national id number", "id number",
                        "cccd", "số cccd", "căn cước", "căn cước công dân", "số căn cước công dân",
                        "số định danh", "số định danh cá nhân"),
    Column.PERSON_ID: ("person id", "id", "phone or citizen id", "phone or cccd", "phone cccd", "sđt cccd",
                       "sđt hoặc cccd", "số điện thoại hoặc cccd"),
}
"""Accepted header names, as written; `header_key` makes the comparison case-, accent- and spacing-blind."""

REQUIRED = (Column.AGENCY, Column.NAME)
ID_COLUMNS = (Column.PHONE, Column.CITIZEN_ID, Column.PERSON_ID)
"""At least one of these is required; a row may fill several (all its ids are matched)."""
DELIMITERS = (",", ";", "\t")


class RosterError(ValueError):
    """The roster file as a whole cannot be read; the message says what to fix."""


_BY_KEY: dict[str, Column] = {header_key(name): column for column, names in HEADER_NAMES.items() for name in names}


def group_key(text: str) -> str:
    """Agencies and units spelled with other case or spacing are one group."""
    return clean(text).casefold()


@dataclass(frozen=True)
class StaffMember:
    """One person of one agency, as the first row naming them gave them."""

    line: int
    agency: str
    unit: str
    name: str
    person_ids: tuple[str, ...]
    """Normalized ids, the phone first when there is one: every one is looked up."""

    @property
    def person_id(self) -> str:
        return self.person_ids[0]


@dataclass(frozen=True)
class RejectedRow:
    """A row that does not count, with the cells as sent (by column role) and why."""

    line: int
    reason: str
    detail: str
    cells: Mapping[Column, str]


@dataclass(frozen=True)
class Roster:
    staff: tuple[StaffMember, ...]
    rejected: tuple[RejectedRow, ...]
    rows: int
    """Data rows read (blank lines aside): every one is a staff member or rejected."""
    headers: Mapping[Column, str]
    """The header each column role was read from, as written in the file."""

    @property
    def duplicates(self) -> int:
        return sum(1 for row in self.rejected if row.reason == DUPLICATE)

    @property
    def invalid(self) -> int:
        return len(self.rejected) - self.duplicates


NO_AGENCY = "no_agency"
NO_ID = "no_id"
BAD_PHONE = "bad_phone"
BAD_CITIZEN_ID = "bad_citizen_id"
BAD_ID = "bad_id"
EXTRA_CELLS = "extra_cells"
DUPLICATE = "duplicate"


def read_roster(location: str) -> Roster:
    """Read a roster from a local path or a URI."""
    fs, path = filesystem(location)
    try:
        with fs.open_input_stream(path) as stream:
            data = bytes(stream.read())
    except (OSError, FileNotFoundError) as problem:
        raise RosterError(f"cannot read the roster {location}: {problem}") from problem
    return parse_roster(data)


def parse_roster(data: bytes) -> Roster:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        line = data[: problem.start].count(b"\n") + 1
        raise RosterError(
            f"the roster is not UTF-8 text (line {line}): save it as 'CSV UTF-8' and send it again"
        ) from problem
    records = _records(text)
    if not records:
        raise RosterError("the roster is empty: it needs a header line and one row per person")
    _line, header = records[0]
    return _staff(records[1:], _roles(header), header)


def _records(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on (a quoted cell may span lines), header first."""
    first = next(line for line in text.splitlines() if line.strip()) if text.strip() else ""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    records: list[tuple[int, list[str]]] = []
    line = 0
    for row in reader:
        start, line = line + 1, reader.line_num
        if any(cell.strip() for cell in row):
            records.append((start, row))
    return records


def _delimiter(header_line: str) -> str:
    """The separator under which the header names the most known columns (a comma on a tie)."""
    def known(delimiter: str) -> int:
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        return len({_BY_KEY[key] for cell in cells if (key := header_key(cell)) in _BY_KEY})

    return max(DELIMITERS, key=known)


EXAMPLES: dict[Column, str] = {
    Column.AGENCY: "'agency' or 'cơ quan'",
    Column.NAME: "'name' or 'họ tên'",
    Column.PHONE: "'phone' or 'số điện thoại', or a citizen ID column: 'citizen_id' or 'cccd'",
}


def _roles(header: Sequence[str]) -> dict[Column, int]:
    """Column role → index in the row; RosterError naming what is missing or given twice."""
    found: dict[Column, int] = {}
    for index, cell in enumerate(header):
        column = _BY_KEY.get(header_key(cell))
        if column is None:
            continue
        if column in found:
            raise RosterError(
                f"two columns give the {column.value}: {header[found[column]].strip()!r} and {cell.strip()!r}; "
                "keep one"
            )
        found[column] = index
    missing = [column for column in REQUIRED if column not in found]
    if not any(column in found for column in ID_COLUMNS):
        missing.append(Column.PHONE)
    if missing:
        wanted = "; ".join(f"{column.value} ({EXAMPLES[column]})" for column in missing)
        raise RosterError(
            f"the roster has no column for: {wanted}. Its header reads: {' | '.join(cell.strip() for cell in header)}"
        )
    return found


def _staff(records: Sequence[tuple[int, list[str]]], headers: Mapping[Column, int], header: Sequence[str]) -> Roster:
    staff: list[StaffMember] = []
    rejected: list[RejectedRow] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, row in records:
        cells = {column: row[index] if index < len(row) else "" for column, index in headers.items()}
        problem = _problem(row, header, cells)
        if problem is not None:
            rejected.append(RejectedRow(line, *problem, cells))
            continue
        agency = clean(cells[Column.AGENCY])
        ids = _ids(cells)
        keys = [(group_key(agency), person_id) for person_id in ids]
        seen = [first_line[key] for key in keys if key in first_line]
        if seen:
            rejected.append(RejectedRow(line, DUPLICATE, f"the same person as line {min(seen)}", cells))
            continue
        first_line.update(dict.fromkeys(keys, line))
        staff.append(StaffMember(line, agency, clean(cells.get(Column.UNIT, "")), clean(cells[Column.NAME]), ids))
    written = {column: header[index].strip() for column, index in headers.items()}
    return Roster(tuple(staff), tuple(rejected), len(records), written)


def _problem(row: Sequence[str], header: Sequence[str], cells: Mapping[Column, str]) -> tuple[str, str] | None:
    if len(row) > len(header) and any(cell.strip() for cell in row[len(header):]):
        return EXTRA_CELLS, "more cells than the header: a separator inside a cell that is not quoted?"
    if not clean(cells[Column.AGENCY]):
        return NO_AGENCY, "the agency is empty"
    given = [column for column in ID_COLUMNS if clean(cells.get(column, ""))]
    if not given:
        return NO_ID, "neither a phone number nor a citizen ID"
    for column in given:
        if _id(column, cells[column]) is None:
            return _BAD[column]
    return None


_BAD: dict[Column, tuple[str, str]] = {
    Column.PHONE: (BAD_PHONE, "not a Vietnamese phone number"),
    Column.CITIZEN_ID: (BAD_CITIZEN_ID, "not a 12-digit citizen ID (CCCD)"),
    Column.PERSON_ID: (BAD_ID, "neither a Vietnamese phone number nor a 12-digit citizen ID"),
}


def _id(column: Column, cell: str) -> str | None:
    """The normalized id of a cell, if it is the kind of id its column holds."""
    person_id = normalize_person_id(clean(cell))
    if person_id is None:
        return None
    is_phone = person_id.startswith("+")
    if (column is Column.PHONE and not is_phone) or (column is Column.CITIZEN_ID and is_phone):
        return None
    return person_id


def _ids(cells: Mapping[Column, str]) -> tuple[str, ...]:
    found = (_id(column, cells[column]) for column in ID_COLUMNS if clean(cells.get(column, "")))
    return tuple(dict.fromkeys(person_id for person_id in found if person_id is not None))
