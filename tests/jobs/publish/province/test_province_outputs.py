"""All five province outputs from one call, the map read back from headless Chromium, and the report sections."""

import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from province_lake import DAY, HandLake, read_csv

from jobs.publish.province import ProvinceSummary, build_province_outputs, province_sections
from jobs.publish.report import Audience, build_report
from tracelake.core.rules import load_rules

RULES = load_rules()
CHROMIUM = "/usr/bin/chromium"
PEOPLE = [f"pseudonym-{i:02d}-5ec4e7" for i in range(12)]


def _chromium() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing in CI: the map must be checked in a real browser")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI is not set, so the map check is skipped")


def _rendered_dom(page: Path) -> str:
    """The DOM after Chromium loaded the page from disk, with every network feature off."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--dump-dom", page.as_uri(),
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Metrics(HTMLParser):
    """Text of every element carrying `data-metric`, and the venues drawn as circles."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics: dict[str, str] = {}
        self.circles: dict[str, dict[str, str]] = {}
        self._open: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if "data-metric" in found:
            self._open.append((tag, found["data-metric"]))
            self.metrics[found["data-metric"]] = ""
        if tag == "circle" and "data-venue-id" in found:
            self.circles[found["data-venue-id"]] = found

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.metrics[self._open[-1][1]] += data


def _number(text: str) -> int:
    return int(text.replace(",", "").strip())


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> ProvinceSummary:
    hand = HandLake(tmp_path_factory.mktemp("province") / "lake")
    hand.venue("V1", "Nhà máy may số 1 - KCN Quang Châu", "222", kind="factory", lat=21.25, lon=106.05)
    hand.venue("V2", "Chợ Thương", "213", kind="market", lat=21.27, lon=106.19)
    hand.venue("V3", "Quán cà phê Mộc", "213", lat=21.28, lon=106.20)
    hand.venue("V4", "Trường THCS Tân Mỹ", "213", kind="school")  # no coordinates
    hand.venue("V5", "Nhà thuốc Long Châu Neo", "221", kind="pharmacy", lat=21.21, lon=106.24)
    f0, *others = PEOPLE
    hand.case(f0, "confirmed", "2021-08-06 00:00", "2021-08-10 18:00")
    hand.checkin(f0, "V1", "2021-08-10 07:00", "2021-08-10 11:00")
    hand.checkin(f0, "V2", "2021-08-09 17:00", "2021-08-09 17:30")
    for person in others[:8]:
        hand.checkin(person, "V1", "2021-08-10 07:05", "2021-08-10 11:00")
        hand.contact(f0, person, "V1", "2021-08-10 07:05", "2021-08-10 11:00")
    for person in others[8:]:
        hand.checkin(person, "V2", "2021-08-10 06:00", "2021-08-10 06:20")
        hand.checkin(person, "V3", "2021-08-10 08:00")
    hand.contact(others[0], others[9], "V3", "2021-08-10 08:00", "2021-08-10 09:00", source_tier="F1",
                 target_tier="F2")
    hand.checkin(others[0], "UNREG", "2021-08-10 12:00")
    for person in (f0, *others[:5]):
        hand.sighting(person, others[10], "2021-08-10 09:00")
    return build_province_outputs(hand.write(), DAY, RULES, visitor_floor=5)


def test_every_output_is_written_and_summarised(summary: ProvinceSummary) -> None:
    assert set(summary.paths) == {
        "notices.notices_public_csv", "notices.notices_public_txt", "notices.notices_tracers_csv",
        "compliance.districts_csv", "compliance.silent_venues_csv", "compliance.summary_txt",
        "coverage.districts_csv", "coverage.trend_csv", "venue_risk.venue_risk_csv", "map.map_html",
    }
    for path in summary.paths.values():
        assert Path(path).is_file(), path
    areas = {name: Path(path).relative_to(summary.lake_root).parts[:3] for name, path in summary.paths.items()}
    assert areas["notices.notices_tracers_csv"] == ("exports", "notices", f"date={DAY.isoformat()}")
    assert areas["map.map_html"] == ("reports", f"date={DAY.isoformat()}", "map.html")
    for name in set(areas) - {"notices.notices_tracers_csv", "map.map_html"}:
        assert areas[name] == ("public", name.split(".")[0], f"date={DAY.isoformat()}"), name
    assert Path(summary.paths["map.map_html"]).parent.name == f"date={DAY.isoformat()}"
    assert summary.notices_published == 1 and summary.notices_withheld == 1  # V1 has 9 visitors, V2 only the F0
    assert summary.qr_points_line == "3 of 5 QR points active (60.0 %)"
    assert summary.venue_exposures == 9
    assert summary.bluezone_share_lower_bound == round(7 / 12, 4)  # six reporters and the contact they saw
    assert len(summary.headline()) == 4


def _page_metrics(summary: ProvinceSummary, audience: Audience) -> tuple[str, dict[str, str]]:
    sections = province_sections(summary)
    page = build_report(summary.lake_root, DAY, RULES, sections=[], extra_sections=sections, audience=audience)
    html = page.read_text()
    assert 'data-error="' not in html
    for section in sections:
        assert f'data-section="{section.key}"' in html
    parser = _Metrics()
    parser.feed(html)
    return html, parser.metrics


def test_the_report_sections_join_the_daily_pages_with_the_numbers_and_no_person(summary: ProvinceSummary) -> None:
    assert [s.key for s in province_sections(summary)] == [
        "province-notices", "province-compliance", "province-coverage", "province-venue-risk", "province-map",
    ]

    page, metrics = _page_metrics(summary, Audience.TRACERS)
    assert _number(metrics["province-notices.published"]) == summary.notices_published == 1
    assert _number(metrics["province-compliance.active"]) == 3
    assert _number(metrics["province-compliance.registered"]) == 5
    assert metrics["province-coverage.lower_bound_percent"].replace("\u00a0", " ") == "58.3 %"
    assert _number(metrics["province-venue-risk.v1.exposures"]) == 8
    assert _number(metrics["province-venue-risk.v2.f0_visits"]) == 1
    assert '<a href="../../../reports/date=2021-08-10/map.html">' in page
    assert 'href="../../../exports/notices/date=2021-08-10/notices_tracers.csv"' in page
    for person in PEOPLE:
        assert person not in page

    public, metrics = _page_metrics(summary, Audience.PUBLIC)
    assert _number(metrics["province-notices.published"]) == 1  # time ranges, not people
    assert _number(metrics["province-compliance.active"]) == 3  # QR points, not people
    assert metrics["province-coverage.seen"] == "<10" and metrics["province-coverage.checked_in"] == "12"
    assert metrics["province-coverage.lower_bound_percent"] == "—"
    assert metrics["province-venue-risk.v1.exposures"] == "<10"
    assert "province-venue-risk.v2.f0_visits" not in metrics and "Chợ Thương" not in public
    assert '<a href="../../reports/date=2021-08-10/map.html">' in public
    assert "exports/" not in public and "notices_tracers" not in public
    for person in PEOPLE:
        assert person not in public


def test_the_map_renders_offline_with_the_public_figures(summary: ProvinceSummary) -> None:
    page = Path(summary.paths["map.map_html"])
    assert "http://" not in page.read_text().replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page.read_text()

    parser = _Metrics()
    parser.feed(_rendered_dom(page))
    metrics = parser.metrics

    risk = {row["venue_id"]: row for row in read_csv(summary.paths["venue_risk.venue_risk_csv"])}
    districts = read_csv(summary.paths["compliance.districts_csv"])
    figures = summary.public
    assert metrics["day"] == DAY.isoformat()
    assert metrics["province.exposures"] == "<10" == figures.province("exposures")  # 9 in all
    assert metrics["province.checkins"] == f"{figures.province('checkins')}"
    assert _number(metrics["province.registered_venues"]) == sum(int(row["registered_venues"]) for row in districts)
    assert _number(metrics["province.active_venues"]) == sum(int(row["active_venues"]) for row in districts)
    for row in districts:
        code = row["district_code"]
        assert _number(metrics[f"district.{code}.registered_venues"]) == int(row["registered_venues"])
        for name in ("checkins", "exposures", "f0_visits"):
            assert metrics[f"district.{code}.{name}"] == str(figures.district(row["province_code"], code, name))

    # V2 had its notice withheld (the F0 alone), V3 and the unregistered QR point fewer than 5 visitors.
    assert set(risk) == {"V1", "V4", "V5"}
    assert set(parser.circles) == {"V1", "V5"}
    assert parser.circles["V1"]["data-exposures"] == "<10" == risk["V1"]["exposures"]
    assert metrics["venue.V1.checkins"] == risk["V1"]["checkins"] == "<10"
    assert _number(metrics["map.venues_drawn"]) == 2
    assert _number(metrics["map.venues_not_drawn"]) == 1  # V4 has no coordinates
    html = page.read_text()
    for hidden in ("V2", "Chợ Thương", "V3", "Quán cà phê Mộc", "UNREG"):
        assert hidden not in html


def test_a_quiet_day_gives_empty_exports_and_says_so(tmp_path: Path) -> None:
    hand = HandLake(tmp_path / "lake")
    hand.venue("V1", "Chợ Thương", "213")

    summary = build_province_outputs(hand.write(), DAY, RULES)

    assert read_csv(summary.paths["notices.notices_public_csv"]) == []
    text = Path(summary.paths["notices.notices_public_txt"]).read_text(encoding="utf-8")
    assert text.startswith("THÔNG BÁO KHẨN") and "Chưa có địa điểm nào cần công bố trong 14 ngày qua." in text
    assert summary.qr_points_line == "0 of 1 QR points active (0.0 %)"
    assert summary.bluezone_share_lower_bound is None
    assert [row["venue_id"] for row in read_csv(summary.paths["venue_risk.venue_risk_csv"])] == ["V1"]
    assert Path(summary.paths["map.map_html"]).read_text().count("data-venue-id") == 0
