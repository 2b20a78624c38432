"""The risk score's order on hand-made cells, traced for real (DuckDB; both engines hand `risk` the same rows).

D is 2021-08-03; every F0 was confirmed the day before, so windows cover D.
"""

import math
from collections.abc import Iterator

import pyarrow as pa
import pytest

from jobs.trace.parameters import TraceParams
from jobs.trace.risk import risk_scores
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.scenario import Cell, Scenario, TracedScenario
from tests.jobs.tracing import DAY, run_trace
from tracelake.core.rules import load_rules

scenario = Scenario()
MARKET_CROWD = 800


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TracedScenario]:
    root = tmp_path_factory.mktemp("risk")
    builder = LakeBuilder(root / "lake", root / "vault")
    cells = scenario.build(builder)
    yield TracedScenario(run_trace(builder, "duckdb", write=False), cells)


def _score(traced: TracedScenario, cell: str, label: str) -> float:
    score = traced[cell].row(label)["risk_score"]
    assert isinstance(score, float)
    return score


@scenario.cell
def workshop_and_sighting(c: Cell) -> None:
    c.confirmed("S1")
    for worker in range(30):
        c.checkin(f"W{worker}", "workshop", "07:00", "17:00")
    c.checkin("S1", "workshop", "07:00", "17:00")
    c.checkin("P", "workshop", "07:00", "17:00")  # ten hours beside S1, among 30 workers
    c.confirmed("S2")
    c.encounter("S2", "Q", "16:43", "17:00", every_minutes=1, rssi=-40)  # 17 close minutes, ending at 17:00 too


def test_ten_hours_in_a_workshop_rank_above_a_17_minute_sighting(traced: TracedScenario) -> None:
    cell = traced["workshop_and_sighting"]
    assert cell.exposures("P")[0][2] == cell.exposures("Q")[0][2] == cell.at("17:00")
    assert _score(traced, "workshop_and_sighting", "P") > _score(traced, "workshop_and_sighting", "Q")


@scenario.cell
def market_and_lunch(c: Cell) -> None:
    c.confirmed("S3")
    c.checkin("S3", "market", "09:00", "10:00")
    c.checkin("R", "market", "09:00", "10:00")
    for shopper in range(MARKET_CROWD - 2):
        c.checkin(f"M{shopper}", "market", "09:00", "10:00")
    c.confirmed("S4")
    c.checkin("S4", "lunch", "09:00", "10:00")
    c.checkin("T", "lunch", "09:00", "10:00")
    for guest in range(4):
        c.checkin(f"G{guest}", "lunch", "09:00", "10:00")


def test_a_crowded_market_ranks_below_a_small_room(traced: TracedScenario) -> None:
    cell = traced["market_and_lunch"]
    assert cell.exposures("R") == cell.exposures("T") == [("venue", cell.at("09:00"), cell.at("10:00"))]
    visitors = {
        row["venue_id"]: row["venue_visitors"]
        for row in traced.traced.contacts.to_pylist()
        if row["venue_id"] in (cell.cell.venue("market"), cell.cell.venue("lunch"))
    }
    assert visitors == {cell.cell.venue("market"): MARKET_CROWD, cell.cell.venue("lunch"): 6}
    assert _score(traced, "market_and_lunch", "R") < _score(traced, "market_and_lunch", "T")


@scenario.cell
def imputed_and_scanned(c: Cell) -> None:
    c.confirmed("S5")
    c.checkin("S5", "room", "14:00", "15:00")
    c.checkin("U", "room", "14:00", "15:00")  # scanned out
    c.checkin("V", "room", "14:00")  # the default stay ends at 15:00 too


def test_an_imputed_checkout_ranks_below_a_scanned_one(traced: TracedScenario) -> None:
    cell = traced["imputed_and_scanned"]
    assert cell.exposures("U") == cell.exposures("V")
    assert (cell.row("U")["imputed_checkout"], cell.row("V")["imputed_checkout"]) == (False, True)
    assert _score(traced, "imputed_and_scanned", "V") < _score(traced, "imputed_and_scanned", "U")


@scenario.cell
def long_f2(c: Cell) -> None:
    c.confirmed("S6")
    c.checkin("S6", "hall", "08:00", "08:15")  # with the linger: 45 minutes
    c.checkin("F", "hall", "08:00", "08:45")
    c.checkin("F", "home", "12:00", "23:59")  # twelve hours with an F1
    c.checkin("Y", "home", "12:00", "23:59")


def test_every_f1_ranks_above_every_f2(traced: TracedScenario) -> None:
    assert traced["long_f2"].tiers() == {"F": "F1", "Y": "F2"}
    rows = traced.traced.export.to_pylist()
    f1 = [row["risk_score"] for row in rows if row["tier"] == "F1"]
    f2 = [row["risk_score"] for row in rows if row["tier"] == "F2"]
    assert f2 and min(f1) > max(f2)
    assert all(100 <= score < 200 for score in f1) and all(0 <= score < 100 for score in f2)
    assert _score(traced, "long_f2", "Y") > _score(traced, "market_and_lunch", "R") - 100  # a big F2 dose


def test_recency_more_sources_and_closeness_raise_the_score() -> None:
    """The formula itself, on engine rows made by hand: one change at a time from a base exposure."""
    rules = load_rules()
    params = TraceParams.from_rules(rules, DAY)
    end = params.end_of_day_us
    hour = 3_600_000_000

    def edge(target: str, source: str, **changes: object) -> dict[str, object]:
        base: dict[str, object] = {
            "source": source, "source_depth": 0, "target": target, "target_depth": 1, "channel": "ble",
            "venue_id": None, "start_us": end - 2 * hour, "end_us": end - 2 * hour + 20 * 60_000_000,
            "os_pair": "android-android", "rssi_mean": -76.0, "rssi_max": -70, "imputed_checkout": False,
            "venue_visitors": None,
        }
        return {**base, **changes}

    old_start = end - 5 * 24 * hour
    contacts = pa.Table.from_pylist(
        [
            edge("base", "s1"),
            edge("older", "s1", start_us=old_start, end_us=old_start + 20 * 60_000_000),
            edge("two_sources", "s1"), edge("two_sources", "s2"),
            edge("closer", "s1", rssi_mean=-66.0),
        ]
    )
    people = ["base", "older", "two_sources", "closer"]
    exposed = pa.table({"person": people, "depth": [1] * 4, "cases": [["s1"], ["s1"], ["s1", "s2"], ["s1"]]})
    score = dict(zip(people, risk_scores(contacts, exposed, rules.risk, params).to_pylist(), strict=True))
    assert score["older"] < score["base"] < score["closer"]
    assert score["base"] < score["two_sources"]
    ended_days_ago = 100 / 60 / 24  # an hour and 40 minutes before the end of D
    base_dose = 20 * 2 ** (10 / 10) * 0.5 ** (ended_days_ago / 7)  # 10 dB above the android-android -86
    assert score["base"] == pytest.approx(100 + 100 * (1 - math.exp(-base_dose / 60)), abs=1e-9)
