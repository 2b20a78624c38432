"""When two Bluezone users are within Bluetooth range of each other on one day.

Three places bring phones together: home in the evening, the team on shift,
and venues where two visitors' stays overlap. Each gives a span of time and a
typical distance; bluetooth.py turns spans into the sightings phones log.
"""

from dataclasses import dataclass

import numpy as np

from streams.simulator.population import Population
from streams.simulator.routines import Stays
from streams.simulator.venues import KIND_INDEX, Venues
from streams.simulator.workforce import Attendance, Workforce

HOME_TOGETHER = 0.85
HOME_EVENING = (18 * 60, 20 * 60 + 30)
HOME_MINUTES = (30.0, 0.6)
"""median and log-sigma of how long two household members' phones stay in range"""
TEAM_NEAR = 0.45
TEAM_MINUTES = (30.0, 0.6)
VENUE_LAGS = 3
"""a visitor can be near the next few visitors who arrived at the same venue"""
VENUE_MINUTES = (20.0, 0.6)
VENUE_NEAR = {"factory": 0.02, "office": 0.1, "school": 0.1, "clinic": 0.3, "market": 0.3,
              "supermarket": 0.2, "cafe": 0.5, "restaurant": 0.5, "pharmacy": 0.3}


@dataclass(frozen=True)
class Spans:
    a: np.ndarray
    b: np.ndarray
    start: np.ndarray
    end: np.ndarray
    distance: np.ndarray
    """typical distance between the two phones, metres"""


def day_spans(population: Population, venues: Venues, workforce: Workforce, at_work: Attendance,
              stays: Stays, day_start: int, rng: np.random.Generator) -> Spans:
    parts = [_home(population, day_start, rng), _team(population, workforce, at_work, rng),
             _venue(population, venues, stays, rng)]
    merged = Spans(*(np.concatenate([getattr(p, f) for p in parts]) for f in Spans.__dataclass_fields__))
    keep = (merged.a != merged.b) & (merged.end > merged.start)
    return Spans(*(getattr(merged, f)[keep] for f in Spans.__dataclass_fields__))


def _pairs(group: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (i, j), i < j, of every two members of one group in a group-sorted array."""
    firsts, seconds = [], []
    for lag in range(1, max_lag + 1):
        same = np.flatnonzero(group[lag:] == group[:-lag])
        firsts.append(same)
        seconds.append(same + lag)
    return np.concatenate(firsts), np.concatenate(seconds)


def _home(population: Population, day_start: int, rng: np.random.Generator) -> Spans:
    user = np.flatnonzero(population.app)
    i, j = _pairs(population.household[user], 5)
    keep = rng.random(i.size) < HOME_TOGETHER
    a, b = user[i[keep]], user[j[keep]]
    evening = rng.integers(HOME_EVENING[0], HOME_EVENING[1], population.households) * 60
    start = day_start + evening[population.household[a]] + rng.integers(0, 20 * 60, a.size)
    length = np.clip(rng.lognormal(np.log(HOME_MINUTES[0]), HOME_MINUTES[1], a.size), 5, 180) * 60
    return Spans(a, b, start, start + length.astype(np.int64), rng.lognormal(np.log(2.5), 0.5, a.size))


def _team(population: Population, workforce: Workforce, at_work: Attendance,
          rng: np.random.Generator) -> Spans:
    on_app = population.app[at_work.person]
    person, arrive, leave = at_work.person[on_app], at_work.arrive[on_app], at_work.leave[on_app]
    order = np.argsort(workforce.team[person], kind="stable")
    person, arrive, leave = person[order], arrive[order], leave[order]
    i, j = _pairs(workforce.team[person], 8)
    keep = rng.random(i.size) < TEAM_NEAR
    i, j = i[keep], j[keep]
    low, high = np.maximum(arrive[i], arrive[j]), np.minimum(leave[i], leave[j])
    length = np.clip(rng.lognormal(np.log(TEAM_MINUTES[0]), TEAM_MINUTES[1], i.size) * 60, 300, None)
    length = np.minimum(length.astype(np.int64), np.maximum(high - low, 0))
    start = low + (rng.random(i.size) * np.maximum(high - low - length, 0)).astype(np.int64)
    return Spans(person[i], person[j], start, start + length, rng.lognormal(np.log(2.0), 0.4, i.size))


def _venue(population: Population, venues: Venues, stays: Stays, rng: np.random.Generator) -> Spans:
    on_app = population.app[stays.person]
    person, venue = stays.person[on_app], stays.venue[on_app]
    arrive, leave = stays.arrive[on_app], stays.leave[on_app]
    order = np.lexsort((arrive, venue))
    person, venue, arrive, leave = person[order], venue[order], arrive[order], leave[order]
    i, j = _pairs(venue, VENUE_LAGS)
    low, high = arrive[j], np.minimum(leave[i], leave[j])
    near = np.zeros(len(VENUE_NEAR))
    for kind, chance in VENUE_NEAR.items():
        near[KIND_INDEX[kind]] = chance
    keep = (high > low) & (rng.random(i.size) < near[venues.kind[venue[i]]])
    i, j, low, high = i[keep], j[keep], low[keep], high[keep]
    length = np.minimum(rng.lognormal(np.log(VENUE_MINUTES[0] * 60), VENUE_MINUTES[1], i.size).astype(np.int64),
                        high - low)
    start = low + (rng.random(i.size) * (high - low - length)).astype(np.int64)
    return Spans(person[i], person[j], start, start + length, rng.lognormal(np.log(3.0), 0.5, i.size))
