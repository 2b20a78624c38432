"""Bluezone coverage on known sets: who checked in, who also shows up in sightings, per district and day."""

from pathlib import Path

from province_lake import DAY, HandLake, read_csv

from jobs.publish.province import build_province_outputs
from jobs.publish.province.coverage import LOWER_BOUND, build_coverage
from tracelake.core.rules import load_rules

RULES = load_rules()


def test_coverage_per_district_and_its_trend(tmp_path: Path) -> None:
    hand = HandLake(tmp_path / "lake")
    hand.venue("A", "Chợ A", "380")
    hand.venue("B", "Chợ B", "381")
    hand.checkin("P1", "A", "2021-08-10 08:00")
    hand.checkin("P1", "B", "2021-08-10 10:00")  # P1 belongs to A's district: the first check-in
    hand.checkin("P2", "A", "2021-08-10 09:00")
    hand.checkin("P3", "A", "2021-08-10 09:30")
    hand.checkin("P4", "B", "2021-08-10 07:00")
    hand.checkin("P4", "A", "2021-08-10 11:00")
    hand.checkin("P5", "B", "2021-08-10 12:00")
    hand.checkin("P6", "X", "2021-08-10 12:00")  # an unregistered venue: no district
    hand.checkin("P8", "A", "2021-08-09 10:00")
    hand.sighting("P1", "P9", "2021-08-10 08:30")  # P1 as the reporter
    hand.sighting("P9", "P2", "2021-08-10 00:00")  # P2 as the contact, at D's first instant
    hand.sighting("P3", "P9", "2021-08-09 20:00")  # P3 only the day before
    hand.sighting("P4", "P9", "2021-08-11 00:01")  # P4 only the day after
    hand.sighting("P5", "P9", "2021-08-10 23:59")
    hand.sighting("P9", "P6", "2021-08-10 13:00")
    hand.sighting("P8", "P9", "2021-08-09 10:05")

    root = hand.write()
    result = build_coverage(root, DAY, RULES)

    assert [(c.district_code, c.checked_in_people, c.seen_by_bluezone, c.lower_bound) for c in result.districts] == [
        ("380", 3, 2, 0.6667),
        ("381", 2, 1, 0.5),
        (None, 1, 1, 1.0),
    ]
    province = [c for c in result.trend if c.scope == "province"]
    assert [c.day.isoformat() for c in province] == [f"2021-07-{d}" for d in range(27, 32)] + [
        f"2021-08-{d:02d}" for d in range(1, 11)
    ]
    assert [(c.checked_in_people, c.seen_by_bluezone, c.lower_bound) for c in province[-3:]] == [
        (0, 0, None),
        (1, 1, 1.0),
        (6, 4, 0.6667),
    ]
    districts = [c for c in result.trend if c.scope == "district"]
    assert [(c.day.isoformat(), c.district_code, c.checked_in_people) for c in districts] == [
        ("2021-08-09", "380", 1),
        ("2021-08-10", "380", 3),
        ("2021-08-10", "381", 2),
        ("2021-08-10", None, 1),
    ]
    assert "lower_bound" in LOWER_BOUND

    public = build_province_outputs(root, DAY, RULES).coverage
    assert Path(public.paths["trend_csv"]).parent == tmp_path / "lake" / "public" / "coverage" / "date=2021-08-10"
    assert read_csv(public.paths["districts_csv"])[0] == {
        "date": "2021-08-10", "province_code": "38", "district_code": "380", "checked_in_people": "<10",
        "seen_by_bluezone": "<10", LOWER_BOUND: "",
    }
    trend = [row for row in read_csv(public.paths["trend_csv"]) if row["scope"] == "province"]
    assert [(row["checked_in_people"], row["seen_by_bluezone"], row[LOWER_BOUND]) for row in trend[-3:]] == [
        ("0", "0", ""),
        ("<10", "<10", ""),
        ("<10", "<10", ""),
    ]


def test_people_not_seen_by_bluezone_are_a_count_too(tmp_path: Path) -> None:
    """12 checked in and 10 seen would give away the 2 not seen: the public sees neither number."""
    hand = HandLake(tmp_path / "lake")
    hand.venue("A", "Chợ A", "380")
    for index in range(12):
        hand.checkin(f"P{index}", "A", "2021-08-10 08:00")
    for index in range(10):
        hand.sighting(f"P{index}", "P0", "2021-08-10 09:00")

    public = build_province_outputs(hand.write(), DAY, RULES).coverage

    row = read_csv(public.paths["districts_csv"])[0]
    assert (row["checked_in_people"], row["seen_by_bluezone"], row[LOWER_BOUND]) == ("12", "≥10", "")
