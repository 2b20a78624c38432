"""Whatever the lake holds, a day's outputs build, and unusable raw rows change none of them.

Two lakes hold the same outbreak; one also holds rows an older lander (or
another writer) left: instants at the ends of the int64 range and of year 1,
a case date of year 1, an RSSI of 500, a checkout before its checkin, nulls in
required columns, copies of a resent sighting landed at the ends of time.
Every reader of raw tables skips them as the trace does.
"""

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from jobs.publish.day import export_day
from jobs.staff_check import check_staff
from jobs.trace.day import trace_day
from tests.jobs.lakebuilder import TEST_KEY, LakeBuilder
from tracelake.core.lake import PREDICTION_TABLE, PROVINCE_TABLES, SENSOR_QUALITY_TABLE, Lake
from tracelake.core.rules import load_rules

DAY = date(2021, 8, 3)
SOURCE, EXPOSED, FRIEND, STAFF = "0915000001", "0915000002", "0915000003", "0915000004"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
YEAR_1 = (date(1, 1, 1) - date(1970, 1, 1)).days
YEAR_1_AT_PLUS_14 = YEAR_1 * 86_400_000_000 - 14 * 3_600_000_000
YEAR_9999_END = (date(9999, 12, 31) - date(1970, 1, 1)).days * 86_400_000_000


def _outbreak(builder: LakeBuilder) -> None:
    builder.venue("V1", "Quán cà phê Hoa", "213", "24")
    builder.venue("V2", "Chợ Đầm", "214", "24")
    builder.confirmed(SOURCE, "2021-08-02 09:00", "2021-08-01")
    builder.checkin(SOURCE, "V1", "2021-08-01 10:00", "2021-08-01 11:00")
    builder.checkin(EXPOSED, "V1", "2021-08-01 10:10", "2021-08-01 11:10")
    builder.checkin(STAFF, "V2", "2021-08-02 08:00", "2021-08-02 09:00")
    for minute in range(0, 25, 5):
        builder.sighting(EXPOSED, FRIEND, f"2021-08-02 15:{minute:02d}", rssi=-60)
    builder.sighting(EXPOSED, FRIEND, "2021-08-03 09:00", event_id="resent", landed_at="2021-08-03 09:05")
    builder.write()


def _poison(builder: LakeBuilder) -> None:
    """Rows of every unusable kind, on the outbreak's people, venues and days."""
    source, exposed, friend, staff = (builder.pseudonym(person) for person in (SOURCE, EXPOSED, FRIEND, STAFF))
    at = builder.at("2021-08-03 10:00")
    stay = {"event_id": "stay", "person_pseudonym": exposed, "venue_id": "V2", "checkin_at": at, "source": "qr_venue"}
    builder.write_raw_rows("checkins", [
        {**stay, "event_id": None},
        {**stay, "person_pseudonym": None},
        {**stay, "venue_id": None},
        {**stay, "person_pseudonym": staff, "checkin_at": None},
        {**stay, "source": "teleport"},
        {**stay, "checkin_at": INT64_MIN},
        {**stay, "checkin_at": INT64_MAX},
        {**stay, "checkin_at": YEAR_9999_END},
        {**stay, "person_pseudonym": staff, "checkin_at": YEAR_1_AT_PLUS_14},
        {**stay, "person_pseudonym": source, "checkout_at": INT64_MAX},
        {**stay, "person_pseudonym": source, "checkout_at": builder.at("2021-08-03 09:00")},
        {**stay, "person_pseudonym": friend, "checkout_at": builder.at("2021-08-03 09:00")},
        {**stay, "person_pseudonym": friend, "venue_id": None},
    ], "2021-08-03")
    builder.write_raw_rows("checkins", [{**stay, "checkin_at": YEAR_1_AT_PLUS_14}], "0001-01-01")
    sighting = {
        "event_id": "sighting", "reporter_pseudonym": source, "contact_pseudonym": staff, "rssi": -50,
        "reporter_os": "android", "contact_os": "ios", "observed_at": at, "kafka_timestamp": at,
    }
    builder.write_raw_rows("proximity", [
        {**sighting, "rssi": 500},
        {**sighting, "rssi": None},
        {**sighting, "reporter_os": "windows"},
        {**sighting, "observed_at": INT64_MAX},
        {**sighting, "observed_at": INT64_MIN},
        {**sighting, "observed_at": YEAR_1_AT_PLUS_14},
        {**sighting, "contact_pseudonym": source},
        *({
            "event_id": "resent", "reporter_pseudonym": exposed, "contact_pseudonym": friend, "rssi": -60,
            "reporter_os": "android", "contact_os": "android", "observed_at": builder.at("2021-08-03 09:00"),
            "landed_at": landed_at, "kafka_timestamp": builder.at("2021-08-03 09:05"),
        } for landed_at in (INT64_MIN, INT64_MAX)),
    ], "2021-08-03")
    confirmed = {
        "event_id": "report", "person_pseudonym": staff, "kind": "confirmed",
        "reported_at": builder.at("2021-08-02 12:00"), "sample_date": date(2021, 8, 1),
    }
    builder.write_raw_rows("case_reports", [
        {**confirmed, "sample_date": YEAR_1},
        {**confirmed, "onset_date": YEAR_1},
        {**confirmed, "sample_date": None},
        {**confirmed, "reported_at": INT64_MIN},
        {**confirmed, "kind": "isolated", "sample_date": None, "isolated_at": INT64_MAX},
    ], "2021-08-02")


def _files(directory: str) -> dict[str, Any]:
    """Each file under `directory` by its relative path: a Parquet file's rows, any other file's text."""
    found: dict[str, Any] = {}
    for path in sorted(Path(directory).rglob("*")):
        if path.is_file():
            name = str(path.relative_to(directory))
            found[name] = pq.read_table(path).to_pylist() if path.suffix == ".parquet" else path.read_text()
    return found


def _day_outputs(root: Path, *, poisoned: bool) -> dict[str, Any]:
    builder = LakeBuilder(root / "lake", root / "vault")
    _outbreak(builder)
    if poisoned:
        _poison(builder)
    lake, vault, rules = str(builder.root), str(builder.vault), load_rules()
    trace_day(lake, DAY, rules, vault=vault, engine="duckdb")
    export_day(lake, DAY, rules, vault=vault)
    roster = root / "roster.csv"
    roster.write_text(f"Agency,Unit,Full name,Phone,Citizen ID\r\nSở Y tế,Văn phòng,Chị Tư,{STAFF},\r\n")
    staff = check_staff(lake, str(roster), DAY, 7, rules, key=TEST_KEY, vault=vault)
    layout = Lake(lake)
    return {
        "worklists": _files(layout.export_day("worklists", DAY)),
        **{table: _files(layout.public_day(table, DAY)) for table in PROVINCE_TABLES},
        "sensor quality": _files(layout.curated_day(SENSOR_QUALITY_TABLE, DAY)),
        "prediction": _files(layout.curated_day(PREDICTION_TABLE, DAY)),
        "staff": (staff.staff, staff.checked_in, staff.bluezone, staff.neither),
    }


@pytest.mark.slow
def test_unusable_raw_rows_change_no_output_of_the_day(tmp_path: Path) -> None:
    clean = _day_outputs(tmp_path / "clean", poisoned=False)
    poisoned = _day_outputs(tmp_path / "poisoned", poisoned=True)
    people = LakeBuilder(tmp_path / "people")
    worklists = [rows for rows in clean["worklists"].values() if isinstance(rows, list)]
    called = {row["phone_or_citizen_id"] for rows in worklists for row in rows}
    assert {people.person_id(EXPOSED), people.person_id(FRIEND)} <= called
    assert clean["staff"] == (1, 1, 0, 0)
    for name, outputs in clean.items():
        assert poisoned[name] == outputs, name
