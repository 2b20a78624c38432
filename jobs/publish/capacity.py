"""How many calls each district's tracers make a day: a small CSV a health department keeps up to date.

Two columns, one row per district: the district code as the venues register
it and the calls its team makes a day. Header names are matched the way the
staff check matches them (case, accents and spacing ignored: `district_code`,
`Mã quận/huyện`; `calls_per_day`, `Số cuộc gọi mỗi ngày`), cells are split on
`,`, `;` or tab, and a byte-order mark is fine. A district the file does not
name calls the rules' `capacity.default_calls_per_day`. A file that cannot
be used raises `CapacityError` naming the line, never a partial reading.
"""

import csv
import io
import math

from jobs.spreadsheet import clean, header_key
from tracelake.core.lake import filesystem
from tracelake.core.rules import MAX_PEOPLE

DISTRICT_HEADERS = ("district_code", "district", "district code", "mã quận huyện", "mã quận", "quận huyện")
CALLS_HEADERS = ("calls_per_day", "calls", "capacity", "calls a day", "số cuộc gọi", "số cuộc gọi mỗi ngày")
DELIMITERS = ",;\t"


class CapacityError(ValueError):
    """The capacity file cannot be used; the message names the file, the line and what to fix."""


def _column(header: list[str], accepted: tuple[str, ...], path: str) -> int:
    keys = [header_key(cell) for cell in header]
    for name in accepted:
        if header_key(name) in keys:
            return keys.index(header_key(name))
    raise CapacityError(f"capacity file {path}: no column named {accepted[0]} (or {', '.join(accepted[1:3])})")


def read_capacity(path: str) -> dict[str, int]:
    """District code → calls per day, from a CSV at `path` (a local path or a URI)."""
    fs, located = filesystem(path)
    try:
        with fs.open_input_stream(located) as stream:
            raw = stream.read()
    except (OSError, FileNotFoundError) as exc:
        raise CapacityError(f"cannot read capacity file {path}: {exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CapacityError(f"capacity file {path} is not UTF-8 text") from exc
    first_line = text.splitlines()[0] if text.strip() else ""
    delimiter = max(DELIMITERS, key=first_line.count)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise CapacityError(f"capacity file {path} is empty: it needs a header, district_code,calls_per_day")
    district_at, calls_at = _column(rows[0], DISTRICT_HEADERS, path), _column(rows[0], CALLS_HEADERS, path)
    capacity: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        district = clean(row[district_at]) if district_at < len(row) else ""
        calls = clean(row[calls_at]) if calls_at < len(row) else ""
        if not district:
            raise CapacityError(f"capacity file {path}, line {line}: no district code")
        if not calls.isdecimal() or int(calls) > MAX_PEOPLE:
            raise CapacityError(
                f"capacity file {path}, line {line}: calls per day of {district} must be a whole number from 0 to "
                f"{MAX_PEOPLE}, not {calls!r}"
            )
        if district in capacity:
            raise CapacityError(f"capacity file {path}, line {line}: district {district} is listed twice")
        capacity[district] = int(calls)
    return capacity


def days_to_clear(people: int, calls: int) -> int | None:
    """Days the team needs to call everyone listed today, today included; None when it makes no calls."""
    if people == 0:
        return 0
    return math.ceil(people / calls) if calls > 0 else None
