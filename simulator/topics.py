"""The simulation's facts written as the contract's events (CONTRACT.md section 1)."""

import numpy as np

from simulator import clock
from simulator.bluetooth import Sightings
from simulator.cases import CONFIRMED, ISOLATED, KINDS, CaseReports
from simulator.events import NULL, EventBatch, event_ids
from simulator.identity import spell_ids, spellings, write_ids
from simulator.population import Population
from simulator.province import Province
from simulator.routines import SOURCES, Stays
from simulator.venues import KINDS as VENUE_KINDS
from simulator.venues import Venues

CHECKIN_STYLES = (0.70, 0.20, 0.10)
"""local ISO, UTC ISO, epoch milliseconds"""
SIGHTING_STYLES = (0.40, 0.20, 0.40)
CASE_STYLES = (0.80, 0.15, 0.05)
NULL_CHECKOUT = 0.3
"""share of unrecorded check-outs written as null rather than left out"""
OS_NAMES = np.array(["android", "ios"], dtype=object)


def _maybe_null(present: np.ndarray, null_share: float, rng: np.random.Generator) -> np.ndarray:
    return np.where(present, 1, np.where(rng.random(present.size) < null_share, NULL, 0)).astype(np.int8)


def checkins(stays: Stays, population: Population, venues: Venues, id_prefix: str, offset: int,
             rng: np.random.Generator) -> EventBatch:
    style = clock.styles(stays.person.size, CHECKIN_STYLES, rng).astype(np.int8)
    form = spellings(population, stays.person, rng)
    source = np.array([*SOURCES, ""], dtype=object)
    return EventBatch(
        "checkins",
        stays.person.size,
        {
            "event_id": event_ids(id_prefix),
            "person_id": lambda rows: write_ids(population, stays.person[rows], form[rows]),
            "venue_id": lambda rows: venues.venue_id[stays.venue[rows]],
            "checkin_at": lambda rows: clock.render_times(stays.arrive[rows], style[rows], offset),
            "checkout_at": lambda rows: clock.render_times(stays.leave[rows], style[rows], offset),
            "source": lambda rows: source[stays.source[rows]],
        },
        {
            "checkout_at": _maybe_null(stays.checkout, NULL_CHECKOUT, rng),
            "source": (stays.source < len(SOURCES)).astype(np.int64),
        },
    )


def proximity(seen: Sightings, population: Population, id_prefix: str, offset: int,
              rng: np.random.Generator) -> EventBatch:
    n = seen.reporter.size
    android_peer = ~population.ios[seen.contact]
    reporter_form = spellings(population, seen.reporter, rng)
    contact_form = spellings(population, seen.contact, rng)
    style = clock.styles(n, SIGHTING_STYLES, rng).astype(np.int8)
    return EventBatch(
        "proximity",
        n,
        {
            "event_id": event_ids(id_prefix),
            "reporter_id": lambda rows: write_ids(population, seen.reporter[rows], reporter_form[rows]),
            "contact_id": lambda rows: write_ids(population, seen.contact[rows], contact_form[rows]),
            "rssi": seen.rssi,
            "reporter_os": lambda rows: OS_NAMES[population.ios[seen.reporter[rows]].astype(np.int64)],
            "contact_os": lambda rows: OS_NAMES[population.ios[seen.contact[rows]].astype(np.int64)],
            "observed_at": lambda rows: clock.render_times(seen.at[rows], style[rows], offset),
            "tx_power": lambda rows: population.tx_power[seen.contact[rows]],
        },
        {"tx_power": _maybe_null(android_peer & (rng.random(n) < 0.9), 0.2, rng)},
    )


def case_reports(cases: CaseReports, rows: np.ndarray, population: Population, id_prefix: str,
                 offset: int, rng: np.random.Generator) -> EventBatch:
    style = clock.styles(rows.size, CASE_STYLES, rng)
    kind = cases.kind[rows]
    sample = np.array([cases.sample_date[r] for r in rows.tolist()], dtype=object)
    onset = np.array([cases.onset_date[r] for r in rows.tolist()], dtype=object)
    return EventBatch(
        "case_reports",
        rows.size,
        {
            "event_id": event_ids(id_prefix),
            "person_id": spell_ids(population, cases.person[rows], rng),
            "kind": np.array(KINDS, dtype=object)[kind],
            "reported_at": clock.render_times(cases.reported_at[rows], style, offset),
            "sample_date": sample,
            "onset_date": onset,
            "isolated_at": clock.render_times(np.maximum(cases.isolated_at[rows], 0), style, offset),
        },
        {
            "sample_date": (kind == CONFIRMED).astype(np.int64),
            "onset_date": np.array([value is not None for value in onset], dtype=np.int64),
            "isolated_at": (kind == ISOLATED).astype(np.int64),
        },
    )


def venue_registry(venues: Venues, province: Province, id_prefix: str,
                   rng: np.random.Generator) -> EventBatch:
    rows = np.flatnonzero(venues.registered)
    located = _maybe_null(rng.random(rows.size) >= 0.02, 0.5, rng)
    return EventBatch(
        "venues",
        rows.size,
        {
            "event_id": event_ids(id_prefix),
            "venue_id": venues.venue_id[rows],
            "name": np.array(venues.name, dtype=object)[rows],
            "district_code": np.array([d.code for d in province.districts], dtype=object)[venues.district[rows]],
            "province_code": np.full(rows.size, province.code, dtype=object),
            "kind": np.array([k.name for k in VENUE_KINDS], dtype=object)[venues.kind[rows]],
            "lat": venues.lat[rows],
            "lon": venues.lon[rows],
        },
        {
            "kind": (rng.random(rows.size) >= 0.03).astype(np.int64),
            "lat": located,
            "lon": located,
        },
    )
