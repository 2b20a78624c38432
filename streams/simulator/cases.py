"""Case reports: seeded F0s confirmed by lab samples, isolations, and a few retractions.

Every report's `reported_at` falls within the simulated days. F0s are
confirmed on a random day with a sample taken that day or shortly before and
usually an onset before that; most are isolated within hours (a few were
already in quarantine as someone's F1); household members get quarantined
too; and a few confirmations are later discarded (a false positive).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from streams.simulator.population import Population

CONFIRMED, ISOLATED, DISCARDED = 0, 1, 2
KINDS = ("confirmed", "isolated", "discarded")
PEOPLE_PER_F0 = 2000
MIN_F0 = 5
ISOLATED_SHARE = 0.85
ALREADY_QUARANTINED = 0.2
HOUSEHOLD_QUARANTINED = 0.6
DISCARDED_SHARE = 0.05
HOUR = 3600


@dataclass(frozen=True)
class CaseReports:
    person: np.ndarray
    kind: np.ndarray
    reported_at: np.ndarray
    isolated_at: np.ndarray
    """epoch seconds, -1 where the report carries none"""
    sample_date: list[str | None]
    onset_date: list[str | None]


def seed_cases(population: Population, days: list[date], starts: list[int],
               rng: np.random.Generator) -> CaseReports:
    first, end = starts[0], starts[-1] + 24 * HOUR
    count = min(population.size, max(MIN_F0, round(population.size / PEOPLE_PER_F0)))
    f0 = rng.choice(population.size, size=count, replace=False)
    cases = set(f0.tolist())
    day = rng.integers(0, len(days), f0.size)
    confirmed_at = np.array(starts)[day] + rng.integers(8 * HOUR, 22 * HOUR, f0.size)
    reports: list[tuple[int, int, int, int, str | None, str | None]] = []
    for person, d, at in zip(f0.tolist(), day.tolist(), confirmed_at.tolist(), strict=True):
        sample = days[d] - timedelta(days=int(rng.choice(3, p=[0.55, 0.4, 0.05])))
        onset = sample - timedelta(days=int(rng.choice(5, p=[0.3, 0.25, 0.2, 0.15, 0.1])))
        reports.append((person, CONFIRMED, at, -1, sample.isoformat(),
                        onset.isoformat() if rng.random() < 0.7 else None))
        if rng.random() < ISOLATED_SHARE:
            if rng.random() < ALREADY_QUARANTINED:
                isolated = at - int(rng.integers(24 * HOUR, 72 * HOUR))
            else:
                isolated = at + int(rng.integers(HOUR // 2, 8 * HOUR))
            reports.append(_isolation(person, isolated, first, end, rng))
        for mate in _housemates(population, person).tolist():
            if mate not in cases and rng.random() < HOUSEHOLD_QUARANTINED:
                reports.append(_isolation(mate, at + int(rng.integers(HOUR, 12 * HOUR)), first, end, rng))
    retracted = rng.choice(f0.size, size=max(1, round(DISCARDED_SHARE * f0.size)), replace=False)
    for k in retracted.tolist():
        later = min(int(confirmed_at[k]) + int(rng.integers(2 * HOUR, 36 * HOUR)), end - 1)
        reports.append((int(f0[k]), DISCARDED, later, -1, None, None))
    reports.sort(key=lambda r: (r[2], r[0], r[1]))
    person, kind, reported, isolated_at, sample, onset = zip(*reports, strict=True)
    return CaseReports(np.array(person), np.array(kind), np.array(reported), np.array(isolated_at),
                       list(sample), list(onset))


def _isolation(person: int, isolated: int, first: int, end: int,
               rng: np.random.Generator) -> tuple[int, int, int, int, None, None]:
    reported = min(max(isolated + int(rng.integers(0, 2 * HOUR)), first + int(rng.integers(HOUR, 8 * HOUR))), end - 1)
    return person, ISOLATED, reported, min(isolated, reported), None, None


def _housemates(population: Population, person: int) -> np.ndarray:
    household = population.household[person]
    lo = int(np.searchsorted(population.household, household, side="left"))
    hi = int(np.searchsorted(population.household, household, side="right"))
    return np.array([p for p in range(lo, hi) if p != person], dtype=np.int64)
