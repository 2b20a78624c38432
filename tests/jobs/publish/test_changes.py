"""What changed since yesterday: three traced and exported days, then the middle day run again."""

import csv
import io
import re
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.publish.changes import CHANGES, CHANGES_CSV, RETRACTED_CSV, STATUSES, safe_csv
from jobs.publish.day import ExportedDay, export_day
from jobs.trace.day import trace_day
from tests.jobs.lakebuilder import LakeBuilder
from tracelake.core.audit import read_audit
from tracelake.core.lake import Lake
from tracelake.core.rules import load_rules

SOURCE, LATER_SOURCE, DISCARDED = "0913000001", "0913000002", "0913000003"
NEIGHBOUR, FRIEND, COLLEAGUE, RETRACTED, NEWCOMER = "0913000011", "0913000012", "0913000013", "0913000014", "0913000015"
FIRST, MIDDLE, LAST = date(2021, 8, 1), date(2021, 8, 2), date(2021, 8, 3)


def _day(builder: LakeBuilder, day: date) -> ExportedDay:
    builder.write()
    rules = load_rules()
    trace_day(str(builder.root), day, rules, vault=str(builder.vault), engine="duckdb")
    return export_day(str(builder.root), day, rules, vault=str(builder.vault))


def _statuses(builder: LakeBuilder, day: date) -> dict[str, str]:
    table = pq.read_table(Path(Lake(str(builder.root)).export_day(CHANGES, day)) / "part-00000.parquet")
    return dict(zip(table["person_id"].to_pylist(), table["change"].to_pylist(), strict=True))


def _ids(builder: LakeBuilder, *people: str) -> list[str]:
    return [builder.person_id(person) for person in people]


@pytest.fixture(scope="module")
def three_days(tmp_path_factory: pytest.TempPathFactory) -> tuple[LakeBuilder, list[ExportedDay]]:
    """Day 1: a case's contacts; day 2: a new case upgrades an F2; day 3: a late Bluezone upload and a discard."""
    tmp_path = tmp_path_factory.mktemp("changes")
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    builder.venue("V1", "Quán cà phê Hoa", "213", "24")
    builder.venue("V2", "Xưởng may", "214", "24")
    builder.venue("V3", "Nhà hàng Sen", "215", "24")
    builder.confirmed(SOURCE, "2021-07-31T20:00:00", sample_date="2021-07-30")
    builder.checkin(SOURCE, "V1", "2021-07-31T09:00:00", "2021-07-31T10:00:00")
    builder.checkin(NEIGHBOUR, "V1", "2021-07-31T09:00:00", "2021-07-31T10:00:00")
    for minute in range(0, 25, 5):
        builder.sighting(NEIGHBOUR, FRIEND, f"2021-07-31T15:{minute:02d}:00", rssi=-60)
    builder.confirmed(DISCARDED, "2021-07-31T21:00:00", sample_date="2021-07-30")
    builder.checkin(DISCARDED, "V3", "2021-07-31T12:00:00", "2021-07-31T13:00:00")
    builder.checkin(RETRACTED, "V3", "2021-07-31T12:00:00", "2021-07-31T13:00:00")
    builder.checkin(LATER_SOURCE, "V2", "2021-07-31T17:00:00", "2021-07-31T18:00:00")
    builder.checkin(FRIEND, "V2", "2021-07-31T17:00:00", "2021-07-31T18:00:00")
    builder.checkin(COLLEAGUE, "V2", "2021-07-31T17:00:00", "2021-07-31T18:00:00")
    days = [_day(builder, FIRST)]
    builder.confirmed(LATER_SOURCE, "2021-08-02T10:00:00", sample_date="2021-08-01")
    days.append(_day(builder, MIDDLE))
    for minute in range(0, 25, 5):
        builder.sighting(
            SOURCE, NEIGHBOUR, f"2021-07-30T10:{minute:02d}:00", rssi=-60, landed_at="2021-08-03T08:00:00"
        )
    builder.case(DISCARDED, "discarded", "2021-08-03T09:00:00")
    days.append(_day(builder, LAST))
    return builder, days


def test_each_day_is_compared_with_the_day_before(three_days: tuple[LakeBuilder, list[ExportedDay]]) -> None:
    builder, days = three_days
    neighbour, friend, colleague, retracted = _ids(builder, NEIGHBOUR, FRIEND, COLLEAGUE, RETRACTED)
    assert _statuses(builder, FIRST) == {neighbour: "new", friend: "new", retracted: "new"}
    assert _statuses(builder, MIDDLE) == {
        neighbour: "unchanged", friend: "upgraded", colleague: "new", retracted: "unchanged"
    }
    assert _statuses(builder, LAST) == {
        neighbour: "late", friend: "unchanged", colleague: "unchanged", retracted: "retracted"
    }
    assert [day.changes.previous_day if day.changes else "?" for day in days] == [None, FIRST, MIDDLE]
    last = days[2].changes
    assert last is not None and last.counts["late"] == 1 and last.counts["retracted"] == 1


def test_tracers_get_csv_lists_and_analysts_pseudonyms(three_days: tuple[LakeBuilder, list[ExportedDay]]) -> None:
    builder, _ = three_days
    lake = Lake(str(builder.root))
    folder = Path(lake.export_day(CHANGES, LAST))
    with (folder / RETRACTED_CSV).open(encoding="utf-8-sig") as stream:
        assert [row["person_id"] for row in csv.DictReader(stream)] == _ids(builder, RETRACTED)
    with (folder / CHANGES_CSV).open(encoding="utf-8-sig") as stream:
        first = next(csv.DictReader(stream))
    assert first["change"] == "late" and first["late_exposures"] == "1"
    curated = pq.read_table(Path(lake.curated_day(CHANGES, LAST)) / "part-00000.parquet")
    assert "person_id" not in curated.column_names
    database = three_days[1][2].analyst_db
    assert database is not None
    with duckdb.connect(database, read_only=True) as con:
        rows = con.execute("SELECT change, count(*) FROM changes WHERE date = ? GROUP BY ALL", [LAST]).fetchall()
    assert dict(rows) == {"late": 1, "unchanged": 2, "retracted": 1}
    named = [record.people for record in read_audit(str(builder.vault)) if record.output == "exports/changes"]
    assert named[:3] == [3, 4, 4], "each day's list of changes is in the re-identification audit trail"
    assert set(curated["person_pseudonym"].to_pylist()) == {
        builder.pseudonym(person) for person in (NEIGHBOUR, FRIEND, COLLEAGUE, RETRACTED)
    }


def test_the_worklist_shows_the_change_and_calls_what_is_new_first(
    three_days: tuple[LakeBuilder, list[ExportedDay]],
) -> None:
    builder, days = three_days
    middle = days[1].worklists
    rows = [
        row for district in middle.districts
        for row in pq.read_table(district.parquet_path).to_pylist()
    ]
    changes = {row["phone_or_citizen_id"]: row["change"] for row in rows}
    neighbour, friend, colleague = _ids(builder, NEIGHBOUR, FRIEND, COLLEAGUE)
    assert changes[friend] == "upgraded" and changes[colleague] == "new" and changes[neighbour] == "unchanged"
    for district in {row["district"] for row in rows}:
        ranks = [
            (row["tier"], STATUSES.index(row["change"])) for row in rows if row["district"] == district
        ]
        assert ranks == sorted(ranks), district


def test_the_tracers_report_counts_each_change(three_days: tuple[LakeBuilder, list[ExportedDay]]) -> None:
    _, days = three_days
    page = Path(days[2].tracer_report).read_text(encoding="utf-8")
    counts = dict(re.findall(r'data-metric="changes\.(\w+)" data-value="(\d+)"', page))
    assert counts == {"new": "0", "upgraded": "0", "late": "1", "changed": "0", "unchanged": "2", "retracted": "1"}
    assert "changes/date=2021-08-03/retracted.csv" in page
    assert 'data-metric="changes.' not in Path(days[2].report).read_text(encoding="utf-8")


def test_rerunning_the_middle_day_updates_its_diff_and_the_next_days(
    three_days: tuple[LakeBuilder, list[ExportedDay]],
) -> None:
    builder, _ = three_days
    builder.checkin(NEWCOMER, "V2", "2021-07-31T17:30:00", "2021-07-31T18:00:00")
    again = _day(builder, MIDDLE)
    newcomer, friend = _ids(builder, NEWCOMER, FRIEND)
    assert again.next_day_refreshed == LAST
    assert _statuses(builder, MIDDLE)[newcomer] == "new"
    assert _statuses(builder, MIDDLE)[friend] == "upgraded"
    after = _statuses(builder, LAST)
    assert after[newcomer] == "retracted", "day 3 was traced before the newcomer's check-in landed"
    assert after[friend] == "unchanged"


def test_the_csv_neutralizes_only_what_a_spreadsheet_would_run() -> None:
    table = pa.table({"person_id": ["+84912345678", "=HYPERLINK(1)", "＝1+1"], "change": ["new", "late", "@x"]})
    rows = list(csv.reader(io.StringIO(safe_csv(table).decode("utf-8-sig"))))
    assert rows == [["person_id", "change"], ["+84912345678", "new"], ["'=HYPERLINK(1)", "late"], ["'＝1+1", "'@x"]]

