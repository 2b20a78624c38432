"""The simulator's transmission model: infections follow exposures, more with time and closeness, fewer in crowds."""

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pytest

from simulator import simulate
from simulator.encounters import Spans
from simulator.routines import Stays
from simulator.transmission import NEAR, ROOM, Epidemic, TransmissionModel, infection_chance, spread

MODEL = TransmissionModel()

DAY_START = 1_627_923_600
"""2021-08-03 00:00 +07:00"""
HOUR = 3600


def _spans(a: list[int], b: list[int], minutes: list[float], metres: list[float]) -> Spans:
    start = np.full(len(a), DAY_START + 9 * HOUR, dtype=np.int64)
    end = start + (np.array(minutes) * 60).astype(np.int64)
    return Spans(np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), start, end, np.array(metres))


def _stays(person: list[int], venue: list[int], minutes: list[float]) -> Stays:
    arrive = np.full(len(person), DAY_START + 12 * HOUR, dtype=np.int64)
    n = len(person)
    leave = arrive + (np.array(minutes) * 60).astype(np.int64)
    return Stays(np.array(person, dtype=np.int64), np.array(venue, dtype=np.int64), arrive, leave,
                 np.ones(n, dtype=bool), np.zeros(n, dtype=np.int64))


def _one_source(people: int) -> Epidemic:
    epidemic = Epidemic.empty(people)
    epidemic.seed(np.array([0]), np.array([DAY_START - 86_400]), np.array([DAY_START + 2 * 86_400]))
    return epidemic


def test_the_hazard_grows_with_closeness_and_time_and_shrinks_with_the_crowd() -> None:
    closeness, crowding = MODEL.closeness, MODEL.crowding
    assert closeness(np.array([0.5]))[0] == closeness(np.array([1.0]))[0] == 1.0
    assert closeness(np.array([1.5]))[0] > closeness(np.array([2.5]))[0] > closeness(np.array([4.0]))[0] > 0
    assert crowding(np.array([6]))[0] == 1.0 and crowding(np.array([800]))[0] < 0.02
    steep = TransmissionModel(distance_power=4.0).closeness(np.array([2.0]))[0]
    assert steep == 1 / 16 < closeness(np.array([2.0]))[0]
    with pytest.raises(ValueError):
        TransmissionModel(near_metres=0)
    chance = infection_chance(np.array([0.0, 0.1, 1.0, 10.0]))
    assert chance[0] == 0 and np.all(np.diff(chance) > 0) and chance[-1] < 1


def test_close_long_contacts_infect_more_than_far_short_ones() -> None:
    targets = 4000
    close, far = list(range(1, targets + 1)), list(range(targets + 1, 2 * targets + 1))
    spans = _spans([0] * 2 * targets, close + far, [120.0] * targets + [20.0] * targets,
                   [0.8] * targets + [3.0] * targets)
    epidemic = _one_source(2 * targets + 1)
    found = spread(epidemic, MODEL, _stays([], [], []), spans, 1, DAY_START, np.random.default_rng(1))
    infected = set(found.person.tolist())
    assert found.route.tolist() == [NEAR] * len(infected)
    near_count, far_count = len(infected & set(close)), len(infected & set(far))
    assert near_count > 5 * max(far_count, 1) and near_count > 100
    assert np.all(epidemic.infected_at[found.person] >= DAY_START + 9 * HOUR)
    assert np.all(epidemic.infectious_from[found.person] > epidemic.infected_at[found.person])


def test_a_small_room_infects_more_than_a_crowded_hall_and_nobody_is_infected_twice() -> None:
    small_rooms, hall = 400, 800
    person, venue = [], []
    for room in range(small_rooms):
        person += [0, 1 + 5 * room, 2 + 5 * room, 3 + 5 * room, 4 + 5 * room]
        venue += [room] * 5
    workers = list(range(1 + 5 * small_rooms, 1 + 5 * small_rooms + hall))
    person += [0, *workers]
    venue += [small_rooms] * (hall + 1)
    epidemic = _one_source(1 + 5 * small_rooms + hall)
    stays = _stays(person, venue, [600.0] * len(person))
    found = spread(epidemic, MODEL, stays, _spans([], [], [], []), small_rooms + 1, DAY_START, np.random.default_rng(2))
    infected = found.person.tolist()
    assert len(infected) == len(set(infected)) and 0 not in infected
    assert set(found.route.tolist()) == {ROOM}
    in_rooms = sum(p < 1 + 5 * small_rooms for p in infected) / (4 * small_rooms)
    in_hall = sum(p >= 1 + 5 * small_rooms for p in infected) / hall
    assert in_rooms > 10 * in_hall
    again = spread(epidemic, MODEL, stays, _spans([], [], [], []), small_rooms + 1, DAY_START,
                   np.random.default_rng(3))
    assert not set(again.person.tolist()) & set(infected)


def test_a_simulated_fortnight_confirms_people_it_infected(tmp_path: Path) -> None:
    summary = simulate(3000, date(2021, 8, 14), days=10, seed=5, out=tmp_path, index_share=0.01)
    assert summary.infected_near > 0 and summary.infected_room >= 0
    assert 0 < summary.f0_infected <= summary.infected_near + summary.infected_room
    confirmed: dict[str, str] = {}
    end = datetime(2021, 8, 15, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).timestamp()
    for line in (tmp_path / "case_reports.jsonl").read_bytes().splitlines():
        report = orjson.loads(line)
        if isinstance(report, dict) and report.get("kind") == "confirmed" and "sim_defect" not in report:
            stamp = report["reported_at"]
            moment = stamp / 1000 if isinstance(stamp, int) else datetime.fromisoformat(stamp).timestamp()
            assert moment < end
            confirmed[report["event_id"]] = report["sample_date"]
    assert len(confirmed) == summary.f0_seeded + summary.f0_infected
