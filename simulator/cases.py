"""Case reports: seeded F0s, the people they infect once confirmed, isolations, and a few retractions.

Every report's `reported_at` falls within the simulated days: a report due
later is never written. Seeded F0s are confirmed on a random day with a
sample taken that day or shortly before and usually an onset before that;
people infected during the simulation (transmission.py) are tested a few days
after their onset, most of them. Most confirmed people are isolated within
hours (a few were already in quarantine as someone's F1); household members
get quarantined too; and a few seeded confirmations are later discarded (a
false positive, never infectious).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from simulator.population import Population
from simulator.transmission import DAY, DETECTED_SHARE, Epidemic, Infections, onsets

CONFIRMED, ISOLATED, DISCARDED = 0, 1, 2
KINDS = ("confirmed", "isolated", "discarded")
INDEX_SHARE = 1 / 2000
"""seeded F0s per person"""
MIN_F0 = 5
ISOLATED_SHARE = 0.85
ALREADY_QUARANTINED = 0.2
HOUSEHOLD_QUARANTINED = 0.6
DISCARDED_SHARE = 0.05
ONSET_REPORTED = 0.7
TEST_DELAY_DAYS = (0.5, 0.35, 0.15)
"""chance that a symptomatic person is sampled 0, 1 or 2 days after onset"""
HOUR = 3600

Report = tuple[int, int, int, int, str | None, str | None]
"""person, kind, reported_at, isolated_at (-1 for none), sample_date, onset_date"""


@dataclass(frozen=True)
class CaseReports:
    person: np.ndarray
    kind: np.ndarray
    reported_at: np.ndarray
    isolated_at: np.ndarray
    """epoch seconds, -1 where the report carries none"""
    sample_date: list[str | None]
    onset_date: list[str | None]

    @classmethod
    def of(cls, reports: list[Report]) -> "CaseReports":
        if not reports:
            none = np.zeros(0, dtype=np.int64)
            return cls(none, none, none, none, [], [])
        person, kind, reported, isolated_at, sample, onset = zip(*reports, strict=True)
        return cls(np.array(person), np.array(kind), np.array(reported), np.array(isolated_at),
                   list(sample), list(onset))

    def __len__(self) -> int:
        return int(self.person.size)


class Casebook:
    """Reports waiting for their day, and who the reports isolate.

    `starts` are the local midnights of the simulated days; a report is
    written on the day its `reported_at` falls in.
    """

    def __init__(self, population: Population, days: list[date], starts: list[int]) -> None:
        self._population = population
        self._days = days
        self._starts = np.array(starts, dtype=np.int64)
        self._first, self._end = starts[0], starts[-1] + DAY
        self._pending: list[Report] = []
        self._confirmed: set[int] = set()
        self.counts = {kind: 0 for kind in KINDS}
        self.transmitted_confirmed = 0

    def due(self, day_end: int) -> CaseReports:
        """The reports reported before `day_end` not handed out yet, in report order."""
        now = sorted((r for r in self._pending if r[2] < day_end), key=lambda r: (r[2], r[0], r[1]))
        self._pending = [r for r in self._pending if r[2] >= day_end]
        for report in now:
            self.counts[KINDS[report[1]]] += 1
        return CaseReports.of(now)

    def seed(self, epidemic: Epidemic, index_share: float, rng: np.random.Generator) -> int:
        """Confirm the index cases and make the true ones infectious; returns how many were confirmed."""
        population = self._population
        count = min(population.size, max(MIN_F0, round(population.size * index_share)))
        f0 = rng.choice(population.size, size=count, replace=False)
        self._confirmed.update(f0.tolist())
        day = rng.integers(0, len(self._days), f0.size)
        confirmed_at = self._starts[day] + rng.integers(8 * HOUR, 22 * HOUR, f0.size)
        onset_days = np.zeros(f0.size, dtype=np.int64)
        isolations: list[tuple[int, int]] = []
        for k, (person, d, at) in enumerate(zip(f0.tolist(), day.tolist(), confirmed_at.tolist(), strict=True)):
            sample = self._days[d] - timedelta(days=int(rng.choice(3, p=[0.55, 0.4, 0.05])))
            onset = sample - timedelta(days=int(rng.choice(5, p=[0.3, 0.25, 0.2, 0.15, 0.1])))
            onset_days[k] = (self._days[d] - onset).days
            isolations.extend(self._confirm(person, at, sample, onset, rng.random() < ONSET_REPORTED, 0, rng))
        retracted = rng.choice(f0.size, size=max(1, round(DISCARDED_SHARE * f0.size)), replace=False)
        for k in retracted.tolist():
            later = min(int(confirmed_at[k]) + int(rng.integers(2 * HOUR, 36 * HOUR)), self._end - 1)
            self._pending.append((int(f0[k]), DISCARDED, later, -1, None, None))
        true = np.setdiff1d(np.arange(f0.size), retracted)
        onset_midnight = self._starts[day[true]] - onset_days[true] * DAY
        epidemic.seed(f0[true], onset_midnight - 2 * DAY, confirmed_at[true])
        _isolate(epidemic, isolations)
        return count

    def infected(self, epidemic: Epidemic, found: Infections, rng: np.random.Generator) -> None:
        """Schedule the tests of the day's newly infected; the ones confirmed stop being infectious."""
        onset = onsets(epidemic, found.person)
        tested = rng.random(found.person.size) < DETECTED_SHARE
        delay = rng.choice(len(TEST_DELAY_DAYS), size=found.person.size, p=TEST_DELAY_DAYS)
        hours = rng.integers(8 * HOUR, 22 * HOUR, found.person.size)
        onset_day = np.searchsorted(self._starts, onset, side="right") - 1
        sample_day = onset_day + delay
        isolations: list[tuple[int, int]] = []
        for k in np.flatnonzero(tested).tolist():
            if sample_day[k] >= len(self._days):
                isolations.append((int(found.person[k]), int(self._end + (sample_day[k] - len(self._days)) * DAY)))
                continue
            at = int(self._starts[sample_day[k]] + hours[k])
            isolations.append((int(found.person[k]), at))
            sample = self._days[0] + timedelta(days=int(sample_day[k]))
            onset_date = self._days[0] + timedelta(days=int(onset_day[k]))
            earliest = int(found.at[k]) + DAY
            isolations.extend(self._confirm(int(found.person[k]), at, sample, onset_date,
                                            rng.random() < ONSET_REPORTED, earliest, rng))
            self.transmitted_confirmed += 1
        _isolate(epidemic, isolations)

    def _confirm(self, person: int, at: int, sample: date, onset: date, onset_reported: bool, earliest: int,
                 rng: np.random.Generator) -> list[tuple[int, int]]:
        """Queue a confirmation and its isolations; returns (person, isolated from) of everyone isolated."""
        self._confirmed.add(person)
        self._pending.append((person, CONFIRMED, at, -1, sample.isoformat(),
                              onset.isoformat() if onset_reported else None))
        isolations = []
        if rng.random() < ISOLATED_SHARE:
            if rng.random() < ALREADY_QUARANTINED:
                isolated = max(at - int(rng.integers(24 * HOUR, 72 * HOUR)), earliest)
            else:
                isolated = at + int(rng.integers(HOUR // 2, 8 * HOUR))
            self._pending.append(self._isolation(person, isolated, rng))
            isolations.append((person, isolated))
        for mate in _housemates(self._population, person).tolist():
            if mate not in self._confirmed and rng.random() < HOUSEHOLD_QUARANTINED:
                isolated = at + int(rng.integers(HOUR, 12 * HOUR))
                self._pending.append(self._isolation(mate, isolated, rng))
                isolations.append((mate, isolated))
        return isolations

    def _isolation(self, person: int, isolated: int, rng: np.random.Generator) -> Report:
        reported = min(max(isolated + int(rng.integers(0, 2 * HOUR)), self._first + int(rng.integers(HOUR, 8 * HOUR))),
                       self._end - 1)
        return person, ISOLATED, reported, min(isolated, reported), None, None


def _isolate(epidemic: Epidemic, isolations: list[tuple[int, int]]) -> None:
    if isolations:
        person, at = (np.array(column, dtype=np.int64) for column in zip(*isolations, strict=True))
        epidemic.isolate(person, at)


def _housemates(population: Population, person: int) -> np.ndarray:
    household = population.household[person]
    lo = int(np.searchsorted(population.household, household, side="left"))
    hi = int(np.searchsorted(population.household, household, side="right"))
    return np.array([p for p in range(lo, hi) if p != person], dtype=np.int64)
