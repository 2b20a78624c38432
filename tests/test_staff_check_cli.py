"""`tracelake staff-check` as an operator runs it: the counts on screen, files in their areas, clear refusals."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.jobs.lakebuilder import TEST_KEY
from tests.jobs.staff_lake import NAMES, PHONE_DIGITS, ROWS, VIETNAMESE_HEADER, build_lake, write_roster


def _staff_check(*args: str, cwd: Path, key: bytes | None = TEST_KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACELAKE_")}
    env["COLUMNS"] = "200"
    if key is not None:
        env["TRACELAKE_PSEUDONYMIZATION_KEY"] = key.decode()
    return subprocess.run([sys.executable, "-m", "tracelake", "staff-check", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    build_lake(tmp_path / "lake", tmp_path / "lake-vault")
    return tmp_path / "lake"


def test_the_command_prints_counts_and_where_the_files_are_never_a_name(lake: Path, tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "danh-sach.csv", VIETNAMESE_HEADER, bom=True)
    result = _staff_check("--roster", str(roster), "--date", "2021-08-10", "--lake", str(lake), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "12 roster rows, 9 staff in 2 agencies, 1 duplicates, 2 rejected rows" in result.stdout
    assert "checked in by QR code: 5, seen in Bluezone: 4, neither: 3" in result.stdout
    assert "staff_check/date=2021-08-10/people.csv" in result.stdout
    assert "public/staff_check_agencies/date=2021-08-10/agencies.csv" in result.stdout
    printed = (result.stdout + result.stderr).replace(" ", "").replace("-", "").replace(".", "")
    assert not [name for name in NAMES if name in result.stdout + result.stderr]
    assert not [digits for digits in PHONE_DIGITS if digits in printed]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (("--date", "10/08/2021"), "not a YYYY-MM-DD date"),
        (("--date", "2021-08-10", "--days", "0"), "--days must be from 1 to 21"),
        (("--date", "2021-08-10", "--roster", "missing.csv"), "cannot read the roster"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(lake: Path, tmp_path: Path, arguments: tuple[str, ...],
                                             problem: str) -> None:
    roster = write_roster(tmp_path / "roster.csv")
    given = ("--roster", str(roster), "--lake", str(lake), *arguments)
    result = _staff_check(*given, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert problem in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not (lake / "exports").exists()


def test_a_roster_without_a_required_column_exits_2_naming_it(lake: Path, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("Cơ quan;Đơn vị;Số điện thoại\r\n" + "".join(f"{a};{u};{p}\r\n" for a, u, _n, p, _c in ROWS),
                      encoding="utf-8-sig")
    result = _staff_check("--roster", str(roster), "--date", "2021-08-10", "--lake", str(lake), cwd=tmp_path)
    assert result.returncode == 2
    assert "no column for: name ('name' or 'họ tên')" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not (lake / "exports").exists()


def test_a_key_other_than_the_lakes_or_a_lake_without_events_is_refused(lake: Path, tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "roster.csv")
    other = _staff_check("--roster", str(roster), "--date", "2021-08-10", "--lake", str(lake), cwd=tmp_path,
                         key=b"someone-elses-key-0123456789")
    assert other.returncode == 2
    assert "not the one the identity vault" in other.stdout
    nowhere = _staff_check("--roster", str(roster), "--date", "2021-08-10", "--lake", str(tmp_path / "typo"),
                           cwd=tmp_path)
    assert nowhere.returncode == 2
    assert "holds no landed events" in nowhere.stdout
    for result in (other, nowhere):
        assert "Traceback" not in result.stdout + result.stderr
    assert not (lake / "exports").exists()
    assert not (tmp_path / "typo-vault").exists()
