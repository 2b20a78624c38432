"""Bluezone coverage on known sets: who checked in, who also shows up in sightings, per district and day."""

from pathlib import Path

from province_lake import DAY, HandLake, read_csv

from jobs.province.coverage import LOWER_BOUND, build_coverage
from tracelake.rules import load_rules

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

    result = build_coverage(hand.write(), DAY, RULES)

    assert read_csv(result.paths["districts_csv"]) == [
        {"date": "2021-08-10", "province_code": "38", "district_code": "380", "checked_in_people": "3",
         "seen_by_bluezone": "2", LOWER_BOUND: "0.6667"},
        {"date": "2021-08-10", "province_code": "38", "district_code": "381", "checked_in_people": "2",
         "seen_by_bluezone": "1", LOWER_BOUND: "0.5"},
        {"date": "2021-08-10", "province_code": "", "district_code": "", "checked_in_people": "1",
         "seen_by_bluezone": "1", LOWER_BOUND: "1.0"},
    ]
    trend = read_csv(result.paths["trend_csv"])
    province = [row for row in trend if row["scope"] == "province"]
    assert [row["date"] for row in province] == [f"2021-07-{d}" for d in range(27, 32)] + [
        f"2021-08-{d:02d}" for d in range(1, 11)
    ]
    assert [(row["checked_in_people"], row["seen_by_bluezone"], row[LOWER_BOUND]) for row in province[-3:]] == [
        ("0", "0", ""),
        ("1", "1", "1.0"),
        ("6", "4", "0.6667"),
    ]
    districts = [row for row in trend if row["scope"] == "district"]
    assert [(row["date"], row["district_code"], row["checked_in_people"]) for row in districts] == [
        ("2021-08-09", "380", "1"),
        ("2021-08-10", "380", "3"),
        ("2021-08-10", "381", "2"),
        ("2021-08-10", "", "1"),
    ]
    assert "lower_bound" in LOWER_BOUND
