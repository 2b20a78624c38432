"""Venue risk ranking: exposures caused, then F0 visits, then check-ins on D."""

from pathlib import Path

from province_lake import DAY, HandLake, read_csv

from jobs.publish.province import build_province_outputs
from jobs.publish.province.venue_risk import build_venue_risk
from tracelake.core.rules import load_rules

RULES = load_rules()


def test_venues_rank_by_exposures_then_f0_visits_then_checkins(tmp_path: Path) -> None:
    hand = HandLake(tmp_path / "lake")
    for venue_id in ("V1", "V2", "V3", "V4", "V5", "V6"):
        hand.venue(venue_id, f"Nhà máy {venue_id}", "380", kind="factory")
    hand.case("pA", "confirmed", "2021-08-01 00:00", "2021-08-10 18:00")
    hand.checkin("pA", "V1", "2021-08-10 08:00", "2021-08-10 09:00")
    hand.checkin("p1", "V1", "2021-08-10 08:30")
    for target in ("t1", "t2", "t3"):
        hand.contact("pA", target, "V1", "2021-08-10 08:30", "2021-08-10 09:00")
    hand.checkin("pA", "V2", "2021-08-08 10:00", "2021-08-08 11:00")
    hand.checkin("pA", "V2", "2021-08-09 10:00", "2021-08-09 11:00")
    hand.contact("pA", "t4", "V2", "2021-08-08 10:00", "2021-08-08 11:00")
    hand.contact("pA", "t4", "V2", "2021-08-09 10:00", "2021-08-09 11:00")
    hand.contact("pA", "t5", "V2", "2021-08-09 10:00", "2021-08-09 11:00")
    hand.checkin("pA", "V3", "2021-08-07 10:00")
    for i in range(10):
        hand.checkin(f"q{i}", "V3", "2021-08-10 07:00")
    hand.contact("t1", "u1", "V4", "2021-08-10 12:00", "2021-08-10 13:00", source_tier="F1", target_tier="F2")
    hand.contact("pA", "t9", None, "2021-08-09 12:00", "2021-08-09 12:30", channel="ble")
    hand.checkin("pA", "X", "2021-08-10 12:00")  # unregistered
    hand.checkin("pA", "V5", "2021-08-10 19:00")  # after the window closed: a check-in, not an F0 visit
    for i in range(4):
        hand.checkin(f"r{i}", "V6", "2021-08-10 07:00")
    hand.checkin("r9", "V6", "2021-08-10 07:00", event_id="resent")
    hand.checkin("r9", "V6", "2021-08-10 07:00", event_id="resent")

    root = hand.write()
    ranking = build_venue_risk(root, DAY, RULES)

    assert [
        (v.rank, v.venue_id, v.exposures, v.exposed_people, v.f0_visits, v.checkins, v.visitors)
        for v in ranking.venues
    ] == [
        (1, "V2", 3, 2, 2, 0, 1),
        (2, "V1", 3, 3, 1, 2, 2),
        (3, "V4", 1, 1, 0, 0, 0),
        (4, "V3", 0, 0, 1, 10, 11),
        (5, "X", 0, 0, 1, 1, 1),
        (6, "V6", 0, 0, 0, 5, 5),
        (7, "V5", 0, 0, 0, 1, 1),
    ]
    assert {v.venue_id: v.row()["registered"] for v in ranking.venues}["X"] == "false"
    assert ranking.venues[0].venue_name == "Nhà máy V2"
    assert ranking.exposures == 7

    public = build_province_outputs(root, DAY, RULES).venue_risk
    rows = read_csv(public.paths["venue_risk_csv"])
    # Under 5 visitors: V2, V1, X, V5; V3 had its notice withheld (the F0 alone on 07/08). Ranks close up.
    assert [
        (row["rank"], row["venue_id"], row["exposures"], row["exposed_people"], row["f0_visits"], row["checkins"])
        for row in rows
    ] == [
        ("1", "V4", "<10", "<10", "0", "0"),
        ("2", "V6", "0", "0", "0", "<10"),
    ]
    assert "public/venue_risk/date=2021-08-10" in public.paths["venue_risk_csv"]
