"""Who works where, in which team and on which shift; and who turns up on a given day.

A team shares a shift and a floor, which is what makes co-workers the densest
Bluetooth contacts in the simulation (and in the 2021 industrial-park clusters).
"""

from dataclasses import dataclass

import numpy as np

from simulator.population import Population
from simulator.venues import KINDS, VenuePicker, Venues

WORKER_SHARE = 0.55
COMMUTE_OWN_DISTRICT = 0.7
TEAM_SIZES = (3, 9)
"""team sizes are drawn per workplace from this half-open range"""

# (start, end) in minutes after local midnight, with weights, per workplace kind.
SHIFTS: dict[str, tuple[tuple[int, int, float], ...]] = {
    "factory": ((360, 840, 0.3), (840, 1320, 0.2), (450, 1020, 0.5)),
    "office": ((450, 1020, 1.0),),
    "school": ((420, 990, 1.0),),
    "clinic": ((420, 1020, 0.7), (780, 1260, 0.3)),
    "market": ((270, 690, 0.6), (300, 1020, 0.4)),
    "supermarket": ((450, 930, 0.5), (870, 1320, 0.5)),
    "cafe": ((360, 840, 0.6), (840, 1350, 0.4)),
    "restaurant": ((540, 840, 0.4), (900, 1320, 0.6)),
    "pharmacy": ((420, 840, 0.5), (840, 1260, 0.5)),
}
SHIFT_TABLE = np.array([(s, e) for kind in KINDS for s, e, _ in SHIFTS[kind.name]], dtype=np.int64)
# Chance that a worker works on a weekday, a Saturday, a Sunday.
WORKDAY: dict[str, tuple[float, float, float]] = {
    "factory": (0.95, 0.85, 0.40), "office": (0.93, 0.15, 0.03), "school": (0.93, 0.10, 0.02),
    "clinic": (0.92, 0.70, 0.50), "market": (0.90, 0.90, 0.85), "supermarket": (0.85, 0.85, 0.85),
    "cafe": (0.85, 0.85, 0.85), "restaurant": (0.85, 0.85, 0.80), "pharmacy": (0.88, 0.85, 0.70),
}


@dataclass(frozen=True)
class Workforce:
    workplace: np.ndarray
    """venue index per person, -1 for people without a workplace"""
    team: np.ndarray
    """team number per person (-1 without), members of one team share a shift"""
    shift: np.ndarray
    """row of SHIFT_TABLE per person, -1 without"""


@dataclass(frozen=True)
class Attendance:
    """Who is at work on one day, and from when to when (epoch seconds)."""

    person: np.ndarray
    arrive: np.ndarray
    leave: np.ndarray


def build_workforce(population: Population, venues: Venues, rng: np.random.Generator) -> Workforce:
    people = population.size
    worker = np.flatnonzero(rng.random(people) < WORKER_SHARE)
    kind = rng.choice(len(KINDS), size=worker.size, p=[k.workforce_share for k in KINDS])
    workplace = np.full(people, -1, dtype=np.int64)
    for k, spec in enumerate(KINDS):
        chosen = worker[kind == k]
        picker = VenuePicker(venues, spec.name)
        workplace[chosen] = picker.pick(population.district[chosen], rng, COMMUTE_OWN_DISTRICT)
    team = _teams(workplace, venues.size, rng)
    return Workforce(workplace=workplace, team=team, shift=_team_shifts(team, workplace, venues, rng))


def _teams(workplace: np.ndarray, venue_count: int, rng: np.random.Generator) -> np.ndarray:
    worker = np.flatnonzero(workplace >= 0)
    order = worker[np.lexsort((rng.random(worker.size), workplace[worker]))]
    place = workplace[order]
    starts = np.r_[0, np.flatnonzero(place[1:] != place[:-1]) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, place.size]))
    size = rng.integers(*TEAM_SIZES, size=venue_count)
    local = (np.arange(place.size) - group_start) // size[place]
    _, number = np.unique(place * 1_000_000 + local, return_inverse=True)
    team = np.full(workplace.size, -1, dtype=np.int64)
    team[order] = number
    return team


def _team_shifts(team: np.ndarray, workplace: np.ndarray, venues: Venues,
                 rng: np.random.Generator) -> np.ndarray:
    teams = int(team.max()) + 1 if team.size else 0
    team_kind = np.zeros(teams, dtype=np.int64)
    team_kind[team[team >= 0]] = venues.kind[workplace[team >= 0]]
    team_shift = np.zeros(teams, dtype=np.int64)
    first_row = 0
    for k, spec in enumerate(KINDS):
        options = SHIFTS[spec.name]
        weights = np.array([w for _, _, w in options])
        mine = team_kind == k
        team_shift[mine] = first_row + rng.choice(len(options), size=int(mine.sum()), p=weights / weights.sum())
        first_row += len(options)
    return np.where(team >= 0, team_shift[np.maximum(team, 0)], -1)


def attendance(workforce: Workforce, venues: Venues, day_start: int, weekday: int,
               rng: np.random.Generator) -> Attendance:
    """Workers at work on the day starting at `day_start`; weekday 0 is Monday."""
    column = 0 if weekday < 5 else weekday - 4
    chance = np.array([WORKDAY[k.name][column] for k in KINDS])
    worker = np.flatnonzero(workforce.workplace >= 0)
    kind = venues.kind[workforce.workplace[worker]]
    present = worker[rng.random(worker.size) < chance[kind]]
    shift = SHIFT_TABLE[workforce.shift[present]]
    arrive = day_start + shift[:, 0] * 60 - np.abs(rng.normal(8.0, 6.0, present.size) * 60).astype(np.int64)
    leave = day_start + shift[:, 1] * 60 + (rng.normal(5.0, 10.0, present.size) * 60).astype(np.int64)
    return Attendance(person=present, arrive=arrive, leave=np.maximum(leave, arrive + 1800))
