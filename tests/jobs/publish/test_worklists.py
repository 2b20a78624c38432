"""The tracers' worklists on the hand-made lake of tests/outputs_lake.py."""

import csv
import datetime as dt
import shutil
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.publish.worklists import (
    COLUMNS,
    Contact,
    WorklistSummary,
    district_dir_name,
    phone_to_dial,
    reason_text,
    write_worklists,
)
from tests.outputs_lake import DAY, EXPECTED, PEOPLE, build_lake, local
from tracelake.core.rules import load_rules

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
BY_PHONE = {phone: name for name, phone in PEOPLE.items()}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, WorklistSummary]:
    lake, vault = build_lake(tmp_path_factory.mktemp("worklists"))
    return lake, vault, write_worklists(str(lake), DAY, load_rules(), vault=str(vault))


def _csv(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def _rows(summary: WorklistSummary, district: str) -> list[dict[str, str]]:
    return _csv(summary.by_district()[district].csv_path)


def test_one_csv_and_one_parquet_per_district(written: tuple[Path, Path, WorklistSummary]) -> None:
    lake, _vault, summary = written
    base = lake / "exports" / "worklists" / "date=2021-08-03"
    assert sorted(path.name for path in base.iterdir()) == ["district=760", "district=770", "district=unknown"]
    for district in ("760", "770", "unknown"):
        assert {path.name for path in (base / f"district={district}").iterdir()} == {"worklist.csv", "worklist.parquet"}
    assert {worklist.district: (worklist.f1, worklist.f2) for worklist in summary.districts} == {
        district: (tiers["F1"], tiers["F2"]) for district, tiers in EXPECTED.districts.items()
    }
    assert (summary.f1, summary.f2, summary.people) == (EXPECTED.f1, EXPECTED.f2, EXPECTED.exposed)
    assert summary.unlinked == 0


def test_everyone_in_the_export_is_listed_exactly_once(written: tuple[Path, Path, WorklistSummary]) -> None:
    lake, _vault, summary = written
    export = ds.dataset(lake / "exports" / "exposures" / "date=2021-08-03", format="parquet").to_table()
    listed = [row["phone_or_citizen_id"] for worklist in summary.districts for row in _csv(worklist.csv_path)]
    assert sorted(listed) == sorted(export.column("person_id").to_pylist())


def test_priority_f1_first_then_most_recent_then_longest(written: tuple[Path, Path, WorklistSummary]) -> None:
    _lake, _vault, summary = written
    market = _rows(summary, "760")
    assert tuple(BY_PHONE[row["phone_or_citizen_id"]] for row in market) == EXPECTED.priority_760
    assert [row["priority"] for row in market] == ["1", "2", "3", "4", "5", "6"]
    assert [row["tier"] for row in _rows(summary, "770")] == ["F1", "F1", "F2"]


def test_reasons_read_like_a_tracer_would_say_them(written: tuple[Path, Path, WorklistSummary]) -> None:
    _lake, _vault, summary = written
    reasons = {
        BY_PHONE[row["phone_or_citizen_id"]]: row["reason"]
        for worklist in summary.districts
        for row in _csv(worklist.csv_path)
    }
    assert reasons["c1"] == "Cùng có mặt tại Chợ Bến Thành 08:15–09:30 ngày 03/08 (tiếp xúc với F0)"
    assert reasons["d1"] == "Bluetooth: 42 phút ngày 03/08 (tiếp xúc với F0)"
    assert reasons["c5"] == (
        "Cùng có mặt tại Chợ Bến Thành 08:00–08:30 ngày 03/08 (tiếp xúc với F0); "
        "Bluetooth: 20 phút ngày 03/08 (tiếp xúc với F0)"
    )
    assert reasons["f1"] == "Cùng có mặt tại Co.op Mart Cống Quỳnh 17:00–17:45 ngày 03/08 (tiếp xúc với F1)"


def test_columns_times_and_ids_for_tracers(written: tuple[Path, Path, WorklistSummary]) -> None:
    _lake, _vault, summary = written
    worklist = summary.by_district()["770"]
    with open(worklist.csv_path, "rb") as stream:
        assert stream.read(3) == b"\xef\xbb\xbf"
    rows = _csv(worklist.csv_path)
    assert tuple(rows[0]) == COLUMNS
    d1 = rows[0]
    assert d1["phone_or_citizen_id"] == PEOPLE["d1"]
    assert d1["phone_to_dial"] == "0920 000 001"
    assert d1["last_exposure_local"] == "2021-08-03 10:42"
    assert d1["exposure_minutes"] == "42.0"
    assert d1["district_basis"] == "checkin_venue"
    assert d1["source_case_ids"] == PEOPLE["an"]
    f1 = rows[2]
    assert f1["source_case_ids"] == PEOPLE["an"]
    assert f1["venues"] == "Co.op Mart Cống Quỳnh"
    parquet = pq.read_table(worklist.parquet_path)
    assert parquet.column_names == list(COLUMNS)
    assert parquet.schema.field("last_exposure_local").type.tz == "Asia/Ho_Chi_Minh"
    assert parquet.column("last_exposure_local")[0].as_py() == dt.datetime(2021, 8, 3, 10, 42, tzinfo=ZONE)
    assert parquet.column("phone_or_citizen_id").to_pylist() == [row["phone_or_citizen_id"] for row in rows]
    unknown = _rows(summary, "unknown")
    assert unknown[0]["phone_or_citizen_id"] == PEOPLE["d2"]
    assert unknown[0]["phone_to_dial"] == ""


def test_a_rerun_replaces_the_day(written: tuple[Path, Path, WorklistSummary], tmp_path: Path) -> None:
    lake, vault, _summary = written
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    stale = copy / "exports" / "worklists" / "date=2021-08-03" / "district=999"
    stale.mkdir()
    (stale / "worklist.csv").write_text("old\n", encoding="utf-8")
    other_day = copy / "exports" / "worklists" / "date=2021-08-02" / "district=760"
    other_day.mkdir(parents=True)
    summary = write_worklists(str(copy), DAY, load_rules(), vault=str(vault))
    assert not stale.exists()
    assert other_day.exists()
    assert summary.people == EXPECTED.exposed


def test_without_the_vault_the_export_alone_still_gives_a_list(written: tuple[Path, Path, WorklistSummary],
                                                              tmp_path: Path) -> None:
    lake, _vault, _summary = written
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    summary = write_worklists(str(copy), DAY, load_rules(), vault=str(tmp_path / "no-vault"))
    assert (summary.people, summary.unlinked) == (EXPECTED.exposed, EXPECTED.exposed)
    rows = {row["phone_or_citizen_id"]: row for worklist in summary.districts for row in _csv(worklist.csv_path)}
    assert rows[PEOPLE["c1"]]["district"] == "760"
    assert rows[PEOPLE["c1"]]["reason"] == "Tiếp xúc qua địa điểm: 75 phút, lần cuối 09:30 ngày 03/08"
    assert rows[PEOPLE["d1"]]["district"] == "unknown"


def test_district_codes_that_differ_never_share_a_folder(written: tuple[Path, Path, WorklistSummary],
                                                         tmp_path: Path) -> None:
    lake, vault, _summary = written
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    codes = {"760": "Q 1", "770": "Q/1"}
    for segment in (copy / "raw" / "venues").rglob("*.parquet"):
        venues = pq.read_table(segment)
        renamed = [codes.get(code, code) for code in venues.column("district_code").to_pylist()]
        column = venues.schema.get_field_index("district_code")
        pq.write_table(venues.set_column(column, venues.schema.field(column), pa.array(renamed, pa.string())), segment)
    summary = write_worklists(str(copy), DAY, load_rules(), vault=str(vault))
    base = copy / "exports" / "worklists" / "date=2021-08-03"
    assert sorted(path.name for path in base.iterdir()) == ["district=Q%201", "district=Q%2F1", "district=unknown"]
    assert {worklist.district: worklist.f1 for worklist in summary.districts} == {
        codes.get(district, district): tiers["F1"] for district, tiers in EXPECTED.districts.items()
    }
    assert {row["district"] for row in _csv(summary.by_district()["Q/1"].csv_path)} == {"Q/1"}


@settings(max_examples=300)
@given(st.text(), st.text())
def test_folder_names_are_one_per_code_and_give_the_code_back(first: str, second: str) -> None:
    names = district_dir_name(first), district_dir_name(second)
    assert (names[0] == names[1]) == (first == second)
    assert unquote(names[0]) == first
    assert "/" not in names[0]


def test_plain_codes_read_as_written() -> None:
    codes = ("760", "Q_1", "q-1", "Quận 1")
    assert [district_dir_name(code) for code in codes] == ["760", "Q_1", "q-1", "Qu%E1%BA%ADn%201"]


def test_a_day_without_export_writes_no_list(written: tuple[Path, Path, WorklistSummary]) -> None:
    lake, vault, _summary = written
    summary = write_worklists(str(lake), dt.date(2021, 8, 4), load_rules(), vault=str(vault))
    assert summary.districts == ()
    assert summary.people == 0


def test_a_default_stay_reads_as_an_estimated_checkout() -> None:
    scanned = Contact("s1", "F0", "venue", "V", "Chợ", local(DAY, "08:00"), local(DAY, "09:00"), 60, False)
    estimated = Contact("s2", "F0", "venue", "V", "Chợ", local(DAY, "08:00"), local(DAY, "09:00"), 60, True)
    assert reason_text([scanned], ZONE) == "Cùng có mặt tại Chợ 08:00–09:00 ngày 03/08 (tiếp xúc với F0)"
    assert reason_text([scanned, estimated], ZONE) == (
        "Cùng có mặt tại Chợ 08:00–09:00 ngày 03/08 (giờ ra ước tính) (tiếp xúc với 2 F0)"
    )


def test_reason_groups_sources_and_spells_out_midnight() -> None:
    together = [
        Contact("s1", "F0", "venue", "V", "Chợ", local(DAY, "08:00"), local(DAY, "09:00"), 60, False),
        Contact("s2", "F0", "venue", "V", "Chợ", local(DAY, "08:00"), local(DAY, "09:00"), 60, False),
    ]
    assert reason_text(together, ZONE) == "Cùng có mặt tại Chợ 08:00–09:00 ngày 03/08 (tiếp xúc với 2 F0)"
    night = [Contact("s1", "F1", "venue", "V9", None, local(DAY, "23:30"), local(DAY, "23:30") + dt.timedelta(hours=1),
                     60, None)]
    assert reason_text(night, ZONE) == (
        "Cùng có mặt tại địa điểm V9 23:30 ngày 03/08–00:30 ngày 04/08 (tiếp xúc với F1)"
    )
    pieces = [
        Contact("s1", "F0", "ble", None, None, local(DAY, "10:00"), local(DAY, "10:10"), 10, False),
        Contact("s1", "F0", "ble", None, None, local(DAY, "11:00"), local(DAY, "11:07"), 7.5, False),
    ]
    assert reason_text(pieces, ZONE) == "Bluetooth: 18 phút ngày 03/08 (tiếp xúc với F0)"


def test_phone_to_dial() -> None:
    assert phone_to_dial("+84912345678") == "0912 345 678"
    assert phone_to_dial("079201000002") == ""
