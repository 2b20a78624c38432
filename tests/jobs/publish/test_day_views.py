"""One export's shared views (jobs/publish/day_views.py) on the hand-made lake of tests/outputs_lake.py:
the same answers as views each step opens alone."""

import re
from pathlib import Path

import duckdb
import pytest

from jobs.publish.analyst_db import build_analyst_db, register_lake_views
from jobs.publish.day_views import DAY_DISTRICTS, DayViews
from jobs.publish.report import Audience, build_report
from tests.outputs_lake import DAY, LATER_DAY, build_lake
from tracelake.core.rules import load_rules

RULES = load_rules()
ALL_DISTRICTS = "SELECT * FROM exposure_districts ORDER BY ALL"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root, _vault = build_lake(tmp_path_factory.mktemp("day_views"))
    return root


def _plain(lake: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    try:
        register_lake_views(con, str(lake), RULES)
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("day", [DAY, LATER_DAY])
def test_districts_of_the_day_are_kept_once_and_every_day_reads_as_before(lake: Path, day: object) -> None:
    views = DayViews.open(str(lake), day, RULES)  # type: ignore[arg-type]
    try:
        kept = views.con.execute(f"SELECT count(*) FROM {DAY_DISTRICTS}").fetchall()[0][0]
        of_day = views.con.execute("SELECT count(*) FROM exposure_districts WHERE date = $day", {"day": day})
        assert kept == of_day.fetchall()[0][0]
        assert views.con.execute(ALL_DISTRICTS).fetchall() == _plain(lake, ALL_DISTRICTS)
    finally:
        views.close()
    assert _plain(lake, f"SELECT count(*) FROM exposure_districts WHERE date = DATE '{DAY}'")[0][0] > 0


def test_a_step_in_utc_gives_the_session_its_time_zone_back(lake: Path) -> None:
    views = DayViews.open(str(lake), DAY, RULES)
    try:
        views.con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
        with views.in_utc() as con:
            assert con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0] == "UTC"
        assert views.con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0] == "Asia/Ho_Chi_Minh"
    finally:
        views.close()


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [name for (name,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {
            name: con.execute(
                f"SELECT * {'EXCLUDE (built_at) ' if name == 'tracelake_build' else ''}FROM {name} ORDER BY ALL"
            ).fetchall()
            for name in names
        }
    finally:
        con.close()


def _definitions(path: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        views = con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()
        macros = con.execute(
            "SELECT function_name, macro_definition FROM duckdb_functions() "
            "WHERE function_type = 'macro' AND NOT internal ORDER BY 1"
        ).fetchall()
        return [*views, *macros]
    finally:
        con.close()


def test_the_analysts_file_filled_from_shared_views_is_the_one_built_alone(lake: Path, tmp_path: Path) -> None:
    alone = tmp_path / "alone.duckdb"
    build_analyst_db(lake, DAY, rules=RULES).rename(alone)
    views = DayViews.open(str(lake), DAY, RULES)
    try:
        shared = build_analyst_db(lake, DAY, rules=RULES, lake_views=views.con)
        # The connection is left as it was: the file is detached, the lake views still answer.
        assert views.con.execute("SELECT count(*) FROM duckdb_databases() WHERE NOT internal").fetchall()[0][0] == 1
        assert views.con.execute("SELECT count(*) FROM exposures").fetchall()[0][0] > 0
    finally:
        views.close()
    assert _tables(shared) == _tables(alone)
    assert _tables(shared)["exposure_districts"]
    assert _definitions(shared) == _definitions(alone)


def _page(path: Path) -> str:
    """The page without the minute it was made."""
    return re.sub(r"tạo lúc [^<]*<", "<", path.read_text(encoding="utf-8"))


def test_both_pages_from_one_set_of_views_are_the_pages_built_alone(lake: Path) -> None:
    alone = {audience: _page(build_report(str(lake), DAY, RULES, audience=audience)) for audience in Audience}
    views = DayViews.open(str(lake), DAY, RULES)
    try:
        shared = {
            audience: _page(build_report(str(lake), DAY, RULES, audience=audience, views=views))
            for audience in Audience
        }
        answers = views.answers["report answers"]
    finally:
        views.close()
    assert shared == alone
    assert ("clusters", DAY) in answers
