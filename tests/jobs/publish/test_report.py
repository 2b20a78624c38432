"""The daily report on the hand-made lake: the tracers' numbers against the exports, the public page's hidden
small counts, both in a real browser too."""

import os
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from jobs.publish.report import Audience, Metric, ReportContext, ReportSection, build_report
from jobs.publish.report.clusters import ContactEdge, transmission_clusters
from jobs.publish.worklists import WorklistSummary, write_worklists
from tests.outputs_lake import DAY, EXPECTED, PEOPLE, QUARANTINED, build_empty_lake, build_lake, pseudonym
from tracelake.core.rules import load_rules

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class _Metrics(HTMLParser):
    """Every `data-metric` on a page, with its text; a name used twice is an error."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self.sections: list[str] = []
        self.scripts = 0
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "section" and named.get("data-section"):
            self.sections.append(str(named["data-section"]))
        name = named.get("data-metric")
        if name is not None:
            assert name not in self.found, f"data-metric {name} appears twice"
            self.found[name] = ""
        self._open.append(name)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for name in reversed(self._open):
            if name is not None:
                self.found[name] += data
                break


def _metrics(html: str) -> _Metrics:
    parser = _Metrics()
    parser.feed(html)
    return parser


def _number(text: str) -> float:
    return float(text.replace("\u202f", "").replace(" %", "").strip())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WorklistSummary, Path]:
    lake, vault = build_lake(tmp_path_factory.mktemp("report"))
    rules = load_rules()
    worklists = write_worklists(str(lake), DAY, rules, vault=str(vault))
    page = build_report(str(lake), DAY, rules, audience=Audience.TRACERS)
    return lake, worklists, page


@pytest.fixture(scope="module")
def public_page(built: tuple[Path, WorklistSummary, Path]) -> Path:
    return build_report(str(built[0]), DAY, load_rules())


@pytest.fixture(scope="module")
def page_metrics(built: tuple[Path, WorklistSummary, Path]) -> dict[str, float]:
    _lake, _worklists, page = built
    return {name: _number(text) for name, text in _metrics(page.read_text(encoding="utf-8")).found.items() if text}


def test_each_audience_gets_its_page_in_its_area(built: tuple[Path, WorklistSummary, Path], public_page: Path) -> None:
    lake, _worklists, page = built
    assert page == lake / "exports" / "reports" / "date=2021-08-03" / "index.html"
    assert public_page == lake / "reports" / "date=2021-08-03" / "index.html"
    for written in (page, public_page):
        assert not [path.name for path in written.parent.iterdir() if path.name.startswith(".")]
    assert 'data-audience="tracers"' in page.read_text(encoding="utf-8")
    assert 'data-audience="public"' in public_page.read_text(encoding="utf-8")


def test_the_pages_are_self_contained(built: tuple[Path, WorklistSummary, Path], public_page: Path) -> None:
    for page in (built[2], public_page):
        html = page.read_text(encoding="utf-8")
        parsed = _metrics(html)
        assert parsed.scripts == 0
        assert "<style>" in html and "<svg" in html
        without_svg_namespace = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "http://" not in without_svg_namespace and "https://" not in without_svg_namespace
        assert parsed.sections == ["overview", "districts", "hours", "degrees", "clusters", "quarantine"]
        for raw in PEOPLE.values():
            assert raw not in html


def test_the_tracers_page_links_each_district_to_its_worklist(built: tuple[Path, WorklistSummary, Path]) -> None:
    lake, worklists, page = built
    html = page.read_text(encoding="utf-8")
    for worklist in worklists.districts:
        href = f"../../../exports/worklists/date=2021-08-03/district={worklist.district}/worklist.csv"
        assert f'href="{href}"' in html
        assert (page.parent / href).resolve() == (lake / href.removeprefix("../../../")).resolve()


def test_the_public_page_hides_small_counts_links_and_pseudonyms(public_page: Path) -> None:
    html = public_page.read_text(encoding="utf-8")
    found = _metrics(html).found
    assert "href=\"../../exports" not in html and "worklist" not in html
    assert pseudonym("an") not in html and "ps-" not in html
    # 760 has 6 F1s and no F2: both hidden, and so is the F1 total's partner; 9 F1 and 2 F2 in all.
    assert found["districts.760.f1"] == "<10"
    assert found["overview.f1"] == "<10" and found["overview.f2"] == "<10"
    assert found["overview.exposed"] == "11"
    assert found["overview.f0"] == "<10"
    assert found["hours.total"] == "12"
    for name, text in found.items():
        if text and text not in ("<10", "≥10") and not name.endswith(("share", "mean", "count")) \
                and not name.startswith("clusters.size."):
            assert _number(text) == 0 or _number(text) >= 10, (name, text)


def test_people_numbers_match_the_export(
    built: tuple[Path, WorklistSummary, Path], page_metrics: dict[str, float]
) -> None:
    lake, worklists, _page = built
    export = ds.dataset(lake / "exports" / "exposures" / "date=2021-08-03", format="parquet").to_table()
    tiers = export.column("tier").to_pylist()
    assert page_metrics["overview.exposed"] == export.num_rows == EXPECTED.exposed
    assert page_metrics["overview.f1"] == tiers.count("F1") == EXPECTED.f1
    assert page_metrics["overview.f2"] == tiers.count("F2") == EXPECTED.f2
    assert page_metrics["overview.f0"] == 2
    for worklist in worklists.districts:
        assert page_metrics[f"districts.{worklist.district}.f1"] == worklist.f1
        assert page_metrics[f"districts.{worklist.district}.f2"] == worklist.f2
        assert page_metrics[f"districts.{worklist.district}.total"] == worklist.people
    assert sum(page_metrics[f"districts.{code}.total"] for code in EXPECTED.districts) == export.num_rows


def test_event_funnel_from_the_lake(built: tuple[Path, WorklistSummary, Path], page_metrics: dict[str, float]) -> None:
    lake = built[0]
    landed = {
        topic: ds.dataset(lake / "raw" / topic / "date=2021-08-03", format="parquet").count_rows()
        for topic in ("checkins", "proximity", "case_reports")
    }
    for topic, rows in landed.items():
        assert page_metrics[f"overview.{topic}.landed"] == rows
        quarantined = sum(1 for quarantined_topic, _reason in QUARANTINED if quarantined_topic == topic)
        assert page_metrics[f"overview.{topic}.quarantined"] == quarantined
        assert page_metrics[f"overview.{topic}.in"] == rows + quarantined
    assert page_metrics["overview.landed"] == sum(landed.values())
    assert page_metrics["overview.quarantined"] == EXPECTED.quarantined
    assert page_metrics["overview.in"] == sum(landed.values()) + EXPECTED.quarantined
    assert page_metrics["overview.trace.checkins.duplicates_dropped"] == 2


def test_graph_sections(built: tuple[Path, WorklistSummary, Path], page_metrics: dict[str, float]) -> None:
    lake = built[0]
    contacts = ds.dataset(lake / "curated" / "contacts" / "date=2021-08-03", format="parquet").to_table()
    assert page_metrics["hours.total"] == contacts.num_rows
    assert sum(value for name, value in page_metrics.items() if name.startswith("hours.") and name != "hours.total") \
        == contacts.num_rows
    assert page_metrics["hours.08.venue"] == 3  # c1 08:15, c2 08:30, c5 08:00
    assert page_metrics["hours.10.ble"] == 1  # d1
    # an exposed 8 people; binh, c1 and d1 one each.
    assert page_metrics["degrees.1"] == 3
    assert page_metrics["degrees.5-9"] == 1
    assert page_metrics["degrees.sources"] == 4
    assert page_metrics["degrees.max"] == 8
    assert page_metrics["clusters.count"] == 2
    assert page_metrics["clusters.1.size"] == 11
    assert (page_metrics["clusters.1.cases"], page_metrics["clusters.1.f1"], page_metrics["clusters.1.f2"]) == (1, 8, 2)
    assert page_metrics["clusters.2.size"] == 2
    assert page_metrics["clusters.unlinked_f0"] == 0


def test_quarantine_reasons(page_metrics: dict[str, float]) -> None:
    assert page_metrics["quarantine.checkins.malformed-id-in-person-id"] == 3
    assert page_metrics["quarantine.proximity.rssi-out-of-range"] == 2
    assert page_metrics["quarantine.total"] == EXPECTED.quarantined


def test_the_quarantine_ceiling_is_the_one_handed_down(
    built: tuple[Path, WorklistSummary, Path], tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(built[0], lake)
    pages = {
        ceiling: build_report(str(lake), DAY, load_rules(), audience=Audience.TRACERS, quarantine_ceiling=ceiling)
        .read_text(encoding="utf-8")
        for ceiling in (0.0, 0.5)
    }
    assert "Ngưỡng 0%" in pages[0.0] and "⚠ vượt ngưỡng" in pages[0.0]
    assert "Ngưỡng 50%" in pages[0.5] and "⚠ vượt ngưỡng" not in pages[0.5]


def test_lander_counts_override_the_lake(built: tuple[Path, WorklistSummary, Path], tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(built[0], lake)
    page = build_report(
        str(lake), DAY, load_rules(), counts={"published": 100, "checkins": {"in": 70}}, audience=Audience.TRACERS
    )
    found = {name: _number(text) for name, text in _metrics(page.read_text(encoding="utf-8")).found.items() if text}
    assert found["overview.in"] == 100
    assert found["overview.checkins.in"] == 70
    assert found["overview.landed"] == found["overview.checkins.landed"] + found["overview.proximity.landed"] \
        + found["overview.case_reports.landed"] + found["overview.venues.landed"]


class _Echo(ReportSection):
    key = "province-echo"
    title = "Mục thử"

    def render(self, context: ReportContext) -> str:
        return Metric(f"{self.key}.day", context.day.day).html()


class _Broken(ReportSection):
    key = "province-broken"
    title = "Hỏng"

    def render(self, context: ReportContext) -> str:
        raise RuntimeError("no data")


def test_extension_sections_join_the_page_without_touching_the_core(
    built: tuple[Path, WorklistSummary, Path], tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(built[0], lake)
    page = build_report(str(lake), DAY, load_rules(), extra_sections=[_Echo(), _Broken()])
    html = page.read_text(encoding="utf-8")
    parsed = _metrics(html)
    assert parsed.sections[-2:] == ["province-echo", "province-broken"]
    assert parsed.found["province-echo.day"] == "3"
    assert 'data-error="province-broken"' in html and "no data" in html
    with pytest.raises(ValueError, match="unique keys"):
        build_report(str(lake), DAY, load_rules(), extra_sections=[_Echo(), _Echo()])


def test_an_empty_lake_still_gets_a_page(tmp_path: Path) -> None:
    page = build_report(str(build_empty_lake(tmp_path)), date(2021, 8, 3), load_rules())
    found = _metrics(page.read_text(encoding="utf-8")).found
    assert _number(found["overview.exposed"]) == 0
    assert _number(found["clusters.count"]) == 0
    assert _number(found["overview.in"]) == 0


def test_clusters_bridge_through_f1_but_not_through_f2() -> None:
    edges = [
        ContactEdge("a", "F0", "x", "F1"),
        ContactEdge("b", "F0", "x", "F1"),  # x links a and b
        ContactEdge("c", "F0", "y", "F1"),
        ContactEdge("x", "F1", "leaf", "F2"),
        ContactEdge("y", "F1", "leaf", "F2"),  # a shared F2 does not merge the clusters
    ]
    clusters = transmission_clusters(edges)
    assert [(cluster.cases, cluster.f1, cluster.f2) for cluster in clusters] == [
        (("a", "b"), ("x",), ("leaf",)),
        (("c",), ("y",), ()),
    ]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = _chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI for the report's browser test (scripts/setup.sh installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium, or run scripts/setup.sh)")
    return binary


def _run_chromium(binary: str, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_page_renders_in_headless_chromium_with_the_same_numbers(
    chromium: str, built: tuple[Path, WorklistSummary, Path], page_metrics: dict[str, float], tmp_path: Path
) -> None:
    page = built[2]
    dumped = _run_chromium(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    rendered = {name: _number(text) for name, text in _metrics(dumped.stdout).found.items() if text}
    assert rendered == page_metrics
    assert rendered["overview.exposed"] == EXPECTED.exposed
    assert rendered["districts.760.f1"] == EXPECTED.districts["760"]["F1"]
    screenshot = tmp_path / "report.png"
    _run_chromium(
        chromium, tmp_path / "profile", "--hide-scrollbars", "--window-size=1280,2600", f"--screenshot={screenshot}",
        page.as_uri(),
    )
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000
