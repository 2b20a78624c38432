"""When two people are near each other on one day, and so within Bluetooth range if both run the app.

Three places bring people together: home in the evening, the team on shift,
and venues where two visitors' stays overlap. Each gives a span of time and a
typical distance. Spans exist whether or not anyone runs Bluezone (infections
travel along them, transmission.py); bluetooth.py turns the spans of two app
users into the sightings their phones log.
"""

from dataclasses import dataclass

import numpy as np

from simulator.population import Population
from simulator.routines import Stays
from simulator.venues import KIND_INDEX, Venues
from simulator.workforce import Attendance, Workforce

HOME_TOGETHER = 0.85
HOME_EVENING = (18 * 60, 20 * 60 + 30)
HOME_MINUTES = (30.0, 0.6)
"""median and log-sigma of how long two household members' phones stay in range"""
HOME_METRES = (1.5, 0.6)
"""median and log-sigma of the distance between two people's phones at home"""
TEAM_METRES = (1.5, 0.5)
VENUE_METRES = (2.5, 0.6)
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

    def of(self, keep: np.ndarray) -> "Spans":
        return Spans(*(getattr(self, f)[keep] for f in Spans.__dataclass_fields__))

    def between(self, users: np.ndarray) -> "Spans":
        """The spans both of whose people are in `users` (a mask per person), e.g. Bluezone users."""
        return self.of(users[self.a] & users[self.b])


def day_spans(population: Population, venues: Venues, workforce: Workforce, at_work: Attendance,
              stays: Stays, day_start: int, rng: np.random.Generator) -> Spans:
    parts = [_home(population, day_start, rng), _team(workforce, at_work, rng), _venue(venues, stays, rng)]
    merged = Spans(*(np.concatenate([getattr(p, f) for p in parts]) for f in Spans.__dataclass_fields__))
    return merged.of((merged.a != merged.b) & (merged.end > merged.start))


def _pairs(group: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (i, j), i < j, of every two members of one group in a group-sorted array."""
    firsts, seconds = [], []
    for lag in range(1, max_lag + 1):
        same = np.flatnonzero(group[lag:] == group[:-lag])
        firsts.append(same)
        seconds.append(same + lag)
    return np.concatenate(firsts), np.concatenate(seconds)


def _metres(median_sigma: tuple[float, float], n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.lognormal(np.log(median_sigma[0]), median_sigma[1], n)


def _home(population: Population, day_start: int, rng: np.random.Generator) -> Spans:
    i, j = _pairs(population.household, 5)
    keep = rng.random(i.size) < HOME_TOGETHER
    a, b = i[keep], j[keep]
    evening = rng.integers(HOME_EVENING[0], HOME_EVENING[1], population.households) * 60
    start = day_start + evening[population.household[a]] + rng.integers(0, 20 * 60, a.size)
    length = np.clip(rng.lognormal(np.log(HOME_MINUTES[0]), HOME_MINUTES[1], a.size), 5, 180) * 60
    return Spans(a, b, start, start + length.astype(np.int64), _metres(HOME_METRES, a.size, rng))


def _team(workforce: Workforce, at_work: Attendance, rng: np.random.Generator) -> Spans:
    person, arrive, leave = at_work.person, at_work.arrive, at_work.leave
    order = np.argsort(workforce.team[person], kind="stable")
    person, arrive, leave = person[order], arrive[order], leave[order]
    i, j = _pairs(workforce.team[person], 8)
    keep = rng.random(i.size) < TEAM_NEAR
    i, j = i[keep], j[keep]
    low, high = np.maximum(arrive[i], arrive[j]), np.minimum(leave[i], leave[j])
    length = np.clip(rng.lognormal(np.log(TEAM_MINUTES[0]), TEAM_MINUTES[1], i.size) * 60, 300, None)
    length = np.minimum(length.astype(np.int64), np.maximum(high - low, 0))
    start = low + (rng.random(i.size) * np.maximum(high - low - length, 0)).astype(np.int64)
    return Spans(person[i], person[j], start, start + length, _metres(TEAM_METRES, i.size, rng))


def _venue(venues: Venues, stays: Stays, rng: np.random.Generator) -> Spans:
    person, venue, arrive, leave = stays.person, stays.venue, stays.arrive, stays.leave
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
    return Spans(person[i], person[j], start, start + length, _metres(VENUE_METRES, i.size, rng))
