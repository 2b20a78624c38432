"""Calling capacity on a traced lake: each district calls the top of its ranking, everyone else is texted.

District 761: an F0 at a tailor's shop and five people there (one known only by
a citizen ID), the shop's team calling 3 a day. District 762: one F1 at a
canteen, the rules' default capacity. Traced for real by the DuckDB twin.
"""

import csv
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from jobs.publish.capacity import CapacityError, days_to_clear, read_capacity
from jobs.publish.notifications import COLUMNS as NOTIFY_COLUMNS
from jobs.publish.report import Audience, build_report
from jobs.publish.report.calls import CallsSection
from jobs.publish.worklists import WorklistSummary, write_worklists
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import DAY, run_trace
from tracelake.core.audit import read_audit
from tracelake.core.rules import load_rules

SHOP, CANTEEN = "V-TAILOR", "V-CANTEEN"
SOURCE, SOURCE_2 = "0911000001", "0911000002"
SHOP_PEOPLE = {"A": "0912000001", "B": "0912000002", "C": "0912000003", "D": "0912000004", "E": "079201000002"}
CANTEEN_PERSON = "0913000001"
CALLED, TEXTED = ("A", "C", "B"), ("D", "E")
"""A: 90 minutes; C and B: 60, C later; D: 30; E: 20 (the citizen ID)."""


def _local(hh_mm: str) -> str:
    return f"{DAY.isoformat()} {hh_mm}"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[LakeBuilder, WorklistSummary]:
    root = tmp_path_factory.mktemp("capacity")
    builder = LakeBuilder(root / "lake", root / "vault")
    builder.venue(SHOP, "Tiệm may Hòa", "761", "79")
    builder.venue(CANTEEN, "Quán cơm Tấm", "762", "79")
    builder.confirmed(SOURCE, _local("09:00"), "2021-08-02")
    builder.checkin(SOURCE, SHOP, _local("09:00"), _local("10:00"))
    spans = {"A": ("09:00", "10:30"), "B": ("09:00", "10:00"), "C": ("09:30", "10:30"), "D": ("09:45", "10:15"),
             "E": ("10:10", "10:30")}
    for label, (start, end) in spans.items():
        builder.checkin(SHOP_PEOPLE[label], SHOP, _local(start), _local(end))
    builder.confirmed(SOURCE_2, _local("09:00"), "2021-08-02")
    builder.checkin(SOURCE_2, CANTEEN, _local("12:00"), _local("12:30"))
    builder.checkin(CANTEEN_PERSON, CANTEEN, _local("12:00"), _local("12:30"))
    run_trace(builder, "duckdb")
    capacity = root / "capacity.csv"
    capacity.write_text("\ufeffMã quận/huyện;Số cuộc gọi mỗi ngày\n761;3\n", encoding="utf-8")
    summary = write_worklists(str(builder.root), DAY, load_rules(), vault=str(builder.vault),
                              capacity=read_capacity(str(capacity)))
    return builder, summary


def _csv(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def test_capacity_three_of_five_calls_three_and_texts_two(lake: tuple[LakeBuilder, WorklistSummary]) -> None:
    builder, summary = lake
    shop = summary.by_district()["761"]
    assert (shop.people, shop.to_call, shop.to_notify, shop.calls_per_day, shop.days_to_clear) == (5, 3, 2, 3, 2)
    called = _csv(shop.csv_path)
    assert [row["phone_or_citizen_id"] for row in called] == [builder.person_id(SHOP_PEOPLE[x]) for x in CALLED]
    assert [row["priority"] for row in called] == ["1", "2", "3"]
    scores = [float(row["risk_score"]) for row in called]
    assert scores == sorted(scores, reverse=True) and all(100 < score < 200 for score in scores)
    assert shop.notify_path is not None
    texted = _csv(shop.notify_path)
    assert [row["number"] or row["citizen_id"] for row in texted] == [
        builder.person_id(SHOP_PEOPLE[x]) for x in TEXTED
    ]
    everyone = {row["phone_or_citizen_id"] for row in called} | {row["number"] or row["citizen_id"] for row in texted}
    assert everyone == {builder.person_id(phone) for phone in SHOP_PEOPLE.values()}  # nobody lost
    assert (summary.people, summary.to_call, summary.to_notify) == (6, 4, 2)


def test_the_notification_list_names_no_one_else(lake: tuple[LakeBuilder, WorklistSummary]) -> None:
    builder, summary = lake
    shop = summary.by_district()["761"]
    assert shop.notify_path is not None
    with open(shop.notify_path, encoding="utf-8-sig", newline="") as stream:
        assert tuple(next(csv.reader(stream))) == NOTIFY_COLUMNS
    everybody = [SOURCE, SOURCE_2, CANTEEN_PERSON, *SHOP_PEOPLE.values()]
    for row in _csv(shop.notify_path):
        own = row["number"] or row["citizen_id"]
        others = [builder.person_id(phone) for phone in everybody if builder.person_id(phone) != own]
        others += [builder.pseudonym(phone) for phone in everybody]
        others += [phone for phone in everybody if builder.person_id(phone) != own]
        text = " ".join(row.values())
        assert not [other for other in others if other in text], row
        assert "tại Tiệm may Hòa ngày 03/08" in row["message"]
        assert "Hãy tự theo dõi sức khỏe" in row["message"]
    d, e = _csv(shop.notify_path)
    assert (d["number"], d["citizen_id"]) == (builder.person_id(SHOP_PEOPLE["D"]), "")
    assert (e["number"], e["citizen_id"]) == ("", SHOP_PEOPLE["E"])  # no phone: the tracers must find one


def test_a_district_under_capacity_texts_nobody(lake: tuple[LakeBuilder, WorklistSummary]) -> None:
    builder, summary = lake
    canteen = summary.by_district()["762"]
    assert (canteen.people, canteen.to_notify, canteen.calls_per_day, canteen.notify_path) == (1, 0, 200, None)
    assert not (builder.root / "exports" / "notifications" / "date=2021-08-03" / "district=762").exists()


def test_texting_is_a_re_identification_on_the_audit_trail(lake: tuple[LakeBuilder, WorklistSummary]) -> None:
    builder, _summary = lake
    records = {record.output: record.people for record in read_audit(str(builder.vault)) if record.day == DAY}
    assert records["exports/notifications"] == 2
    assert records["exports/worklists"] == 4


class _Metrics(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self.errors: list[str] = []
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if named.get("data-error"):
            self.errors.append(str(named["data-error"]))
        self._open.append(named.get("data-metric"))
        if named.get("data-metric"):
            self.found[str(named["data-metric"])] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1]:
            self.found[self._open[-1]] += data


def _metrics(html: str) -> _Metrics:
    parser = _Metrics()
    parser.feed(html)
    return parser


EXPECTED_METRICS = {
    "calls.to_call": "4", "calls.to_notify": "2",
    "calls.761.calls_per_day": "3", "calls.761.to_call": "3", "calls.761.to_notify": "2",
    "calls.761.days_to_clear": "2",
    "calls.762.calls_per_day": "200", "calls.762.to_call": "1", "calls.762.to_notify": "0",
    "calls.762.days_to_clear": "1",
}


def test_the_tracers_report_shows_calls_texts_and_days_to_clear(lake: tuple[LakeBuilder, WorklistSummary]) -> None:
    builder, summary = lake
    page = build_report(str(builder.root), DAY, load_rules(), audience=Audience.TRACERS,
                        extra_sections=[CallsSection(summary)])
    html = page.read_text(encoding="utf-8")
    found = _metrics(html).found
    assert {name: found[name] for name in EXPECTED_METRICS} == EXPECTED_METRICS
    assert "../../../exports/notifications/date=2021-08-03/district=761/notify.csv" in html
    public = build_report(str(builder.root), DAY, load_rules(), extra_sections=[CallsSection(summary)])
    parsed = _metrics(public.read_text(encoding="utf-8"))
    assert parsed.errors == ["calls"]  # the section refuses the public page ...
    assert not [name for name in parsed.found if name.startswith("calls.")]  # ... and prints none of its counts


def test_the_section_renders_in_headless_chromium(lake: tuple[LakeBuilder, WorklistSummary], tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium, or run scripts/setup.sh)")
    builder, summary = lake
    page = build_report(str(builder.root), DAY, load_rules(), audience=Audience.TRACERS,
                        extra_sections=[CallsSection(summary)])
    dumped = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )
    found = _metrics(dumped.stdout).found
    assert {name: found[name] for name in EXPECTED_METRICS} == EXPECTED_METRICS


def test_an_unknown_day_refuses_the_section(lake: tuple[LakeBuilder, WorklistSummary]) -> None:
    builder, summary = lake
    other = build_report(str(builder.root), date(2021, 8, 4), load_rules(), audience=Audience.TRACERS,
                         extra_sections=[CallsSection(summary)])
    assert _metrics(other.read_text(encoding="utf-8")).errors == ["calls"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("district_code,calls_per_day\n760,40\n770,0\n", {"760": 40, "770": 0}),
        ("\ufeffDistrict;Calls\n 760 ; 12 \n\n", {"760": 12}),
        ("calls_per_day\tdistrict_code\n5\tQ 1\n", {"Q 1": 5}),
    ],
)
def test_the_capacity_file_reads_as_spreadsheets_write_it(tmp_path: Path, text: str,
                                                          expected: dict[str, int]) -> None:
    path = tmp_path / "capacity.csv"
    path.write_text(text, encoding="utf-8")
    assert read_capacity(str(path)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("district_code\n760\n", "no column named calls_per_day"),
        ("district_code,calls_per_day\n760,-3\n", "line 2: calls per day of 760 must be a whole number"),
        ("district_code,calls_per_day\n760,2.5\n", "must be a whole number"),
        ("district_code,calls_per_day\n760,3\n760,4\n", "line 3: district 760 is listed twice"),
        ("district_code,calls_per_day\n,3\n", "line 2: no district code"),
        ("", "is empty"),
    ],
)
def test_a_capacity_file_that_cannot_be_used_says_why(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "capacity.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CapacityError, match=message):
        read_capacity(str(path))
    with pytest.raises(CapacityError, match="cannot read capacity file"):
        read_capacity(str(tmp_path / "missing.csv"))


def test_days_to_clear() -> None:
    assert [days_to_clear(people, calls) for people, calls in [(0, 0), (5, 3), (6, 3), (1, 200), (4, 0)]] == [
        0, 2, 2, 1, None,
    ]
