"""The agency staff check against a hand-made lake: exact results per person and per agency, small counts hidden."""

import csv
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from jobs.disclosure import LARGE, SMALL, is_small
from jobs.publish.analyst_db import build_analyst_db
from jobs.publish.report import build_report
from jobs.publish.report.staff_check import StaffCheckSection
from jobs.staff_check import RosterError, StaffCheck, StaffCheckError, check_staff
from jobs.staff_check.roster import StaffMember, parse_roster
from jobs.staff_check.shares import Checked, agency_rows
from tests.jobs.lakebuilder import TEST_KEY
from tests.jobs.staff_lake import (
    DAY,
    DAYS,
    DESK,
    HEALTH,
    NAMES,
    OFFICE,
    PHONE_DIGITS,
    SERVICE,
    VIETNAMESE_HEADER,
    WARD,
    build_lake,
    roster_text,
    write_roster,
)
from tracelake.core.audit import read_audit
from tracelake.core.rules import load_rules

RULES = load_rules()
D = date.fromisoformat

PEOPLE = [
    # agency, unit, name, person_id, checked_in, bluezone, last_checkin_day, last_bluezone_day, roster_line
    (HEALTH, SERVICE, "Lê Văn Cường", "+84912345003", "true", "true", "2021-08-10", "2021-08-08", "4"),
    (HEALTH, SERVICE, "Nguyễn Văn An", "+84912345001", "true", "false", "2021-08-09", "", "2"),
    (HEALTH, SERVICE, "Trần Thị Bình", "+84912345002", "false", "true", "", "2021-08-05", "3"),
    (HEALTH, OFFICE, "Hoàng Văn Em", "056201234567", "true", "false", "2021-08-07", "", "6"),
    (HEALTH, OFFICE, "Phạm Thị Dung", "+84912345004", "false", "false", "", "", "5"),
    (WARD, DESK, "Bùi Văn Khoa", "+84912345007", "false", "false", "", "", "12"),
    (WARD, DESK, "Lê Văn Cường", "+84912345003", "true", "true", "2021-08-10", "2021-08-08", "10"),
    (WARD, DESK, "Ngô Thị Hương", "+84912345006", "true", "true", "2021-08-04", "2021-08-06", "11"),
    (WARD, DESK, "Võ Văn Hải", "+84912345005", "false", "false", "", "", "9"),
]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _people_rows(path: Path) -> list[tuple[str, ...]]:
    rows = [tuple(row.values()) for row in _csv(path)]
    return sorted(rows, key=lambda row: (row[0], row[1], row[2]))


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    build_lake(tmp_path / "lake", tmp_path / "vault")
    return tmp_path / "lake"


def _check(lake: Path, roster: Path, days: int = DAYS) -> StaffCheck:
    return check_staff(str(lake), str(roster), DAY, days, RULES, key=TEST_KEY, vault=str(lake.parent / "vault"))


def test_each_person_is_found_by_any_spelling_of_their_phone_or_cccd(lake: Path, tmp_path: Path) -> None:
    result = _check(lake, write_roster(tmp_path / "roster.csv"))
    exports = lake / "exports" / "staff_check" / "date=2021-08-10"
    assert _people_rows(exports / "people.csv") == sorted(PEOPLE, key=lambda row: (row[0], row[1], row[2]))
    twin = pq.read_table(exports / "people.parquet").to_pylist()
    assert {(row["agency"], row["name"], row["checked_in"], row["bluezone"], row["last_checkin_day"],
             row["last_bluezone_day"]) for row in twin} == {
        (row[0], row[2], row[4] == "true", row[5] == "true", D(row[6]) if row[6] else None,
         D(row[7]) if row[7] else None) for row in PEOPLE}
    neither = _csv(exports / "neither.csv")
    assert sorted((row["agency"], row["name"]) for row in neither) == [
        (HEALTH, "Phạm Thị Dung"), (WARD, "Bùi Văn Khoa"), (WARD, "Võ Văn Hải")]
    assert (result.rows, result.staff, result.duplicates, result.rejected) == (12, 9, 1, 2)
    assert (result.checked_in, result.bluezone, result.neither, result.agencies) == (5, 4, 3, 2)


def test_rows_that_do_not_count_are_listed_back_with_line_and_reason(lake: Path, tmp_path: Path) -> None:
    _check(lake, write_roster(tmp_path / "roster.csv"))
    rejected = _csv(lake / "exports" / "staff_check" / "date=2021-08-10" / "rejected.csv")
    assert [(row["line"], row["reason"], row["name"], row["phone"]) for row in rejected] == [
        ("7", "duplicate", "Nguyễn Văn An", "'+84 912 345 001"),  # a spreadsheet would read a formula
        ("8", "bad_phone", "Đỗ Thị Giang", "0912 34"),
        ("13", "no_agency", "Đinh Văn Long", "0912345008"),
    ]
    assert rejected[0]["detail"] == "the same person as line 2"


def test_per_agency_shares_exact_for_tracers_and_without_small_counts_for_the_public(
    lake: Path, tmp_path: Path
) -> None:
    _check(lake, write_roster(tmp_path / "roster.csv"))
    columns = ("agency", "unit", "level", "staff", "checked_in", "bluezone", "neither", "checked_in_share",
               "bluezone_share", "neither_share")
    exact = [tuple(row[name] for name in columns)
             for row in _csv(lake / "exports" / "staff_check" / "date=2021-08-10" / "agencies.csv")]
    assert exact == [
        (HEALTH, "", "agency", "5", "3", "2", "1", "0.6", "0.4", "0.2"),
        (HEALTH, SERVICE, "unit", "3", "2", "2", "0", "0.6667", "0.6667", "0.0"),
        (HEALTH, OFFICE, "unit", "2", "1", "0", "1", "0.5", "0.0", "0.5"),
        (WARD, "", "agency", "4", "2", "2", "2", "0.5", "0.5", "0.5"),
        (WARD, DESK, "unit", "4", "2", "2", "2", "0.5", "0.5", "0.5"),
    ]
    public_dir = lake / "public" / "staff_check_agencies" / "date=2021-08-10"
    public = [tuple(row[name] for name in columns) for row in _csv(public_dir / "agencies.csv")]
    assert public == [
        (HEALTH, "", "agency", SMALL, SMALL, SMALL, SMALL, "", "", ""),
        (HEALTH, SERVICE, "unit", SMALL, SMALL, SMALL, "0", "", "", ""),
        (HEALTH, OFFICE, "unit", SMALL, SMALL, "0", SMALL, "", "", ""),
        (WARD, "", "agency", SMALL, SMALL, SMALL, SMALL, "", "", ""),
        (WARD, DESK, "unit", SMALL, SMALL, SMALL, SMALL, "", "", ""),
    ]
    twin = pq.read_table(public_dir / "agencies.parquet").to_pylist()
    assert [(row["agency"], row["unit"], row["staff"], row["neither_share"]) for row in twin] == [
        (row[0], row[1] or None, row[3], None) for row in public]
    assert {(row["window_first_day"], row["window_last_day"]) for row in twin} == {(D("2021-08-04"), DAY)}


def _people(agency: str, unit: str, *, staff: int, checked_in: int, bluezone_checked: int, bluezone_other: int,
            first: int) -> list[Checked]:
    """`staff` people of one unit: the first `checked_in` checked in, `bluezone_checked` of them and
    `bluezone_other` of the others ran Bluezone."""
    people = []
    for index in range(staff):
        member = StaffMember(first + index, agency, unit, f"P{first + index}", (f"+8491{first + index:07d}",))
        in_qr = index < checked_in
        in_bluezone = index < bluezone_checked if in_qr else index - checked_in < bluezone_other
        people.append(Checked(member, DAY if in_qr else None, DAY if in_bluezone else None))
    return people


def test_a_small_complement_hides_its_count_and_enough_others_that_no_total_gives_it_back() -> None:
    checked = [
        *_people("Z", "U1", staff=25, checked_in=22, bluezone_checked=9, bluezone_other=1, first=0),
        *_people("Z", "U2", staff=30, checked_in=15, bluezone_checked=10, bluezone_other=5, first=100),
    ]
    rows = [(row.unit, row.staff, row.checked_in, row.bluezone, row.neither, row.checked_in_share,
             row.bluezone_share, row.neither_share) for row in agency_rows(checked, public=True)]
    assert rows == [
        (None, 55, 37, 25, 12, 0.6727, 0.4545, 0.2182),
        ("U1", 25, LARGE, 10, SMALL, None, 0.4, None),  # 3 not checked in and 2 with neither: hidden
        ("U2", 30, LARGE, 15, LARGE, None, 0.5, None),  # else 37 - 15 and 12 - 10 would give them back
    ]
    for row in agency_rows(checked, public=True):
        for figure in (row.staff, row.checked_in, row.bluezone, row.neither):
            assert not (isinstance(figure, int) and is_small(figure))


def test_vietnamese_headers_a_bom_and_semicolons_read_the_same_roster(lake: Path, tmp_path: Path) -> None:
    english = parse_roster(roster_text().encode())
    vietnamese = parse_roster(b"\xef\xbb\xbf" + roster_text(VIETNAMESE_HEADER, delimiter=";").encode("utf-8"))
    assert vietnamese.staff == english.staff
    assert [(row.line, row.reason) for row in vietnamese.rejected] == [(row.line, row.reason)
                                                                       for row in english.rejected]
    assert vietnamese.headers[next(iter(vietnamese.headers))] == "Cơ quan"
    _check(lake, write_roster(tmp_path / "roster.csv", VIETNAMESE_HEADER, bom=True, delimiter=";"))
    people = _people_rows(lake / "exports" / "staff_check" / "date=2021-08-10" / "people.csv")
    assert people == sorted(PEOPLE, key=lambda row: (row[0], row[1], row[2]))


@pytest.mark.parametrize(
    "header",
    [
        ("AGENCY", "unit_name", "FullName", "mobile-number", "so_cccd"),
        ("cơ quan", "ĐƠN VỊ", "ho ten", "SĐT", "Căn cước công dân"),
        ("Co Quan", "Phong Ban", "Họ  Tên", "so dien thoai", "cccd"),
    ],
)
def test_header_names_match_whatever_their_case_accents_and_spacing(header: Sequence[str]) -> None:
    text = ",".join(header) + "\r\nA,U,Name,0912345001,056201234567\r\n"
    (member,) = parse_roster(text.encode()).staff
    assert (member.agency, member.unit, member.name, member.person_ids) == (
        "A", "U", "Name", ("+84912345001", "056201234567"))


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("Unit,Name,Phone", "agency"),
        ("Cơ quan,Đơn vị,Số điện thoại", "name"),
        ("Agency,Unit,Name,Email", "phone"),
    ],
)
def test_a_missing_required_column_is_named(header: str, missing: str) -> None:
    with pytest.raises(RosterError, match=f"no column for: {missing}"):
        parse_roster(f"{header}\r\nx,y,z\r\n".encode())


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty"),
        ("Agency,Name,Phone\r\nS\xe1,An,0912345001\r\n".encode("latin-1"), "not UTF-8 text \\(line 2\\)"),
        (b"Agency,Name,Phone,SDT\r\n", "two columns give the phone"),
    ],
)
def test_a_file_that_cannot_be_a_roster_says_why(data: bytes, problem: str) -> None:
    with pytest.raises(RosterError, match=problem):
        parse_roster(data)


def test_a_window_longer_than_the_lake_keeps_or_a_lake_without_events_is_refused(lake: Path, tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "roster.csv")
    with pytest.raises(StaffCheckError, match="--days must be from 1 to 21"):
        _check(lake, roster, days=22)
    with pytest.raises(StaffCheckError, match="holds no landed events"):
        _check(tmp_path / "elsewhere", roster)
    with pytest.raises(RosterError, match="cannot read the roster"):
        _check(lake, tmp_path / "missing.csv")
    assert not (lake / "exports").exists()


def test_the_check_is_in_the_audit_trail_with_counts_only(lake: Path, tmp_path: Path) -> None:
    _check(lake, write_roster(tmp_path / "roster.csv"))
    (record,) = [record for record in read_audit(str(lake.parent / "vault")) if record.output == "exports/staff_check"]
    assert (record.day, record.people) == (DAY, 8)


def _texts(path: Path) -> list[str]:
    """Everything a reader of `path` could see: cells, view definitions, page text."""
    if path.suffix == ".parquet":
        return [str(pq.read_table(path).to_pylist())]
    if path.suffix == ".duckdb":
        con = duckdb.connect(str(path), read_only=True)
        try:
            tables = [name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
            views = [sql for (sql,) in con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()]
            return [*views, *(str(con.execute(f'SELECT * FROM "{name}"').fetchall()) for name in tables)]
        finally:
            con.close()
    return [path.read_bytes().decode("utf-8", errors="replace")]


def _identities_in(root: Path, *, skip: str | None = None) -> set[str]:
    found: set[str] = set()
    for path in root.rglob("*"):
        if not path.is_file() or (skip is not None and path.relative_to(root).parts[0] == skip):
            continue
        for text in _texts(path):
            digits = re.sub(r"[\s.\-()]", "", text)
            found |= {name for name in NAMES if name in text} | {number for number in PHONE_DIGITS if number in digits}
    return found


def test_no_roster_name_or_phone_leaves_the_tracers_area(lake: Path, tmp_path: Path) -> None:
    _check(lake, write_roster(tmp_path / "roster.csv", VIETNAMESE_HEADER, bom=True))
    database = build_analyst_db(str(lake), DAY, rules=RULES)
    page = build_report(str(lake), DAY, RULES, sections=[], extra_sections=[StaffCheckSection()])
    con = duckdb.connect(str(database), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT agency) FROM staff_check_agencies").fetchall() == [(5, 2)]
    con.close()
    html = page.read_text(encoding="utf-8")
    assert 'data-section="staff-check"' in html and HEALTH in html and "&lt;10" in html
    assert _identities_in(lake / "exports") == {*NAMES, *PHONE_DIGITS}  # the scan finds them where they are
    assert _identities_in(lake, skip="exports") == set()


def test_the_report_shows_the_latest_check_up_to_its_day(lake: Path, tmp_path: Path) -> None:
    check_staff(str(lake), str(write_roster(tmp_path / "roster.csv")), D("2021-08-08"), 3, RULES, key=TEST_KEY,
                vault=str(lake.parent / "vault"))
    later = build_report(str(lake), DAY, RULES, sections=[], extra_sections=[StaffCheckSection()])
    assert "Lần kiểm tra ngày 08/08/2021, 3 ngày từ 06/08/2021 đến 08/08/2021" in later.read_text(encoding="utf-8")
    earlier = build_report(str(lake), D("2021-08-07"), RULES, sections=[], extra_sections=[StaffCheckSection()])
    assert "no agency roster checked yet" in earlier.read_text(encoding="utf-8")
