"""QR-point compliance on a hand-made lake: which registered venues were scanned on D, and who is silent."""

from datetime import date
from pathlib import Path

from province_lake import DAY, HandLake, read_csv

from jobs.publish.province import build_province_outputs
from jobs.publish.province.compliance import build_compliance, qr_points_line
from tracelake.core.rules import load_rules

RULES = load_rules()


def test_the_province_line_reads_like_khanh_hoas() -> None:
    assert qr_points_line(3725, 9661) == "3,725 of 9,661 QR points active (38.6 %)"
    assert qr_points_line(0, 0) == "0 of 0 QR points active (n/a)"


def test_active_and_silent_venues_per_district(tmp_path: Path) -> None:
    hand = HandLake(tmp_path / "lake")
    for venue_id in ("A1", "A2", "A3", "A4"):
        hand.venue(venue_id, f"Quán {venue_id}", "380")
    hand.venue("B1", "Chợ B1", "381", kind="market")
    hand.venue("B2", "Chợ B2", "381", kind="market", registered="2026-11-22 09:00")  # filed under its landing day
    hand.venue("C", "Nhà máy C", "380", kind="factory", registered="2021-07-01 09:00")
    hand.venue("C", "Nhà máy C", "381", kind="factory", registered="2021-07-05 09:00")  # moved: latest wins
    hand.checkin("p1", "A1", "2021-08-10 00:10")  # just after local midnight: day D
    hand.checkin("p2", "A2", "2021-08-07 12:00")
    hand.checkin("p2", "A2", "2021-08-07 12:00", event_id="dup")
    hand.checkin("p2", "A2", "2021-08-07 12:00", event_id="dup")
    hand.checkin("p3", "A4", "2021-07-31 10:00")
    hand.checkin("p4", "A3", "2021-08-11 00:05")  # after D: A3 has still never been scanned by D
    hand.checkin("p5", "B1", "2021-08-10 09:00")
    hand.checkin("p6", "B2", "2021-08-10 23:59")
    hand.checkin("p7", "C", "2021-08-09 23:59")  # a minute before D: silent on D
    hand.checkin("p8", "X", "2021-08-10 10:00")  # never registered
    hand.checkin("p9", "X", "2021-08-10 10:30")

    root = hand.write()
    result = build_compliance(root, DAY, RULES)

    assert [d.row() for d in result.districts] == [
        {"province_code": "38", "district_code": "380", "registered_venues": 4, "active_venues": 1,
         "silent_venues": 3, "active_share": 0.25, "active_percent": "25.0"},
        {"province_code": "38", "district_code": "381", "registered_venues": 3, "active_venues": 2,
         "silent_venues": 1, "active_share": 0.6667, "active_percent": "66.7"},
    ]
    assert [(v.venue_id, v.district_code, v.last_checkin_date, v.days_silent) for v in result.silent] == [
        ("A3", "380", None, None),
        ("A4", "380", date(2021, 7, 31), 10),
        ("A2", "380", date(2021, 8, 7), 3),
        ("C", "381", date(2021, 8, 9), 1),
    ]
    assert (result.registered_venues, result.active_venues) == (7, 3)
    assert (result.unregistered_checkins, result.unregistered_venues) == (2, 1)

    public = build_province_outputs(root, DAY, RULES).compliance
    assert Path(public.paths["districts_csv"]).parent == tmp_path / "lake" / "public" / "compliance" / "date=2021-08-10"
    assert read_csv(public.paths["districts_csv"]) == [
        {"province_code": "38", "district_code": "380", "registered_venues": "4", "active_venues": "1",
         "silent_venues": "3", "active_share": "0.25", "active_percent": "25.0"},
        {"province_code": "38", "district_code": "381", "registered_venues": "3", "active_venues": "2",
         "silent_venues": "1", "active_share": "0.6667", "active_percent": "66.7"},
    ]
    # A4, A2 and C had one visitor each in the lookback: under the visitor floor, so not named in public.
    assert [(r["venue_id"], r["days_silent"]) for r in read_csv(public.paths["silent_venues_csv"])] == [("A3", "never")]
    summary = Path(public.paths["summary_txt"]).read_text().splitlines()
    assert summary[0] == "3 of 7 QR points active (42.9 %)"
    assert "District 380 (province 38): 1 of 4 QR points active (25.0 %)" in summary
    assert "Silent QR points: 1, of which 1 never had a check-in." in summary
    assert "Check-ins at unregistered QR points: <10 at 1 venues." in summary
