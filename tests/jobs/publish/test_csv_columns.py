"""Column-at-a-time CSV and dialing give exactly what the row-at-a-time code gives: `csv` with `safe_row`, and
libphonenumber for every number."""

import csv
import io
import re
import sys
import unicodedata

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.publish.csv_columns import FORMULA_CHARACTERS, WHITESPACE, csv_bytes, safe_column
from jobs.publish.worklists import dial_column, phone_to_dial
from jobs.spreadsheet import safe_cell, safe_row

TRICKY = ['=', '+', '-', '@', ',', ';', '\t', '\r', '\n', '"', ' ', '\u200b', '\ufeff', '\uff0b', '\u3000', '1', '.',
          'e', 'a', 'ợ', '-12.5', '+84912345678', '1e-05', '=HYPERLINK("x")']
cells = st.one_of(st.none(), st.lists(st.sampled_from(TRICKY), max_size=6).map("".join), st.text(max_size=8))


def test_the_character_tables_are_all_of_unicode() -> None:
    every = [chr(code) for code in range(sys.maxunicode + 1)]
    assert "".join(
        sorted(ch for ch in every if unicodedata.normalize("NFKC", ch)[:1] in "=+-@")
    ) == FORMULA_CHARACTERS
    assert "".join(ch for ch in every if re.match(r"\s", ch)) == WHITESPACE


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(cells, cells, cells), max_size=6))
def test_csv_bytes_are_what_csv_writes_of_safe_rows(rows: list[tuple[str | None, str | None, str | None]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["a", "b", "c"], lineterminator="\r\n")
    writer.writeheader()
    for a, b, c in rows:
        writer.writerow(safe_row({"a": a, "b": b, "c": c}))
    columns = [pa.array([row[index] for row in rows], pa.string()) for index in range(3)]
    assert [safe_column(column).to_pylist() for column in columns] == [
        [safe_cell(value) for value in column.to_pylist()] for column in columns
    ]
    assert csv_bytes(["a", "b", "c"], [safe_column(column) for column in columns]) == buffer.getvalue().encode(
        "utf-8-sig"
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.from_regex(r"\+84[0-9]{5,14}", fullmatch=True),
    st.from_regex(r"\+84(?:9[0-9]|3[2-9]|2[0-9]|1[2689]|69|[5-8][0-9])[0-9]{7,8}", fullmatch=True),
    st.from_regex(r"\+[0-9 ]{0,12}", fullmatch=True),
    st.from_regex(r"0[0-9]{11}", fullmatch=True),
), max_size=30))
def test_dial_column_is_phone_to_dial_of_each_id(ids: list[str]) -> None:
    assert dial_column(pa.array(ids, pa.string())).to_pylist() == [phone_to_dial(person_id) for person_id in ids]
