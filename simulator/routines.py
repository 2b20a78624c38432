"""A day of QR check-ins: work shifts, then errands fitted around them.

Errands are placed in the order of their time windows with a per-person
cursor, so one person is never at two venues at once, and errands that would
fall inside a shift move before or after it.
"""

from dataclasses import dataclass

import numpy as np

from simulator.population import Population
from simulator.venues import VenuePicker, Venues
from simulator.workforce import Attendance, Workforce

QR_AT_WORK = 0.9
"""share of workers who scan the workplace QR code on arrival"""
CHECKOUT_RECORDED = 0.75
SOURCES = ("qr_venue", "qr_personal", "manual")
SOURCE_WEIGHTS = (0.80, 0.08, 0.04, 0.08)
"""the three sources, then no `source` field at all"""
LAST_ERRAND_START = 22 * 60 + 30


@dataclass(frozen=True)
class Errand:
    kind: str
    window: tuple[int, int]
    """earliest and latest wished start, minutes after local midnight"""
    median_minutes: float
    sigma: float
    chance: tuple[float, float, float]
    """per day: without a workplace, working today, worker with a day off"""
    weekend_factor: float = 1.0


ERRANDS: tuple[Errand, ...] = (
    Errand("cafe", (360, 480), 40, 0.5, (0.18, 0.12, 0.20), 1.3),
    Errand("market", (330, 600), 30, 0.5, (0.40, 0.10, 0.30), 1.1),
    Errand("clinic", (450, 660), 60, 0.5, (0.015, 0.004, 0.01), 0.5),
    Errand("pharmacy", (480, 690), 8, 0.4, (0.04, 0.02, 0.03)),
    Errand("restaurant", (660, 750), 40, 0.4, (0.08, 0.03, 0.10), 1.3),
    Errand("supermarket", (900, 1170), 35, 0.5, (0.10, 0.10, 0.15), 1.2),
    Errand("restaurant", (1080, 1170), 45, 0.4, (0.06, 0.06, 0.08), 1.3),
    Errand("cafe", (1170, 1290), 50, 0.5, (0.10, 0.10, 0.12), 1.3),
)


@dataclass(frozen=True)
class Stays:
    """Visits to venues on one day; `leave` is when the person really left (epoch seconds)."""

    person: np.ndarray
    venue: np.ndarray
    arrive: np.ndarray
    leave: np.ndarray
    checkout: np.ndarray
    """whether the check-out was recorded"""
    source: np.ndarray
    """index into SOURCES, or len(SOURCES) for no source field"""


def day_stays(population: Population, venues: Venues, workforce: Workforce, at_work: Attendance,
              pickers: dict[str, VenuePicker], day_start: int, weekend: bool,
              rng: np.random.Generator) -> Stays:
    people = population.size
    status = np.where(workforce.workplace >= 0, 2, 0)
    status[at_work.person] = 1
    shift_from = np.full(people, np.iinfo(np.int64).max // 2, dtype=np.int64)
    shift_to = np.full(people, np.iinfo(np.int64).min // 2, dtype=np.int64)
    shift_from[at_work.person] = at_work.arrive
    shift_to[at_work.person] = at_work.leave
    busy_until = np.full(people, day_start + 5 * 3600, dtype=np.int64)

    scanned = at_work.person[rng.random(at_work.person.size) < QR_AT_WORK]
    parts = [(scanned, workforce.workplace[scanned], shift_from[scanned], shift_to[scanned])]
    for errand in ERRANDS:
        chance = np.array(errand.chance) * (errand.weekend_factor if weekend else 1.0)
        who = np.flatnonzero(rng.random(people) < chance[status])
        wished = day_start + rng.integers(errand.window[0], errand.window[1] + 1, who.size) * 60
        length = np.maximum(rng.lognormal(np.log(errand.median_minutes), errand.sigma, who.size) * 60, 180)
        length = length.astype(np.int64)
        gap = rng.integers(5 * 60, 20 * 60, who.size)
        start = np.maximum(wished, busy_until[who] + gap)
        clash = (start + length > shift_from[who] - 900) & (start < shift_to[who])
        before = shift_from[who] - length - gap
        fits_before = clash & (wished < shift_from[who]) & (before >= busy_until[who] + gap)
        start = np.where(fits_before, before, np.where(clash, shift_to[who] + gap, start))
        keep = start <= day_start + LAST_ERRAND_START * 60
        who, start, length = who[keep], start[keep], length[keep]
        busy_until[who] = np.maximum(busy_until[who], start + length)
        parts.append((who, pickers[errand.kind].pick(population.district[who], rng), start, start + length))

    person, venue, arrive, leave = (np.concatenate(column) for column in zip(*parts, strict=True))
    order = np.argsort(arrive, kind="stable")
    return Stays(
        person=person[order],
        venue=venue[order],
        arrive=arrive[order],
        leave=leave[order],
        checkout=rng.random(order.size) < CHECKOUT_RECORDED,
        source=rng.choice(len(SOURCE_WEIGHTS), size=order.size, p=SOURCE_WEIGHTS),
    )
