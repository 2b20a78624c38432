"""Writing the province files: CSV and text into the lake, whole files or nothing.

Each file is written under a hidden name and renamed, so a reader (or the
health department's website picking up `notices_public.txt`) never sees half a
file, and a re-run of day D replaces D's files and nothing else.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jobs.spreadsheet import safe_row
from tracelake.core.lake import filesystem, join, write_bytes_atomically


def write_text(directory: str, name: str, text: str) -> str:
    """Write `text` (UTF-8) as `directory/name` in the lake; returns the file's location."""
    fs, path = filesystem(directory)
    fs.create_dir(path, recursive=True)
    write_bytes_atomically(text.encode("utf-8"), fs, join(path, name))
    return join(directory, name)


def csv_text(header: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV document with a header line; None is written as an empty cell, formulas neutralized.

    Lines end in CRLF (RFC 4180), so the writer also quotes a cell holding a bare CR,
    which spreadsheets would otherwise take for the end of the row.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), lineterminator="\r\n", extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow(safe_row(row))
    return buffer.getvalue()


def write_csv(directory: str, name: str, header: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    return write_text(directory, name, csv_text(header, rows))


def percent(part: int, whole: int) -> str:
    """`38.6 %` (one decimal, a space before the sign, as Vietnamese reports write it); `n/a` of nothing."""
    if whole == 0:
        return "n/a"
    return f"{100 * part / whole:.1f} %"


def share(part: int, whole: int) -> float | None:
    """A fraction rounded to 4 places for CSV; None (an empty cell) of nothing."""
    return None if whole == 0 else round(part / whole, 4)
