"""The analysts' DuckDB file on the hand-made lake of tests/outputs_lake.py."""

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest

from jobs.publish.analyst_db import build_analyst_db, register_lake_views
from tests.outputs_lake import DAY, EXPECTED, PEOPLE, build_empty_lake, build_lake

DOC = Path(__file__).resolve().parents[3] / "docs" / "analyst-queries.md"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root, _vault = build_lake(tmp_path_factory.mktemp("analysts"))
    return root


@pytest.fixture(scope="module")
def db(lake: Path) -> Path:
    return build_analyst_db(lake, DAY)


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _views(path: Path) -> list[str]:
    return [name for (name,) in _rows(path, "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1")]


def _relations(path: Path) -> list[str]:
    """Every table and view an analyst can query in the file."""
    tables = [name for (name,) in _rows(path, "SELECT table_name FROM duckdb_tables() WHERE NOT internal")]
    return sorted([*tables, *_views(path)])


def _definitions(path: Path) -> str:
    views = _rows(path, "SELECT sql FROM duckdb_views() WHERE NOT internal")
    macros = _rows(path, "SELECT macro_definition FROM duckdb_functions() WHERE function_type = 'macro' "
                         "AND NOT internal")
    return " ".join(str(sql) for (sql,) in [*views, *macros])


def test_the_file_sits_at_the_lake_root_and_leaves_nothing_half_written(lake: Path, db: Path) -> None:
    assert db == lake.resolve() / "tracelake.duckdb"
    assert not [path.name for path in lake.iterdir() if path.name.startswith(".")]


def test_the_file_holds_the_tables_and_counts_what_it_leaves_out(db: Path, lake: Path) -> None:
    assert _rows(db, "SELECT count(*) FROM exposures WHERE date = DATE '2021-08-03'")[0][0] == EXPECTED.exposed
    landed = {(topic, day): events for topic, day, events in _rows(db, "SELECT * FROM landed_events")}
    for topic in ("checkins", "proximity", "case_reports", "venues"):
        on_disk = ds.dataset(lake / "raw" / topic, format="parquet", partitioning="hive").count_rows()
        assert sum(events for (name, _), events in landed.items() if name == topic) == on_disk > 0
    assert "raw_checkins" not in _relations(db)
    assert "raw_sightings" not in _relations(db)


def test_nothing_in_the_file_carries_a_raw_id_or_names_a_path(db: Path, lake: Path) -> None:
    raw_ids = [*PEOPLE.values(), "0912 345 678"]
    for relation in _relations(db):
        for row in _rows(db, f"SELECT * FROM {relation}"):
            text = repr(row)
            assert not [raw for raw in raw_ids if raw in text], f"{relation} shows a raw id: {row}"
            assert str(lake.resolve()) not in text, f"{relation} names the lake's location: {row}"
    definitions = _definitions(db)
    assert "local_time" in _rows(db, "SELECT string_agg(function_name) FROM duckdb_functions() "
                                     "WHERE function_type = 'macro' AND NOT internal")[0][0]
    readers = ("read_parquet", "read_csv", "read_json", "parquet_scan", "glob(", ".parquet", ".csv", ".json", "'/")
    for reader in (*readers, str(lake.resolve())):
        assert reader not in definitions
    assert "raw_value" not in [name for (name,) in _rows(db, "SELECT column_name FROM (DESCRIBE quarantine)")]


def _answers(path: Path) -> list[list[tuple[object, ...]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [con.execute(query.replace("paste-a-pseudonym-here", "ps-c5")).fetchall() for query in _doc_queries()]
    finally:
        con.close()


def test_the_file_answers_alone_and_reaches_no_other_area(db: Path, lake: Path, tmp_path: Path) -> None:
    expected = _answers(db)
    copy, vault = tmp_path / "lake", tmp_path / "lake-vault"
    shutil.copytree(lake, copy)
    shutil.copytree(lake.parent / "lake-vault", vault)
    shutil.rmtree(copy / "exports")
    shutil.rmtree(vault)
    built = build_analyst_db(copy, DAY)
    assert _answers(built) == expected
    alone = tmp_path / "laptop" / "tracelake.duckdb"
    alone.parent.mkdir()
    shutil.move(built, alone)
    shutil.rmtree(copy)
    assert _answers(alone) == expected
    con = duckdb.connect(str(alone), read_only=True)
    try:
        for removed in (copy / "exports" / "exposures" / "date=*" / "*.parquet", vault / "identities" / "*.parquet",
                        copy / "raw" / "*" / "*" / "*.parquet"):
            with pytest.raises(duckdb.IOException):
                con.execute(f"SELECT * FROM read_parquet('{removed}')").fetchall()
    finally:
        con.close()


def test_venues_keep_the_latest_version_of_each_venue(db: Path) -> None:
    assert _rows(db, "SELECT name, district_code FROM venues WHERE venue_id = 'V-MARKET'") == [("Chợ Bến Thành", "760")]
    assert _rows(db, "SELECT count(*) FROM raw_venues WHERE venue_id = 'V-MARKET'") == [(2,)]


def test_districts_follow_the_venue_then_the_most_frequent_checkin(db: Path) -> None:
    found = dict(
        _rows(
            db,
            "SELECT person_pseudonym, district_code || '/' || district_basis FROM exposure_districts "
            "WHERE date = DATE '2021-08-03'",
        )
    )
    assert found["ps-c1"] == "760/exposure_venue"
    assert found["ps-e1"] == "770/exposure_venue"
    # Five check-ins at an unregistered venue and three at the café: the registered café wins.
    assert found["ps-d1"] == "770/checkin_venue"
    # d2's check-ins are older than the 14-day lookback.
    assert found["ps-d2"] == "unknown/unknown"


def test_district_counts_under_five_are_suppressed(db: Path) -> None:
    rows = _rows(
        db,
        "SELECT district_code, tier, exposed, suppressed FROM district_exposures "
        "WHERE date = DATE '2021-08-03' ORDER BY ALL",
    )
    assert rows == [
        ("760", "F1", 6, False),
        ("770", "F1", None, True),
        ("770", "F2", None, True),
        ("unknown", "F1", None, True),
        ("unknown", "F2", None, True),
    ]


def test_run_manifests_and_latest_day(db: Path, lake: Path) -> None:
    assert _rows(db, "SELECT date, engine, tier_counts.F1 FROM run_manifests ORDER BY date") == [
        (dt.date(2021, 8, 3), "duckdb", EXPECTED.f1),
        (dt.date(2021, 8, 5), "duckdb", 0),
    ]
    assert _rows(db, "SELECT day FROM latest_day") == [(DAY,)]
    undated = build_analyst_db(lake)
    assert _rows(undated, "SELECT day FROM latest_day") == [(dt.date(2021, 8, 5),)]
    build_analyst_db(lake, DAY)


def _doc_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_documented_queries_give_the_right_answers(db: Path) -> None:
    queries = _doc_queries()
    assert len(queries) == 6
    con = duckdb.connect(str(db), read_only=True)
    try:
        answers = [con.execute(query.replace("paste-a-pseudonym-here", "ps-c5")).fetchall() for query in queries]
    finally:
        con.close()
    f1_by_district, venues, became_f0, quarantine, history, closeness = answers
    assert f1_by_district == [("760", 6, False), ("770", None, True), ("unknown", None, True)]
    assert venues[0] == ("Chợ Bến Thành", "760", 6, 6)
    assert sorted(venues[1:]) == [("Co.op Mart Cống Quỳnh", "770", 1, 1), ("Cà phê Hẻm 20", "770", 1, 1)]
    assert became_f0 == [(DAY, EXPECTED.f1, EXPECTED.f1_became_f0, 11.1)]
    assert quarantine == [
        ("checkins", "malformed id in person_id", 3),
        ("proximity", "rssi out of range", 2),
        ("case_reports", "missing field sample_date", 1),
        ("checkins", "missing field venue_id", 1),
    ]
    assert [(row[2], row[3], row[5], row[6]) for row in history] == [
        (dt.datetime(2021, 8, 3, 8, 0), dt.datetime(2021, 8, 3, 8, 30), "venue", "Chợ Bến Thành"),
        (dt.datetime(2021, 8, 3, 9, 40), dt.datetime(2021, 8, 3, 10, 0), "ble", None),
    ]
    for _band, flagged, became, pending, percent, low, high in closeness:
        assert became + pending <= flagged
        assert percent is None or low <= percent <= high


def test_a_fresh_lake_gives_typed_empty_views_and_the_queries_still_run(tmp_path: Path) -> None:
    empty = build_empty_lake(tmp_path)
    db = build_analyst_db(empty)
    for relation in _relations(db):
        if relation not in ("latest_day", "tracelake_build"):
            assert _rows(db, f"SELECT count(*) FROM {relation}") == [(0,)], relation
    types = dict(_rows(db, "SELECT column_name, column_type FROM (DESCRIBE exposures)"))
    assert types["first_exposure_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["channels"] == "VARCHAR[]"
    assert types["date"] == "DATE"
    con = duckdb.connect(str(db), read_only=True)
    try:
        for query in _doc_queries():
            assert con.execute(query.replace("paste-a-pseudonym-here", "nobody")).fetchall() == []
    finally:
        con.close()


def test_views_registered_in_memory_match_the_file(lake: Path, db: Path) -> None:
    con = duckdb.connect()
    names = register_lake_views(con, str(lake))
    left_out = {"raw_checkins", "raw_sightings"}
    assert set(names) - left_out | {"landed_events", "latest_day", "tracelake_build"} == set(_relations(db))
    assert con.execute("SELECT count(*) FROM contacts").fetchone() == _rows(db, "SELECT count(*) FROM contacts")[0]
    con.close()


def test_an_object_store_root_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="local lake root"):
        build_analyst_db("s3://bucket/lake")
