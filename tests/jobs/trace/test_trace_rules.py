"""CONTRACT.md section 2, rule by rule, on both engines.

Each test declares its cell (people and venues of its own) right above its
assertions; all cells are traced together once per engine (see scenario.py).
Times are local (Asia/Ho_Chi_Minh, UTC+7); D is 2021-08-03. Unless a cell
says otherwise its F0 was confirmed on 2021-08-02 with that sample date, so
its window is [2021-07-31 00:00, 2021-08-04 00:00) local. Times are chosen so
that a plausible wrong reading of the rule gives a different answer.
"""

from collections.abc import Iterator

import pytest

from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.scenario import Cell, Scenario, TracedScenario
from tests.jobs.tracing import run_trace

scenario = Scenario()


@pytest.fixture(scope="module", params=["spark", "duckdb"])
def traced(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TracedScenario]:
    if request.param == "spark":
        request.getfixturevalue("spark")
    root = tmp_path_factory.mktemp(f"rules-{request.param}")
    builder = LakeBuilder(root / "lake", root / "vault")
    cells = scenario.build(builder)
    yield TracedScenario(run_trace(builder, request.param, write=False), cells)


# --- venue exposure -------------------------------------------------------


@scenario.cell
def linger(c: Cell) -> None:
    c.confirmed("S")
    c.checkin("S", "V", "10:00", "11:00")
    c.checkin("P", "V", "11:10", "12:00")  # after S left, inside its 30 min linger
    c.checkin("Q", "W", "06:00", "07:50")
    c.checkin("S", "W", "07:40", "09:00")  # 10 min together; 40 if Q's stay got the linger


def test_linger_extends_the_sources_stay_only(traced: TracedScenario) -> None:
    cell = traced["linger"]
    assert cell.tiers() == {"P": "F1"}
    assert cell.exposures("P") == [("venue", cell.at("11:10"), cell.at("11:30"))]
    assert cell.row("P")["exposure_minutes"] == 20.0


@scenario.cell
def default_stay(c: Cell) -> None:
    c.confirmed("S")
    c.checkin("S", "V", "10:00")  # no checkout: until 11:00, linger to 11:30
    c.checkin("P", "V", "11:14")  # 16 min
    c.checkin("Q", "V", "11:16")  # 14 min
    c.checkin("R", "W", "07:00")  # no checkout: until 08:00
    c.checkin("S", "W", "07:44", "09:00")  # 16 min with R
    c.checkin("T", "W", "06:46")  # until 07:46: 2 min with S


def test_default_stay_on_both_sides(traced: TracedScenario) -> None:
    cell = traced["default_stay"]
    assert cell.tiers() == {"P": "F1", "R": "F1", "Q": "F2"}  # Q: an hour with P, not 15 min with S
    assert cell.exposures("P") == [("venue", cell.at("11:14"), cell.at("11:30"))]
    assert cell.exposures("R") == [("venue", cell.at("07:44"), cell.at("08:00"))]


@scenario.cell
def imputed_checkout(c: Cell) -> None:
    c.confirmed("S")
    c.checkin("S", "V", "10:00", "11:00")
    c.checkin("P", "V", "10:00", "11:00")  # both scanned out
    c.checkin("Q", "V", "10:00")  # Q's end is the default stay
    c.checkin("S", "W", "14:00")  # S's end is the default stay ...
    c.checkin("R", "W", "14:00", "15:00")  # ... so R's exposure rests on it
    c.checkin("P", "W", "14:00", "15:00")  # P: one scanned exposure, one imputed
    c.encounter("S", "T", "16:00", "16:30")  # Bluetooth never is


def test_an_exposure_on_a_default_stay_is_flagged_imputed(traced: TracedScenario) -> None:
    cell = traced["imputed_checkout"]
    assert cell.tiers() == {"P": "F1", "Q": "F1", "R": "F1", "T": "F1"}
    venue = {cell.cell.venue("V"): "V", cell.cell.venue("W"): "W"}
    edges = {
        (label, venue.get(row["venue_id"], row["channel"])): (row["imputed_checkout"], row["venue_visitors"])
        for label in ("P", "Q", "R", "T")
        for row in traced.traced.contacts.to_pylist()
        if row["target_pseudonym"] == traced.traced.builder.pseudonym(cell.cell.person(label))
    }
    assert edges == {
        ("P", "V"): (False, 3), ("P", "W"): (True, 3), ("Q", "V"): (True, 3), ("R", "W"): (True, 3),
        ("T", "ble"): (False, None),
    }
    assert {label: cell.row(label)["imputed_checkout"] for label in ("P", "Q", "R", "T")} == {
        "P": False, "Q": True, "R": True, "T": False,  # a person is flagged when every exposure is
    }


@scenario.cell
def overlap_bound(c: Cell) -> None:
    c.confirmed("S")
    c.checkin("S", "V", "10:00", "10:30")  # with the linger: until 11:00
    c.checkin("P", "V", "10:45", "12:00")  # exactly 15:00
    c.checkin("Q", "V", "10:45:01", "12:00")  # 14:59
    c.checkin("R", "V", "10:45:00.000001", "12:00")  # one microsecond short


def test_overlap_of_exactly_min_overlap_counts(traced: TracedScenario) -> None:
    cell = traced["overlap_bound"]
    assert cell.tiers() == {"P": "F1", "Q": "F2", "R": "F2"}  # Q and R: only through P
    assert cell.row("P")["exposure_minutes"] == 15.0


@scenario.cell
def each_pair_of_stays(c: Cell) -> None:
    c.confirmed("S")
    c.checkin("S", "V", "10:00", "10:10")  # +30 linger: until 10:40
    c.checkin("P", "V", "10:30", "10:40")  # 10 min
    c.checkin("S", "V", "14:00", "14:10")
    c.checkin("P", "V", "14:30", "14:40")  # another 10 min: never summed with the first


def test_each_pair_of_stays_is_judged_on_its_own(traced: TracedScenario) -> None:
    assert traced["each_pair_of_stays"].tiers() == {}


# --- windows ----------------------------------------------------------------


@scenario.cell
def clip_end_of_day(c: Cell) -> None:
    c.confirmed("S")
    c.checkin("S", "V", "23:00", "2021-08-04 00:20")  # linger to 00:50 on D+1
    c.checkin("P", "V", "23:40", "2021-08-04 01:00")  # 70 min together, 20 before midnight
    c.checkin("Q", "V", "23:50", "2021-08-04 01:00")  # 60 min together, 10 before midnight


def test_window_closes_at_the_end_of_d(traced: TracedScenario) -> None:
    cell = traced["clip_end_of_day"]
    assert cell.tiers() == {"P": "F1"}
    assert cell.exposures("P") == [("venue", cell.at("23:40"), cell.at("2021-08-04 00:00"))]


@scenario.cell
def clip_isolation(c: Cell) -> None:
    c.confirmed("S")
    c.case("S", "isolated", "10:30", isolated_at="10:00")
    c.checkin("S", "V", "09:00", "11:00")
    c.checkin("P", "V", "09:40", "11:00")  # 20 min before the isolation
    c.checkin("Q", "V", "09:50", "11:00")  # 10 min before it


def test_window_closes_at_isolation(traced: TracedScenario) -> None:
    cell = traced["clip_isolation"]
    assert cell.tiers() == {"P": "F1", "Q": "F2"}
    assert cell.exposures("P") == [("venue", cell.at("09:40"), cell.at("10:00"))]


@scenario.cell
def isolation_after_end_of_day(c: Cell) -> None:
    c.confirmed("S")
    c.case("S", "isolated", "20:00", isolated_at="2021-08-04 00:30")  # known on D, isolated after it
    c.checkin("S", "V", "23:00", "2021-08-04 00:20")  # linger to 00:50
    c.checkin("P", "V", "23:50", "2021-08-04 01:00")  # 10 min before midnight, 40 before isolation


def test_an_isolation_after_d_closes_the_window_there(traced: TracedScenario) -> None:
    cell = traced["isolation_after_end_of_day"]
    assert cell.exposures("P") == [("venue", cell.at("23:50"), cell.at("2021-08-04 00:30"))]
    assert cell.case("S")["window_end"] == cell.at("2021-08-04 00:30")


@scenario.cell
def isolation_reported_after_d(c: Cell) -> None:
    c.confirmed("S")
    c.case("S", "isolated", "2021-08-04 08:00", isolated_at="10:00")  # reported after D: not read
    c.checkin("S", "V", "09:00", "11:00")
    c.checkin("P", "V", "09:40", "11:00")


def test_an_isolation_reported_after_d_is_not_read(traced: TracedScenario) -> None:
    cell = traced["isolation_reported_after_d"]
    assert cell.exposures("P") == [("venue", cell.at("09:40"), cell.at("11:00"))]
    assert cell.case("S")["isolated_at"] is None


@scenario.cell
def window_start(c: Cell) -> None:
    c.confirmed("A", sample="2021-08-02", onset="2021-08-01")  # opens 2021-07-30 00:00
    c.checkin("A", "V", "2021-07-29 23:00", "2021-07-30 00:20")
    c.checkin("P", "V", "2021-07-29 23:30", "2021-07-30 01:00")
    c.confirmed("B", sample="2021-08-02")  # no onset: opens 2021-07-31 00:00
    c.checkin("B", "W", "2021-07-30 23:00", "2021-07-31 00:20")
    c.checkin("Q", "W", "2021-07-30 23:30", "2021-07-31 01:00")
    c.checkin("A", "X", "2021-07-30 10:00", "2021-07-30 11:00")  # inside A's window only by the onset
    c.checkin("R", "X", "2021-07-30 10:00", "2021-07-30 11:00")


def test_window_opens_at_local_midnight_of_onset_else_sample_minus_days(traced: TracedScenario) -> None:
    cell = traced["window_start"]
    assert cell.tiers() == {"P": "F1", "Q": "F1", "R": "F1"}
    assert cell.exposures("P") == [("venue", cell.at("2021-07-30 00:00"), cell.at("2021-07-30 00:50"))]
    assert cell.exposures("Q") == [("venue", cell.at("2021-07-31 00:00"), cell.at("2021-07-31 00:50"))]
    assert cell.case("A")["window_start"] == cell.at("2021-07-30 00:00")
    assert cell.case("B")["window_start"] == cell.at("2021-07-31 00:00")


@scenario.cell
def f0_empty_window(c: Cell) -> None:
    c.confirmed("S")  # opens 2021-07-31 00:00
    c.case("S", "isolated", "2021-07-30 12:00", isolated_at="2021-07-30 10:00")
    c.checkin("S", "V", "10:00", "11:00")
    c.checkin("P", "V", "10:00", "11:00")


def test_an_f0_with_an_empty_window_exposes_nobody(traced: TracedScenario) -> None:
    cell = traced["f0_empty_window"]
    assert cell.tiers() == {}
    case = cell.case("S")
    assert case["status"] == "confirmed"
    assert case["window_end"] <= case["window_start"]


@scenario.cell
def f1_window(c: Cell) -> None:
    c.confirmed("S")
    c.checkin("S", "V", "10:00", "11:00")
    c.checkin("A", "V", "10:00", "11:00")
    c.case("A", "isolated", "09:30", isolated_at="09:00")  # before its exposure: empty window
    c.checkin("A", "W", "12:00", "13:00")
    c.checkin("B", "W", "12:00", "13:00")
    c.checkin("C", "V", "10:00", "11:00")
    c.case("C", "isolated", "12:30", isolated_at="12:00")  # window [10:00, 12:00]
    c.checkin("C", "X", "11:00", "11:30")
    c.checkin("E", "X", "11:00", "11:30")  # 30 min inside C's window (linger clipped at 12:00)
    c.checkin("C", "Y", "12:10", "13:00")
    c.checkin("F", "Y", "12:10", "13:00")  # after C's isolation
    c.checkin("G", "V", "10:00", "11:00")  # window opens at 10:00
    c.checkin("G", "Z", "09:00", "09:50")
    c.checkin("H", "Z", "09:00", "09:50")  # before G's window opened


def test_f1_window_opens_at_first_exposure_and_closes_at_isolation(traced: TracedScenario) -> None:
    cell = traced["f1_window"]
    assert cell.tiers() == {"A": "F1", "C": "F1", "G": "F1", "E": "F2"}
    assert cell.exposures("E") == [("venue", cell.at("11:00"), cell.at("11:30"))]


# --- bluetooth exposure ------------------------------------------------------


@scenario.cell
def rssi_thresholds(c: Cell) -> None:
    c.confirmed("S")
    # (label, who reports, reporter_os, contact_os, rssi); thresholds: a-a -86, a-i -69, i-a -88, i-i -74
    sightings = [
        ("AA_at", "S", "android", "android", -86),
        ("AA_past", "S", "android", "android", -87),
        ("AI_at", "S", "android", "ios", -69),
        ("AI_past", "S", "android", "ios", -70),
        ("IA_at", "S", "ios", "android", -88),
        ("IA_past", "S", "ios", "android", -89),
        ("II_at", "S", "ios", "ios", -74),
        ("II_past", "S", "ios", "ios", -75),
        ("ios_hears_android", "P", "ios", "android", -80),  # close by ios-android (-88)
        ("android_hears_ios", "P", "android", "ios", -80),  # not close by android-ios (-69)
    ]
    for label, reporter, reporter_os, contact_os, rssi in sightings:
        pair = ("S", label) if reporter == "S" else (label, "S")
        c.encounter(*pair, "10:00", "10:20", rssi=rssi, reporter_os=reporter_os, contact_os=contact_os)


def test_rssi_threshold_depends_on_the_direction_of_the_os_pair(traced: TracedScenario) -> None:
    cell = traced["rssi_thresholds"]
    assert cell.tiers() == {"AA_at": "F1", "AI_at": "F1", "IA_at": "F1", "II_at": "F1", "ios_hears_android": "F1"}
    assert cell.exposures("AA_at") == [("ble", cell.at("10:00"), cell.at("10:20"))]


@scenario.cell
def merge_gap(c: Cell) -> None:
    c.confirmed("S")
    for moment in ("10:00", "10:05", "10:11:00", "10:15"):  # a gap of exactly 6:00
        c.sighting("S", "P", moment)
    for moment in ("10:00", "10:05", "10:11:00.001", "10:15:00.001"):  # 6:00.001: two encounters, 5 + 4 min
        c.sighting("S", "Q", moment)
    # S's window opens 2021-07-31 00:00: merged first, the encounter is cut to 15 min; sightings dropped first: 12
    for moment in ("2021-07-30 23:58", "2021-07-31 00:03", "2021-07-31 00:08", "2021-07-31 00:13", "2021-07-31 00:15"):
        c.sighting("S", "R", moment)


def test_merge_gap_is_inclusive_and_merging_comes_before_clipping(traced: TracedScenario) -> None:
    cell = traced["merge_gap"]
    assert cell.tiers() == {"P": "F1", "R": "F1"}
    assert cell.exposures("P") == [("ble", cell.at("10:00"), cell.at("10:15"))]
    assert cell.exposures("R") == [("ble", cell.at("2021-07-31 00:00"), cell.at("2021-07-31 00:15"))]


@scenario.cell
def both_directions(c: Cell) -> None:
    c.confirmed("S")
    c.sighting("S", "P", "10:00")
    c.sighting("P", "S", "10:05")
    c.sighting("S", "P", "10:10")
    c.sighting("P", "S", "10:15")  # each direction alone: 10 min gaps, lone sightings
    c.sighting("S", "Q", "11:00")
    c.sighting("S", "Q", "11:10")
    c.sighting("S", "Q", "11:20")


def test_sightings_from_both_directions_form_one_encounter(traced: TracedScenario) -> None:
    cell = traced["both_directions"]
    assert cell.tiers() == {"P": "F1"}
    assert cell.exposures("P") == [("ble", cell.at("10:00"), cell.at("10:15"))]


@scenario.cell
def local_days(c: Cell) -> None:
    c.confirmed("S")
    c.encounter("S", "P", "2021-08-01 23:52", "2021-08-02 00:06", every_minutes=2)  # 8 + 6 min
    c.encounter("S", "Q", "2021-08-01 23:40", "2021-08-02 00:05")  # 20 + 5 min
    c.encounter("S", "R", "10:00", "10:08", every_minutes=2)
    c.encounter("S", "R", "14:00", "14:08", every_minutes=2)  # 8 + 8 min on D
    c.sighting("S", "T", "12:00")  # a lone sighting lasts zero


def test_bluetooth_minutes_add_up_per_local_day(traced: TracedScenario) -> None:
    cell = traced["local_days"]
    assert cell.tiers() == {"Q": "F1", "R": "F1"}
    assert cell.exposures("Q") == [("ble", cell.at("2021-08-01 23:40"), cell.at("2021-08-02 00:00"))]
    assert cell.exposures("R") == [
        ("ble", cell.at("10:00"), cell.at("10:08")),
        ("ble", cell.at("14:00"), cell.at("14:08")),
    ]
    assert cell.row("R")["exposure_minutes"] == 16.0


# --- tiers ------------------------------------------------------------------


@scenario.cell
def precedence(c: Cell) -> None:
    c.confirmed("A")
    c.confirmed("B")
    c.confirmed("C")
    c.checkin("A", "V", "10:00", "11:00")
    c.checkin("B", "V", "10:00", "11:00")  # an F0 exposed to an F0
    c.checkin("P", "V", "10:30", "11:30")
    c.checkin("A", "W", "13:00", "14:00")
    c.checkin("P", "W", "13:00", "14:00")
    c.checkin("Q", "W", "13:00", "14:00")  # exposed to the F0 A and to the F1 P
    c.checkin("P", "X", "15:00", "16:00")
    c.checkin("R", "X", "15:00", "16:00")  # exposed to the F1 P only
    c.checkin("P", "Y", "17:00", "18:00")
    c.checkin("C", "Y", "17:00", "18:00")  # an F0 exposed to an F1


def test_a_person_keeps_only_the_highest_tier(traced: TracedScenario) -> None:
    cell = traced["precedence"]
    assert cell.tiers() == {"P": "F1", "Q": "F1", "R": "F2"}
    assert cell.row("P")["source_ids"] == sorted(cell.person_id(label) for label in "ABC")
    assert cell.row("Q")["source_ids"] == [cell.person_id("A")]
    assert cell.row("R")["source_ids"] == [cell.person_id("P")]
    assert cell.row("R")["case_ids"] == sorted(cell.person_id(label) for label in "ABC")


@scenario.cell
def case_ids(c: Cell) -> None:
    c.confirmed("S1")
    c.confirmed("S2")
    c.checkin("S1", "V1", "10:00", "11:00")
    c.checkin("A", "V1", "10:00", "11:00")
    c.checkin("S2", "V2", "10:00", "11:00")
    c.checkin("B", "V2", "10:00", "11:00")
    c.checkin("A", "V3", "12:00", "13:00")
    c.checkin("B", "V3", "12:00", "13:00")
    c.checkin("C", "V3", "12:00", "13:00")


def test_case_ids_of_an_f2_are_its_sources_roots(traced: TracedScenario) -> None:
    cell = traced["case_ids"]
    assert cell.tiers() == {"A": "F1", "B": "F1", "C": "F2"}
    assert cell.row("C")["source_ids"] == sorted([cell.person_id("A"), cell.person_id("B")])
    assert cell.row("C")["case_ids"] == sorted([cell.person_id("S1"), cell.person_id("S2")])
    assert cell.row("A")["case_ids"] == [cell.person_id("S1")]


# --- case status ------------------------------------------------------------


@scenario.cell
def latest_report(c: Cell) -> None:
    c.confirmed("X", reported="2021-08-02 10:00")
    c.case("X", "discarded", "2021-08-01 10:00")  # arrives later, reported earlier
    c.case("Y", "discarded", "2021-08-02 12:00")
    c.confirmed("Y", reported="2021-08-02 08:00")  # arrives later, reported earlier
    c.confirmed("Z", reported="2021-08-02 09:00")
    c.case("Z", "discarded", "2021-08-02 09:00")  # same instant: confirmed wins
    c.confirmed("W")
    c.case("W", "discarded", "2021-08-04 01:00")  # reported after D: not read
    c.confirmed("T", reported="2021-08-02 09:00", sample="2021-08-02", partition=1)
    c.confirmed("T", reported="2021-08-02 09:00", sample="2021-08-01", partition=0)  # loses the Kafka tie
    c.case("I", "isolated", "11:00", isolated_at="09:00")
    for source in "XYZWT":
        c.checkin(source, source, "10:00", "11:00")
        c.checkin(f"P{source}", source, "10:00", "11:00")


def test_status_is_the_latest_report_whatever_the_arrival_order(traced: TracedScenario) -> None:
    cell = traced["latest_report"]
    assert cell.tiers() == {"PX": "F1", "PZ": "F1", "PW": "F1", "PT": "F1"}
    statuses = {label: cell.case(label)["status"] for label in "XYZWTI"}
    assert statuses == {
        "X": "confirmed",
        "Y": "discarded",
        "Z": "confirmed",
        "W": "confirmed",
        "T": "confirmed",
        "I": "isolated",
    }
    assert cell.case("T")["window_start"] == cell.at("2021-07-31 00:00")
    isolated_only = cell.case("I")
    assert isolated_only["window_start"] is None
    assert isolated_only["isolated_at"] == cell.at("09:00")


# --- identities and resends ---------------------------------------------------


@scenario.cell
def two_spellings(c: Cell) -> None:
    source, exposed = c.person("S")[1:], c.person("P")[1:]  # without the trunk 0
    b = c.builder
    b.confirmed(f"0{source[:3]} {source[3:6]} {source[6:]}", "2021-08-02 09:00", "2021-08-02")
    b.checkin(f"+84{source}", c.venue("V"), "2021-08-03 10:00", "2021-08-03 11:00")
    b.checkin(f"0{exposed[:3]}.{exposed[3:6]}.{exposed[6:]}", c.venue("V"), "2021-08-03 10:10", "2021-08-03 11:00")
    for minute in range(0, 25, 5):
        b.sighting(f"84-{exposed[:3]}-{exposed[3:6]}-{exposed[6:]}", f"+84 {source}", f"2021-08-03 12:{minute:02d}")


def test_two_spellings_are_one_person(traced: TracedScenario) -> None:
    cell = traced["two_spellings"]
    assert cell.tiers() == {"P": "F1"}
    row = cell.row("P")
    assert row["person_id"] == "+84" + cell.cell.person("P")[1:]
    assert row["source_ids"] == ["+84" + cell.cell.person("S")[1:]]
    assert row["channels"] == ["ble", "venue"]


@scenario.cell
def resends(c: Cell) -> None:
    c.confirmed("S")
    c.checkin("S", "V", "10:00", "11:00")
    c.checkin("P", "V", "10:00", "11:00", event_id="resend-P", partition=0)
    c.checkin("P", "V", "10:00", "11:00", event_id="resend-P", partition=1)  # the same event again
    c.checkin("Q", "V", "10:00", "11:00", event_id="resend-Q", partition=1)
    c.checkin("Q", "W", "10:00", "11:00", event_id="resend-Q", partition=0)  # smaller partition wins
    c.checkin("R", "W", "10:00", "11:00", event_id="resend-R", partition=2)  # smaller offset wins
    c.checkin("R", "V", "10:00", "11:00", event_id="resend-R", partition=2)


def test_a_resent_event_counts_once(traced: TracedScenario) -> None:
    cell = traced["resends"]
    assert cell.tiers() == {"P": "F1"}
    assert cell.exposures("P") == [("venue", cell.at("10:00"), cell.at("11:00"))]


# --- lookback -----------------------------------------------------------------


@scenario.cell
def lookback_bounds(c: Cell) -> None:
    # D - 14 = 2021-07-20: the range is [2021-07-20 00:00, 2021-08-04 00:00) local.
    c.confirmed("A", reported="2021-07-23 09:00", sample="2021-07-22")  # opens 2021-07-20 00:00
    c.case("A", "isolated", "20:00", isolated_at="2021-08-04 06:00")  # closes after D
    for moment in ("00:00", "00:05", "00:10", "00:15"):
        c.sighting("A", "P", f"2021-07-20 {moment}")  # the first one exactly at the range start
    for moment in ("23:45", "23:50", "23:55"):
        c.sighting("A", "Q", moment)
    c.sighting("A", "Q", "2021-08-04 00:00")  # exactly at the range end: out
    c.checkin("A", "V", "2021-07-19 23:00", "2021-07-20 00:00")  # ends at the range start: in
    c.checkin("R", "V", "2021-07-20 00:00", "2021-07-20 01:00")
    c.checkin("A", "W", "2021-07-19 23:00", "2021-07-19 23:59:59.999999")  # ends before it, lingers into it: in
    c.checkin("T", "W", "2021-07-20 00:00", "2021-07-20 01:00")
    c.confirmed("B", reported="2021-07-23 09:00", sample="2021-07-19")  # opens 2021-07-17 00:00
    c.checkin("B", "Y", "2021-07-19 22:00", "2021-07-19 23:30")  # its linger ends at the range start: in
    c.checkin("Z", "Y", "2021-07-19 23:00", "2021-07-20 01:00")
    c.checkin("B", "X", "2021-07-19 22:00", "2021-07-19 23:29:59.999999")  # its linger ends before it: out
    c.checkin("U", "X", "2021-07-19 23:00", "2021-07-20 01:00")


def test_lookback_range_is_closed_at_the_start_and_open_at_the_end(traced: TracedScenario) -> None:
    cell = traced["lookback_bounds"]
    assert cell.tiers() == {"P": "F1", "R": "F1", "T": "F1", "Z": "F1"}
    assert cell.exposures("P") == [("ble", cell.at("2021-07-20 00:00"), cell.at("2021-07-20 00:15"))]
    assert cell.exposures("R") == [("venue", cell.at("2021-07-20 00:00"), cell.at("2021-07-20 00:30"))]
    assert cell.exposures("T") == [("venue", cell.at("2021-07-20 00:00"), cell.at("2021-07-20 00:29:59.999999"))]
    assert cell.exposures("Z") == [("venue", cell.at("2021-07-19 23:00"), cell.at("2021-07-20 00:00"))]


# --- the exported row -----------------------------------------------------------


@scenario.cell
def union_minutes(c: Cell) -> None:
    c.confirmed("S1")
    c.confirmed("S2")
    c.checkin("S1", "V1", "09:30", "10:00")  # linger to 10:30
    c.checkin("P", "V1", "10:00", "11:00")  # venue: 10:00-10:30
    c.encounter("S1", "P", "10:15", "10:45")  # ble: 10:15-10:45
    c.checkin("S2", "V2", "13:00", "13:20")
    c.checkin("P", "V2", "12:00", "13:20")  # venue: 13:00-13:20


def test_exported_row_sums_the_union_of_exposures(traced: TracedScenario) -> None:
    cell = traced["union_minutes"]
    row = cell.row("P")
    sources = sorted([cell.person_id("S1"), cell.person_id("S2")])
    assert row.pop("imputed_checkout") is False  # no exposure of P rests on a default stay
    assert 100 < row.pop("risk_score") < 200  # an F1 of two tiers
    assert row == {
        "person_id": cell.person_id("P"),
        "tier": "F1",
        "first_exposure_at": cell.at("10:00"),
        "last_exposure_at": cell.at("13:20"),
        "exposure_minutes": 65.0,
        "channels": ["ble", "venue"],
        "source_ids": sources,
        "case_ids": sources,
        "venue_ids": [cell.cell.venue("V1"), cell.cell.venue("V2")],
        "rules_version": "vn-moh-2021",
    }
    assert sorted(minutes for *_, minutes in _contact_minutes(traced, "P")) == [20.0, 30.0, 30.0]


@scenario.cell
def simultaneous(c: Cell) -> None:
    c.confirmed("S1")
    c.confirmed("S2")
    c.checkin("S1", "V", "10:00", "11:00")
    c.checkin("S2", "V", "10:00", "11:00")
    c.checkin("P", "V", "10:00", "10:30")  # two identical exposures, to S1 and to S2
    c.checkin("S1", "W", "12:00", "12:20")
    c.checkin("P", "W", "12:00", "12:20")
    for moment in ("09:00", "09:05", "09:10", "09:17", "09:22"):  # both phones log each other at once
        c.sighting("S1", "Q", moment)
        c.sighting("Q", "S1", moment)


def test_ties_in_time_never_depend_on_sort_order(traced: TracedScenario) -> None:
    cell = traced["simultaneous"]
    assert cell.row("P")["exposure_minutes"] == 50.0
    assert cell.exposures("Q") == [
        ("ble", cell.at("09:00"), cell.at("09:10")),
        ("ble", cell.at("09:17"), cell.at("09:22")),
    ]


def _contact_minutes(traced: TracedScenario, label: str) -> list[tuple[str, float]]:
    pseudonym = traced.traced.builder.pseudonym(traced["union_minutes"].cell.person(label))
    return [
        (row["channel"], row["exposure_minutes"])
        for row in traced.traced.contacts.to_pylist()
        if row["target_pseudonym"] == pseudonym
    ]


def test_outputs_are_sorted_and_pseudonymized(traced: TracedScenario) -> None:
    export = traced.traced.export.to_pylist()
    assert export == sorted(export, key=lambda row: (row["tier"], row["person_id"]))
    curated = traced.traced.curated.to_pylist()
    assert curated == sorted(curated, key=lambda row: (row["tier"], row["person_pseudonym"]))
    phones = {row["person_id"] for row in export}
    for table in (traced.traced.curated, traced.traced.contacts, traced.traced.cases):
        assert not phones & {str(value) for column in table.columns for value in column.to_pylist()}
