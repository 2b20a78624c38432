"""CSV files written a column at a time: the bytes `csv` and `jobs.spreadsheet` write row by row, without a
Python call per cell.

The tracers' lists hold one row per person, a million at province scale. So
their cells are made formula-safe and quoted as whole Arrow columns:

- `safe_column` is `jobs.spreadsheet.safe_cell` of each value. A cell is
  changed by `safe_cell` only if it starts with a tab or CR, or if one of its
  pieces (the text after its start or after a `,` `;` tab, CR or LF) starts,
  past whitespace and double quotes, with a character whose NFKC form starts
  with `=`, `+`, `-` or `@`, and the cell is not one plain number. One regular
  expression finds those few cells; only they go through `safe_cell`, so the
  result is the same cell for cell.
- `csv_bytes` quotes a cell as `csv.writer` does with its defaults (a cell
  holding `,`, `"`, CR or LF is put in double quotes, its quotes doubled),
  ends lines in CRLF and writes UTF-8 with a byte-order mark, as the lists'
  `utf-8-sig` encoding did.
"""

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from jobs.spreadsheet import safe_cell

FORMULA_CHARACTERS = (
    "+-=@\u207a\u207c\u208a\u208c\u2a75\u2a76\ufb29\ufe62\ufe63\ufe66\ufe6b\uff0b\uff0d\uff1d\uff20"
)
"""Every character whose NFKC form starts with `=`, `+`, `-` or `@` (checked by the tests against all of Unicode)."""
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""What Python's `\\s` matches (checked by the tests against all of Unicode): `jobs.spreadsheet` skips it."""
_SKIPPED = WHITESPACE + '"\u200b\ufeff'


def _character_class(characters: str) -> str:
    return "[" + "".join(f"\\x{{{ord(character):x}}}" for character in characters) + "]"


_MAY_READ_AS_FORMULA = f"(?:^|[,;\\t\\r\\n]){_character_class(_SKIPPED)}*{_character_class(FORMULA_CHARACTERS)}"
_PLAIN_NUMBER = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_CONTROL_START = r"^[\t\r]"
_NEEDS_QUOTES = r'[,"\r\n]'
BOM = "\ufeff".encode()


def safe_column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`safe_cell` of each string (None as an empty cell), calling it only on the cells it may change."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = pc.fill_null(values, "")
    suspect = pc.or_(
        pc.and_(
            pc.match_substring_regex(values, _MAY_READ_AS_FORMULA),
            pc.invert(pc.match_substring_regex(values, _PLAIN_NUMBER)),
        ),
        pc.match_substring_regex(values, _CONTROL_START),
    )
    positions = pc.indices_nonzero(suspect)
    if len(positions) == 0:
        return values
    safe = pa.array([safe_cell(value) for value in pc.take(values, positions).to_pylist()], pa.string())
    return pc.replace_with_mask(values, suspect, safe)


def quoted(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Each cell as `csv.writer` writes it: in double quotes, quotes doubled, when it holds `,` `"` CR or LF."""
    needs = pc.match_substring_regex(values, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return values
    wrapped = pc.binary_join_element_wise("\"", pc.replace_substring(values, "\"", "\"\""), "\"", "")
    return pc.if_else(needs, wrapped, values)


def _concatenated(lines: pa.Array | pa.ChunkedArray) -> bytes:
    """The values of a string array one after the other: its data buffer between its first and last offset."""
    if len(lines) == 0:
        return b""
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    lines = pc.cast(lines, pa.large_string())
    offsets = pa.Array.from_buffers(pa.int64(), len(lines) + 1, [None, lines.buffers()[1]], offset=lines.offset)
    first, last = offsets[0].as_py(), offsets[-1].as_py()
    return lines.buffers()[2][first:last].to_pybytes()


def csv_bytes(header: Sequence[str], cells: Sequence[pa.Array | pa.ChunkedArray]) -> bytes:
    """A CSV file of string columns already made safe: header, CRLF lines, UTF-8 with a byte-order mark."""
    head = ",".join(header) + "\r\n"
    if not cells or len(cells[0]) == 0:
        return BOM + head.encode()
    lines = pc.binary_join_element_wise(*[quoted(column) for column in cells], ",")
    ended = pc.binary_join_element_wise(lines, "\r\n", "")
    return BOM + head.encode() + _concatenated(ended)
