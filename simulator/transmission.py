"""Who infects whom: a per-minute hazard along the exposures the simulator itself generates.

Infections travel only where the simulation put two people together, so the
pipeline's rules can be scored against what really happened (docs/simulation.md):

- near: two phones' span (household evening, team on shift, neighbours at a
  venue), with a hazard per minute that falls with the square of the distance
  beyond arm's length; the same distance sets the span's RSSI in bluetooth.py,
  so a stronger signal means a riskier contact;
- room: two stays at one venue overlapping in time, with a hazard per minute
  shared among the venue's visitors of the day (six at a family lunch breathe
  more of each other's air than eight hundred in a factory).

A contact of hazard sum λ infects with probability 1 - exp(-λ). Each infected
person falls ill after an incubation period, is infectious from two days
before onset until isolation (or a week after onset when never tested), and
most are confirmed a few days after onset; casebook.py writes their reports.
State is a few arrays per person, so memory does not grow with the days.
"""

from dataclasses import dataclass

import numpy as np

from simulator.encounters import Spans
from simulator.routines import Stays

DAY = 86_400
NEVER = np.iinfo(np.int64).max // 4

INCUBATION_DAYS = (5.0, 0.35)
"""median and log-sigma of the incubation period, clipped to INCUBATION_BOUNDS"""
INCUBATION_BOUNDS = (3.0, 12.0)
PRESYMPTOMATIC_DAYS = 2
UNDETECTED_INFECTIOUS_DAYS = 7
DETECTED_SHARE = 0.85

SEEDED, NEAR, ROOM = 0, 1, 2
ROUTES = ("seeded", "near", "room")


@dataclass(frozen=True)
class TransmissionModel:
    """How infectious a contact is; the defaults are the simulated province's (docs/simulation.md)."""

    near_per_minute: float = 0.005
    """hazard per minute of a near span within `near_metres`"""
    near_metres: float = 1.0
    """arm's length: closer is no riskier"""
    distance_power: float = 2.0
    """beyond arm's length the hazard falls with the distance to this power"""
    room_per_minute: float = 0.00003
    """hazard per minute of sharing a venue with at most `room_people` visitors of the day"""
    room_people: int = 8

    def __post_init__(self) -> None:
        if min(self.near_per_minute, self.room_per_minute, self.distance_power) < 0 or min(
                self.near_metres, self.room_people) <= 0:
            raise ValueError(f"a transmission model needs hazards and a power >= 0, distances and rooms > 0: {self}")

    def closeness(self, metres: np.ndarray) -> np.ndarray:
        """1 within arm's length, then falling with a power of the distance."""
        return np.minimum(1.0, (self.near_metres / np.maximum(metres, 1e-3)) ** self.distance_power)

    def crowding(self, visitors: np.ndarray) -> np.ndarray:
        """The share of an infectious visitor's output one other visitor breathes."""
        return np.minimum(1.0, self.room_people / np.maximum(visitors, 1))


@dataclass
class Epidemic:
    """Per person: when infected (-1 never) and when infectious, epoch seconds."""

    infected_at: np.ndarray
    infectious_from: np.ndarray
    infectious_until: np.ndarray
    route: np.ndarray
    """index into ROUTES, -1 for people never infected"""

    @classmethod
    def empty(cls, people: int) -> "Epidemic":
        return cls(
            infected_at=np.full(people, -1, dtype=np.int64),
            infectious_from=np.full(people, NEVER, dtype=np.int64),
            infectious_until=np.full(people, -NEVER, dtype=np.int64),
            route=np.full(people, -1, dtype=np.int8),
        )

    def seed(self, person: np.ndarray, infectious_from: np.ndarray, infectious_until: np.ndarray) -> None:
        """Index cases: infected before the simulated days began."""
        self.infected_at[person] = infectious_from - 3 * DAY
        self.infectious_from[person] = infectious_from
        self.infectious_until[person] = infectious_until
        self.route[person] = SEEDED

    def isolate(self, person: np.ndarray, at: np.ndarray) -> None:
        """Nobody infects anyone after isolation."""
        self.infectious_until[person] = np.minimum(self.infectious_until[person], at)

    def infections(self, route: int) -> int:
        return int((self.route == route).sum())


@dataclass(frozen=True)
class Infections:
    """People infected on one day: who, when, and by which route."""

    person: np.ndarray
    at: np.ndarray
    route: np.ndarray


def infection_chance(hazard: np.ndarray) -> np.ndarray:
    return -np.expm1(-hazard)


def spread(epidemic: Epidemic, model: TransmissionModel, stays: Stays, spans: Spans, venue_count: int,
           day_start: int, rng: np.random.Generator) -> Infections:
    """Draw the day's infections along its spans and stays; record them in `epidemic`."""
    day_end = day_start + DAY
    infectious = (epidemic.infectious_from < day_end) & (epidemic.infectious_until > day_start)
    parts = [_near(epidemic, model, infectious, spans), _room(epidemic, model, infectious, stays, venue_count)]
    target, start, hazard, route = (np.concatenate(column) for column in zip(*parts, strict=True))
    caught = rng.random(target.size) < infection_chance(hazard)
    target, start, route = target[caught], start[caught], route[caught]
    order = np.lexsort((start, target))
    target, start, route = target[order], start[order], route[order]
    first = np.r_[True, target[1:] != target[:-1]] if target.size else np.zeros(0, dtype=bool)
    found = Infections(target[first], start[first], route[first])
    _fall_ill(epidemic, found, rng)
    return found


def _oriented_overlap(epidemic: Epidemic, source: np.ndarray, start: np.ndarray,
                      end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    low = np.maximum(start, epidemic.infectious_from[source])
    high = np.minimum(end, epidemic.infectious_until[source])
    return low, np.maximum(high - low, 0)


def _near(epidemic: Epidemic, model: TransmissionModel, infectious: np.ndarray,
          spans: Spans) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    susceptible = epidemic.infected_at < 0
    forward = infectious[spans.a] & susceptible[spans.b]
    backward = infectious[spans.b] & susceptible[spans.a]
    source = np.concatenate([spans.a[forward], spans.b[backward]])
    target = np.concatenate([spans.b[forward], spans.a[backward]])
    pick = np.concatenate([np.flatnonzero(forward), np.flatnonzero(backward)])
    low, seconds = _oriented_overlap(epidemic, source, spans.start[pick], spans.end[pick])
    hazard = model.near_per_minute * seconds / 60 * model.closeness(spans.distance[pick])
    return target, low, hazard, np.full(target.size, NEAR, dtype=np.int8)


def _room(epidemic: Epidemic, model: TransmissionModel, infectious: np.ndarray, stays: Stays,
          venue_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    visitors = np.bincount(stays.venue, minlength=venue_count)
    order = np.argsort(stays.venue, kind="stable")
    venue = stays.venue[order]
    sources = order[infectious[stays.person[order]]]
    lo = np.searchsorted(venue, stays.venue[sources], side="left")
    hi = np.searchsorted(venue, stays.venue[sources], side="right")
    width = hi - lo
    source_stay = np.repeat(sources, width)
    other = order[np.repeat(lo, width) + np.arange(width.sum()) - np.repeat(np.cumsum(width) - width, width)]
    source, target = stays.person[source_stay], stays.person[other]
    keep = (target != source) & (epidemic.infected_at[target] < 0)
    source_stay, other, source, target = source_stay[keep], other[keep], source[keep], target[keep]
    start = np.maximum(stays.arrive[source_stay], stays.arrive[other])
    end = np.minimum(stays.leave[source_stay], stays.leave[other])
    low, seconds = _oriented_overlap(epidemic, source, start, end)
    hazard = model.room_per_minute * seconds / 60 * model.crowding(visitors[stays.venue[other]])
    return target, low, hazard, np.full(target.size, ROOM, dtype=np.int8)


def _fall_ill(epidemic: Epidemic, found: Infections, rng: np.random.Generator) -> None:
    days = np.clip(rng.lognormal(np.log(INCUBATION_DAYS[0]), INCUBATION_DAYS[1], found.person.size),
                   *INCUBATION_BOUNDS)
    onset = found.at + (days * DAY).astype(np.int64)
    epidemic.infected_at[found.person] = found.at
    epidemic.route[found.person] = found.route
    epidemic.infectious_from[found.person] = onset - PRESYMPTOMATIC_DAYS * DAY
    epidemic.infectious_until[found.person] = onset + UNDETECTED_INFECTIOUS_DAYS * DAY


def onsets(epidemic: Epidemic, person: np.ndarray) -> np.ndarray:
    """Symptom onset (epoch seconds) of infected people."""
    return epidemic.infectious_from[person] + PRESYMPTOMATIC_DAYS * DAY
