"""The province simulator: deterministic, contract-shaped, and as messy as promised.

Small populations only; the shares are checked on 20,000 people over 3 days.
"""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import phonenumbers
import pytest
from jsonschema import Draft202012Validator

from schemas import TOPICS, topic_json_schema_path
from simulator import SimulationSummary, simulate, writer
from simulator.defects import CATALOGUE, NOT_JSON, NOT_OBJECT
from tracelake.core.events import Accepted, judge
from tracelake.core.identity import normalize_person_id

DAY = date(2021, 8, 3)
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
SHARE = 0.36
MALFORMED = 0.005
PERSON_FIELDS = {"checkins": ("person_id",), "proximity": ("reporter_id", "contact_id"),
                 "case_reports": ("person_id",), "venues": ()}
SCHEMA_CHECKABLE = ("missing field", "must be a string", "must be an integer", "unknown value in",
                    "rssi out of range")


@dataclass
class Topic:
    """One simulated topic file, split the way the lander will see it."""

    lines: list[bytes]
    valid: list[dict[str, Any]]
    valid_lines: list[bytes]
    tagged: list[dict[str, Any]]
    untagged_bad: list[bytes]
    """lines that are not JSON objects, so they could not carry a tag"""


@dataclass
class Run:
    out: Path
    summary: SimulationSummary
    topics: dict[str, Topic]


def _read(out: Path) -> dict[str, Topic]:
    topics = {}
    for topic in TOPICS:
        lines = (out / f"{topic}.jsonl").read_bytes().splitlines()
        found = Topic(lines, [], [], [], [])
        for line in lines:
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                found.untagged_bad.append(line)
                continue
            if not isinstance(event, dict):
                found.untagged_bad.append(line)
            elif "sim_defect" in event:
                found.tagged.append(event)
            else:
                found.valid.append(event)
                found.valid_lines.append(line)
        topics[topic] = found
    return topics


def _simulate(out: Path, people: int, **options: Any) -> Run:
    summary = simulate(people, DAY, out=out, **options)
    return Run(out, summary, _read(out))


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _simulate(tmp_path_factory.mktemp("province"), 20_000, days=3, seed=7)


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _simulate(tmp_path_factory.mktemp("defective"), 5_000, days=3, seed=3, malformed_share=0.3)


def _epoch(value: str | int) -> float:
    return value / 1000 if isinstance(value, int) else datetime.fromisoformat(value).timestamp()


def _files(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def _sample(items: list[Any], size: int) -> list[Any]:
    step = max(1, len(items) // size)
    return items[::step]


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first = simulate(1_500, DAY, 2, 11, out=tmp_path / "a")
    second = simulate(1_500, DAY, 2, 11, out=tmp_path / "b")
    other = simulate(1_500, DAY, 2, 12, out=tmp_path / "c")
    assert first == second
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    different = _files(tmp_path / "c")
    for name, content in _files(tmp_path / "a").items():
        assert content != different[name], name
    assert other.people == first.people


def test_the_bytes_do_not_depend_on_how_lines_are_chunked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(1_500, DAY, 2, 11, out=tmp_path / "whole")
    monkeypatch.setattr(writer, "CHUNK", 7)
    simulate(1_500, DAY, 2, 11, out=tmp_path / "chunked")
    assert _files(tmp_path / "whole") == _files(tmp_path / "chunked")


def test_writes_every_topic_and_a_summary_that_matches_the_files(province: Run) -> None:
    summary = province.summary
    on_disk = json.loads((province.out / "simulation.json").read_text())
    assert on_disk["people"] == 20_000 and on_disk["f0_seeded"] == summary.f0_seeded
    for topic, found in province.topics.items():
        assert len(found.lines) == summary.events[topic] > 0, topic
        assert on_disk["events"][topic] == summary.events[topic]
        reasons = Counter(event["sim_defect"] for event in found.tagged)
        assert sum(reasons.values()) + len(found.untagged_bad) == summary.malformed_count(topic)
        for reason, count in reasons.items():
            assert summary.malformed[topic][reason] == count
    assert summary.f0_seeded >= 5 and summary.discarded >= 1 and summary.isolated >= 1


def test_valid_events_match_the_json_schemas(province: Run) -> None:
    for topic, found in province.topics.items():
        validator = Draft202012Validator(json.loads(topic_json_schema_path(topic).read_text()))
        for event in _sample(found.valid, 4_000):
            errors = [error.message for error in validator.iter_errors(event)]
            assert not errors, (topic, event, errors)


def test_person_ids_are_vietnamese_phones_or_citizen_ids(province: Run) -> None:
    for topic, fields in PERSON_FIELDS.items():
        for event in _sample(province.topics[topic].valid, 3_000):
            for field in fields:
                written = event[field]
                if written.isdigit() and len(written) == 12:
                    continue
                number = phonenumbers.parse(written, "VN")
                assert number.country_code == 84 and phonenumbers.is_possible_number(number), written
                assert phonenumbers.is_valid_number(number), written


def test_the_validator_accepts_valid_events_and_rejects_defects_with_their_tag(defective: Run) -> None:
    landed_at = int(datetime.now().timestamp() * 1_000_000)
    for topic, found in defective.topics.items():
        for line in found.lines:
            verdict = judge(topic, line, landed_at)
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                assert not isinstance(verdict, Accepted) and verdict.reason == NOT_JSON
                continue
            if isinstance(event, dict) and "sim_defect" not in event:
                assert isinstance(verdict, Accepted), (topic, line, verdict)
            elif isinstance(event, dict):
                assert not isinstance(verdict, Accepted) and verdict.reason == event["sim_defect"], (topic, line)
            else:
                assert not isinstance(verdict, Accepted) and verdict.reason == NOT_OBJECT


def test_every_defect_kind_appears_and_schema_detectable_ones_fail_the_schema(defective: Run) -> None:
    summary = defective.summary
    seen = {reason for counts in summary.malformed.values() for reason in counts}
    expected_everywhere = {defect.reason for topic in ("checkins", "proximity", "venues")
                           for defect in CATALOGUE[topic]}
    assert expected_everywhere <= seen
    assert {"missing field sample_date", "missing field isolated_at", "unknown value in kind"} <= set(
        summary.malformed["case_reports"])
    for topic, found in defective.topics.items():
        validator = Draft202012Validator(json.loads(topic_json_schema_path(topic).read_text()))
        for event in found.tagged:
            if any(marker in event["sim_defect"] for marker in SCHEMA_CHECKABLE):
                assert not validator.is_valid(event), (topic, event)


def test_malformed_share_holds_per_topic(province: Run) -> None:
    for topic in ("checkins", "proximity"):
        share = province.summary.malformed_count(topic) / province.summary.events[topic]
        assert 0.9 * MALFORMED <= share <= MALFORMED, (topic, share)


def test_resends_repeat_an_event_byte_for_byte(province: Run) -> None:
    for topic, found in province.topics.items():
        by_id: dict[str, set[bytes]] = defaultdict(set)
        count: Counter[str] = Counter()
        for line, event in zip(found.valid_lines, found.valid, strict=True):
            by_id[event["event_id"]].add(line)
            count[event["event_id"]] += 1
        assert all(len(lines) == 1 for lines in by_id.values()), topic
        assert sum(n - 1 for n in count.values()) == province.summary.resends[topic], topic
    assert province.summary.resends["proximity"] > 0


def test_about_a_quarter_of_checkins_have_no_checkout(province: Run) -> None:
    checkins = province.topics["checkins"].valid
    share = sum(event.get("checkout_at") is None for event in checkins) / len(checkins)
    assert 0.20 <= share <= 0.30
    assert any("checkout_at" in event and event["checkout_at"] is None for event in checkins)


def test_bluezone_adoption_near_the_share(province: Run) -> None:
    summary = province.summary
    assert abs(summary.app_users / summary.people - SHARE) < 0.02
    checked_in = {normalize_person_id(e["person_id"]) for e in province.topics["checkins"].valid}
    sighted = {normalize_person_id(e[f]) for e in province.topics["proximity"].valid
               for f in ("reporter_id", "contact_id")}
    fraction = len(checked_in & sighted) / len(checked_in)
    assert 0.6 * SHARE <= fraction <= SHARE + 0.02, fraction


def test_a_pair_is_sighted_about_every_five_minutes(province: Run) -> None:
    times: dict[tuple[str | None, str | None], list[float]] = defaultdict(list)
    for event in province.topics["proximity"].valid:
        pair = (normalize_person_id(event["reporter_id"]), normalize_person_id(event["contact_id"]))
        times[pair].append(_epoch(event["observed_at"]))
    gaps = np.concatenate([np.diff(np.sort(t)) for t in times.values() if len(t) > 1])
    assert 270 <= float(np.median(gaps)) <= 330
    assert any(len(t) >= 4 for t in times.values()), "some pairs must be near long enough to be contacts"


def test_sightings_carry_both_os_and_rssi_in_range(province: Run) -> None:
    sightings = province.topics["proximity"].valid
    rssi = np.array([e["rssi"] for e in sightings])
    assert rssi.min() >= -127 and rssi.max() <= 20
    ios = np.mean([e["reporter_os"] == "ios" for e in sightings])
    assert 0.2 <= ios <= 0.4
    assert any("tx_power" in e for e in sightings) and any("tx_power" not in e for e in sightings)


def test_one_person_appears_in_several_spellings(province: Run) -> None:
    spellings: dict[str | None, set[str]] = defaultdict(set)
    for event in province.topics["checkins"].valid:
        spellings[normalize_person_id(event["person_id"])].add(event["person_id"])
    assert None not in spellings
    assert sum(len(s) >= 2 for s in spellings.values()) > len(spellings) // 4
    citizen_ids = [p for p in spellings if p and not p.startswith("+")]
    assert 0.05 <= len(citizen_ids) / len(spellings) <= 0.15


def test_times_come_in_all_three_forms_within_the_days(province: Run) -> None:
    checkins = province.topics["checkins"].valid
    forms = Counter("ms" if isinstance(e["checkin_at"], int) else "Z" if e["checkin_at"].endswith("Z")
                    else e["checkin_at"][-6:] for e in checkins)
    assert set(forms) == {"+07:00", "Z", "ms"} and forms["+07:00"] > forms["Z"] > 0
    first = datetime(2021, 8, 1, tzinfo=LOCAL).timestamp() - 2 * 3600
    last = datetime(2021, 8, 4, tzinfo=LOCAL).timestamp()
    assert all(first <= _epoch(e["checkin_at"]) < last for e in checkins)


def test_venues_registered_silent_and_unregistered(province: Run) -> None:
    registered = {e["venue_id"] for e in province.topics["venues"].valid}
    used = {e["venue_id"] for e in province.topics["checkins"].valid}
    assert registered - used, "some registered QR points never get a check-in"
    assert used - registered, "some check-ins go to venues never registered"
    kinds = Counter(e.get("kind") for e in province.topics["venues"].valid)
    assert {"market", "supermarket", "factory", "cafe", "school", "office", "clinic"} <= set(kinds)
    assert all(e["province_code"] == "24" for e in province.topics["venues"].valid)


def test_case_reports_are_consistent(province: Run) -> None:
    reports = province.topics["case_reports"].valid
    end = datetime(2021, 8, 4, tzinfo=LOCAL).timestamp()
    confirmed_at: dict[str | None, float] = {}
    for report in reports:
        assert _epoch(report["reported_at"]) < end
        if report["kind"] == "confirmed":
            assert report.get("onset_date") is None or report["onset_date"] <= report["sample_date"]
            confirmed_at[normalize_person_id(report["person_id"])] = _epoch(report["reported_at"])
        if report["kind"] == "isolated":
            assert "isolated_at" in report
    discarded = [r for r in reports if r["kind"] == "discarded"]
    assert discarded
    for report in discarded:
        person = normalize_person_id(report["person_id"])
        assert _epoch(report["reported_at"]) > confirmed_at[person]


def test_rejects_impossible_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        simulate(0, DAY, out=tmp_path)
    with pytest.raises(ValueError):
        simulate(10, DAY, out=tmp_path, malformed_share=1.0)


def test_tiny_province_still_writes_every_topic(tmp_path: Path) -> None:
    summary = simulate(3, DAY, 1, 0, out=tmp_path)
    assert summary.people == 3 and summary.f0_seeded == 3
    assert {p.name for p in tmp_path.iterdir()} == {f"{t}.jsonl" for t in TOPICS} | {"simulation.json"}
