"""Public risky-venue notices on hand-made lakes: each range is computed by hand in the test."""

from pathlib import Path

import pytest
from province_lake import DAY, HandLake, read_csv

from jobs.publish.province import ProvinceInputError
from jobs.publish.province.notices import PUBLIC_COLUMNS, Notices, build_notices
from tracelake.core.rules import load_rules

RULES = load_rules()


def _ranges(notices: Notices) -> list[tuple[str, str, str, str]]:
    return [(r.venue_id, r.day.isoformat(), r.from_time, r.to_time) for r in notices.ranges]


def _notices(hand: HandLake, visitor_floor: int = 1) -> Notices:
    return build_notices(hand.write(), DAY, RULES, visitor_floor=visitor_floor)


@pytest.fixture
def hand(tmp_path: Path) -> HandLake:
    hand = HandLake(tmp_path / "lake")
    for venue_id in ("V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8"):
        hand.venue(venue_id, f"Quán {venue_id}", "380")
    return hand


def test_a_stay_is_extended_by_the_linger_and_clipped_to_the_window(hand: HandLake) -> None:
    hand.case("pA", "confirmed", "2021-08-08 00:00", "2021-08-10 12:00")
    hand.checkin("pA", "V1", "2021-08-09 08:00", "2021-08-09 09:00")  # + 30 min linger
    hand.checkin("pA", "V2", "2021-08-07 23:30", "2021-08-08 00:20")  # crosses the window's start
    hand.checkin("pA", "V3", "2021-08-10 11:00", "2021-08-10 11:45")  # linger cut by isolation at 12:00
    hand.checkin("pA", "V4", "2021-08-10 13:00")  # after isolation: nothing
    hand.checkin("pA", "V5", "2021-08-09 15:00")  # no checkout: default stay 60 min + linger

    assert sorted(_ranges(_notices(hand))) == [
        ("V1", "2021-08-09", "08:00", "09:30"),
        ("V2", "2021-08-08", "00:00", "00:50"),
        ("V3", "2021-08-10", "11:00", "12:00"),
        ("V5", "2021-08-09", "15:00", "16:30"),
    ]


def test_ranges_of_several_f0s_merge_when_they_overlap_or_touch(hand: HandLake) -> None:
    hand.case("pA", "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.case("pB", "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.checkin("pA", "V1", "2021-08-09 08:00", "2021-08-09 09:00")  # 08:00-09:30
    hand.checkin("pB", "V1", "2021-08-09 09:15", "2021-08-09 10:00")  # 09:15-10:30 overlaps
    hand.checkin("pA", "V2", "2021-08-09 14:00", "2021-08-09 14:30")  # 14:00-15:00
    hand.checkin("pB", "V2", "2021-08-09 15:00", "2021-08-09 15:30")  # 15:00-16:00 touches
    hand.checkin("pA", "V3", "2021-08-09 18:00", "2021-08-09 18:30")  # 18:00-19:00
    hand.checkin("pB", "V3", "2021-08-09 19:01", "2021-08-09 19:30")  # 19:01-20:00: a gap of a minute

    notices = _notices(hand)

    assert _ranges(notices) == [
        ("V1", "2021-08-09", "08:00", "10:30"),
        ("V2", "2021-08-09", "14:00", "16:00"),
        ("V3", "2021-08-09", "18:00", "19:00"),
        ("V3", "2021-08-09", "19:01", "20:00"),
    ]
    assert [(r.f0_cases, r.f0_stays) for r in notices.ranges] == [(2, 2), (2, 2), (1, 1), (1, 1)]


def test_a_range_across_local_midnight_is_split_per_day(hand: HandLake) -> None:
    hand.case("pA", "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.checkin("pA", "V1", "2021-08-09 23:30", "2021-08-10 00:30")

    notices = _notices(hand)

    assert _ranges(notices) == [("V1", "2021-08-09", "23:30", "24:00"), ("V1", "2021-08-10", "00:00", "01:00")]
    assert "từ 23:30 đến 24:00 ngày 09/08/2021" in Path(notices.paths["notices_public_txt"]).read_text()


def test_times_to_post_widen_a_range_to_whole_minutes(hand: HandLake) -> None:
    hand.case("pA", "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.checkin("pA", "V1", "2021-08-09 08:00:30", "2021-08-09 09:00:10")  # watched 08:00:30-09:30:10
    hand.checkin("pA", "V2", "2021-08-09 23:00:00", "2021-08-09 23:29:59")  # watched to 23:59:59

    notices = _notices(hand)

    assert _ranges(notices) == [("V1", "2021-08-09", "08:00", "09:31"), ("V2", "2021-08-09", "23:00", "24:00")]
    assert [row["end_local"] for row in read_csv(notices.paths["notices_public_csv"])] == [
        "2021-08-09T09:30:10+07:00", "2021-08-09T23:59:59+07:00",
    ]


def test_only_confirmed_cases_with_a_window_give_notices(hand: HandLake) -> None:
    hand.case("pA", "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.case("pD", "discarded")
    hand.case("pI", "isolated")
    hand.case("pE", "confirmed", "2021-08-09 00:00", "2021-08-09 00:00")  # isolated before the window opened
    for person, venue_id in (("pA", "V1"), ("pD", "V2"), ("pI", "V3"), ("pE", "V4")):
        hand.checkin(person, venue_id, "2021-08-09 08:00", "2021-08-09 09:00")

    assert [r.venue_id for r in _notices(hand).ranges] == ["V1"]


def test_a_retracted_f0s_venues_disappear_on_the_next_run(hand: HandLake) -> None:
    hand.case("pA", "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.case("pB", "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.checkin("pA", "V1", "2021-08-09 08:00", "2021-08-09 09:00")
    hand.checkin("pB", "V2", "2021-08-09 08:00", "2021-08-09 09:00")
    first = _notices(hand)
    assert {r.venue_id for r in first.published} == {"V1", "V2"}

    hand.cases[1] = {**hand.cases[1], "status": "discarded", "window_start": None, "window_end": None}
    second = _notices(hand)

    assert {r.venue_id for r in second.ranges} == {"V1"}
    for name in ("notices_public_csv", "notices_tracers_csv"):
        assert {row["venue_id"] for row in read_csv(second.paths[name])} == {"V1"}
    assert "Quán V2" not in Path(second.paths["notices_public_txt"]).read_text()


def test_a_range_under_the_visitor_floor_is_withheld_from_the_public_files(hand: HandLake) -> None:
    hand.case("pA", "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.checkin("pA", "V1", "2021-08-09 08:00", "2021-08-09 09:00")  # watched 08:00-09:30
    hand.checkin("p1", "V1", "2021-08-09 07:00", "2021-08-09 08:00")  # leaves as the range opens: not a visitor
    hand.checkin("p2", "V1", "2021-08-09 09:30", "2021-08-09 10:00")  # arrives as it closes: not a visitor
    hand.checkin("p3", "V1", "2021-08-09 08:10", "2021-08-09 08:20")
    hand.checkin("p3", "V1", "2021-08-09 08:40", "2021-08-09 08:50")  # the same person twice counts once
    hand.checkin("p4", "V1", "2021-08-09 09:10", "2021-08-09 09:20")  # only meets the linger
    hand.checkin("pA", "V2", "2021-08-09 12:00", "2021-08-09 13:00")  # watched 12:00-13:30
    for person in ("q1", "q2", "q3", "q4"):
        hand.checkin(person, "V2", "2021-08-09 13:00", "2021-08-09 13:15")

    notices = _notices(hand, visitor_floor=5)

    assert [(r.venue_id, r.visitors, r.published) for r in notices.ranges] == [("V1", 3, False), ("V2", 5, True)]
    public = read_csv(notices.paths["notices_public_csv"])
    assert [row["venue_id"] for row in public] == ["V2"]
    text = Path(notices.paths["notices_public_txt"]).read_text()
    assert "Quán V2" in text and "Quán V1" not in text
    tracers = {row["venue_id"]: row for row in read_csv(notices.paths["notices_tracers_csv"])}
    assert tracers["V1"]["published"] == "false"
    assert tracers["V1"]["withheld_reason"] == "fewer than 5 visitors"
    assert tracers["V1"]["visitors"] == "3"
    assert tracers["V2"]["published"] == "true" and tracers["V2"]["withheld_reason"] == ""


def test_the_visitor_floor_is_a_parameter(hand: HandLake) -> None:
    hand.case("pA", "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.checkin("pA", "V1", "2021-08-09 08:00", "2021-08-09 09:00")
    hand.checkin("p1", "V1", "2021-08-09 08:00", "2021-08-09 09:00")

    assert _notices(hand, visitor_floor=2).published
    withheld = _notices(hand, visitor_floor=3).withheld
    assert [r.withheld_reasons for r in withheld] == [("fewer than 3 visitors",)]


def test_an_unregistered_venue_has_no_name_to_post(hand: HandLake) -> None:
    hand.case("pA", "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.checkin("pA", "NOWHERE", "2021-08-09 08:00", "2021-08-09 09:00")

    notices = _notices(hand)

    assert not notices.published
    assert [row["venue_id"] for row in read_csv(notices.paths["notices_tracers_csv"])] == ["NOWHERE"]


def test_the_public_files_say_nothing_about_any_person(hand: HandLake) -> None:
    people = [f"pseudonym-{i:02d}-c0ffee" for i in range(6)]
    hand.case(people[0], "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.venue("V9", "Quán cà phê Mộc", "380")
    for person in people:
        hand.checkin(person, "V9", "2021-08-09 08:00", "2021-08-09 09:00")

    notices = _notices(hand, visitor_floor=5)

    public_csv = Path(notices.paths["notices_public_csv"]).read_text(encoding="utf-8")
    public_txt = Path(notices.paths["notices_public_txt"]).read_text(encoding="utf-8")
    header = public_csv.splitlines()[0].split(",")
    assert header == list(PUBLIC_COLUMNS)
    assert not [c for c in header if any(word in c for word in ("person", "pseudonym", "phone", "case", "visitor"))]
    for person in people:
        assert person not in public_csv and person not in public_txt
    assert "pseudonym" not in public_txt and "+84" not in public_txt
    assert (
        "Những người đã đến Quán cà phê Mộc, quận/huyện mã 380 từ 08:00 đến 09:30 ngày 09/08/2021 "
        "cần khai báo y tế và theo dõi sức khỏe"
    ) in public_txt


def test_district_names_make_the_text_friendlier(hand: HandLake) -> None:
    hand.case("pA", "confirmed", "2021-08-01 00:00", "2021-08-11 00:00")
    hand.checkin("pA", "V1", "2021-08-09 08:00", "2021-08-09 09:00")

    notices = build_notices(hand.write(), DAY, RULES, visitor_floor=1, district_names={"380": "TP Thanh Hóa"})

    assert "Quán V1, TP Thanh Hóa từ 08:00" in Path(notices.paths["notices_public_txt"]).read_text()


def test_stays_before_the_lookback_are_not_posted(hand: HandLake) -> None:
    hand.case("pA", "confirmed", "2021-07-20 00:00", "2021-08-11 00:00")
    hand.checkin("pA", "V1", "2021-07-26 08:00", "2021-07-26 09:00")  # lookback starts 2021-07-27
    hand.checkin("pA", "V2", "2021-07-27 08:00", "2021-07-27 09:00")

    assert _ranges(_notices(hand)) == [("V2", "2021-07-27", "08:00", "09:30")]


def test_no_cases_of_the_day_is_an_error_not_an_empty_notice(hand: HandLake) -> None:
    hand.checkin("pA", "V1", "2021-08-09 08:00", "2021-08-09 09:00")
    root = hand.write(traced=False)

    with pytest.raises(ProvinceInputError, match="run the trace job"):
        build_notices(root, DAY, RULES)
