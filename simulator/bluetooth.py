"""From spans in range to the sightings each phone logs: Bluezone's scan cycle and RSSI.

Each phone scans for about 40 s every 5 min at its own phase and logs a peer
it hears once per scan, so one pair yields a sighting roughly every 5 min from
each side. Signal strength follows a log-distance path-loss model; the
reference level at 1 m depends on the two phones' OS pair, which is why the
rules carry a threshold per pair.
"""

from dataclasses import dataclass

import numpy as np

from simulator.encounters import Spans
from simulator.population import Population

SCAN_PERIOD = 300
SCAN_WINDOW = 40
PATH_LOSS_EXPONENT = 2.2
NOISE_DB = 4.0
CALIBRATION_DISTANCE = 2.5
"""metres at which the mean RSSI equals the default rules' threshold for the OS pair"""
THRESHOLD_DBM = np.array([[-86, -69], [-88, -74]])
"""[reporter is ios][contact is ios], as in the default rules"""
REFERENCE_DBM = THRESHOLD_DBM + 10 * PATH_LOSS_EXPONENT * np.log10(CALIBRATION_DISTANCE)
RSSI_RANGE = (-127, 20)


@dataclass(frozen=True)
class Sightings:
    reporter: np.ndarray
    contact: np.ndarray
    at: np.ndarray
    """epoch seconds"""
    rssi: np.ndarray


def sightings(population: Population, spans: Spans, rng: np.random.Generator) -> Sightings:
    """Both directions of every span, one row per scan in which the peer was heard."""
    reporter = np.concatenate([spans.a, spans.b])
    contact = np.concatenate([spans.b, spans.a])
    start, end = np.tile(spans.start, 2), np.tile(spans.end, 2)
    distance = np.tile(spans.distance, 2)
    phase = population.scan_phase[reporter]
    first = -((phase - start) // SCAN_PERIOD)  # ceil((start - phase) / period)
    last = (end - phase) // SCAN_PERIOD
    scans = np.maximum(last - first + 1, 0)
    span = np.repeat(np.arange(scans.size), scans)
    cycle = first[span] + np.arange(span.size) - np.repeat(np.cumsum(scans) - scans, scans)
    at = phase[span] + cycle * SCAN_PERIOD + rng.integers(0, SCAN_WINDOW, span.size)
    metres = distance[span] * rng.lognormal(0.0, 0.25, span.size)
    heard = rng.random(span.size) < np.clip(1.1 - 0.05 * metres, 0.3, 0.95)
    span, at, metres = span[heard], at[heard], metres[heard]
    who, peer = reporter[span], contact[span]
    level = REFERENCE_DBM[population.ios[who].astype(int), population.ios[peer].astype(int)]
    rssi = level - 10 * PATH_LOSS_EXPONENT * np.log10(metres) + rng.normal(0.0, NOISE_DB, span.size)
    rssi = np.clip(np.rint(rssi), *RSSI_RANGE).astype(np.int64)
    order = np.lexsort((at, who))
    return Sightings(reporter=who[order], contact=peer[order], at=at[order], rssi=rssi[order])
