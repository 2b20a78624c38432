"""QR venues: which exist, which are registered, which stay silent, and how people pick one.

Some registered venues print a QR code nobody scans (silent), and some venues
people scan were never registered: both happen in the field and the pipeline
must cope with either.
"""

from dataclasses import dataclass

import numpy as np

from simulator.names import venue_name
from simulator.province import Province


@dataclass(frozen=True)
class VenueKind:
    name: str
    code: str
    per_thousand: float
    """venues of this kind per 1,000 people"""
    workforce_share: float
    """share of workers employed at venues of this kind"""
    size_sigma: float
    """spread of popularity (log-normal): a few big factories, many small cafes"""
    silent_share: float
    unregistered_share: float


KINDS: tuple[VenueKind, ...] = (
    VenueKind("factory", "FA", 0.7, 0.43, 1.0, 0.0, 0.0),
    VenueKind("office", "OF", 5.0, 0.20, 0.6, 0.10, 0.0),
    VenueKind("school", "SC", 1.2, 0.08, 0.3, 0.05, 0.0),
    VenueKind("clinic", "CL", 0.6, 0.05, 0.6, 0.05, 0.0),
    VenueKind("market", "MK", 0.6, 0.12, 0.6, 0.0, 0.0),
    VenueKind("supermarket", "SM", 0.3, 0.02, 0.4, 0.05, 0.0),
    VenueKind("cafe", "CF", 4.0, 0.05, 0.7, 0.10, 0.05),
    VenueKind("restaurant", "RS", 2.0, 0.04, 0.6, 0.10, 0.05),
    VenueKind("pharmacy", "PH", 1.0, 0.01, 0.4, 0.10, 0.04),
)
KIND_INDEX = {kind.name: i for i, kind in enumerate(KINDS)}
OWN_DISTRICT_SHARE = 0.85


@dataclass(frozen=True)
class Venues:
    venue_id: np.ndarray
    name: list[str]
    kind: np.ndarray
    district: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray
    registered: np.ndarray
    silent: np.ndarray
    districts: int
    """how many districts the province has (some may have no venue of a kind)"""

    @property
    def size(self) -> int:
        return int(self.kind.size)


def build_venues(people: int, province: Province, rng: np.random.Generator) -> Venues:
    counts = [max(1, round(people * k.per_thousand / 1000)) for k in KINDS]
    kind = np.repeat(np.arange(len(KINDS)), counts)
    district = rng.choice(len(province.districts), size=kind.size, p=province.shares)
    sigma = np.array([k.size_sigma for k in KINDS])[kind]
    silent_share = np.array([k.silent_share for k in KINDS])[kind]
    unregistered_share = np.array([k.unregistered_share for k in KINDS])[kind]
    roll = rng.random(kind.size)
    first_of_kind = np.r_[True, kind[1:] != kind[:-1]]
    silent = (roll < silent_share) & ~first_of_kind
    registered = ~((roll >= silent_share) & (roll < silent_share + unregistered_share))
    centre = np.array([[d.lat, d.lon] for d in province.districts])[district]
    spread = np.where(kind == KIND_INDEX["factory"], 0.012, 0.03)[:, None]
    where = centre + rng.normal(0.0, 1.0, size=(kind.size, 2)) * spread
    codes = [KINDS[k].code for k in kind.tolist()]
    district_codes = [province.districts[d].code for d in district.tolist()]
    return Venues(
        venue_id=np.array([f"{dc}-{c}-{i:05d}" for i, (dc, c) in enumerate(zip(district_codes, codes, strict=True))],
                          dtype=object),
        name=[venue_name(KINDS[k].name, province.districts[d], rng)
              for k, d in zip(kind.tolist(), district.tolist(), strict=True)],
        kind=kind,
        district=district,
        lat=np.round(where[:, 0], 6),
        lon=np.round(where[:, 1], 6),
        weight=rng.lognormal(0.0, sigma),
        registered=registered,
        silent=silent,
        districts=len(province.districts),
    )


class VenuePicker:
    """Picks venues of one kind, mostly in the visitor's own district, big venues more often.

    Venues are laid out by district with cumulative weights, so a pick is one
    searchsorted whatever the number of visitors.
    """

    def __init__(self, venues: Venues, kind: str) -> None:
        districts = venues.districts
        usable = np.flatnonzero((venues.kind == KIND_INDEX[kind]) & ~venues.silent)
        order = usable[np.argsort(venues.district[usable], kind="stable")]
        self._venue = order
        self._cumulative = np.cumsum(venues.weight[order])
        bounds = np.searchsorted(venues.district[order], np.arange(districts + 1))
        cum0 = np.r_[0.0, self._cumulative]
        self._low = cum0[bounds[:-1]]
        self._high = cum0[bounds[1:]]
        self._districts = districts

    def pick(self, home: np.ndarray, rng: np.random.Generator,
             own_share: float = OWN_DISTRICT_SHARE) -> np.ndarray:
        target = np.where(rng.random(home.size) < own_share, home,
                          rng.integers(0, self._districts, home.size))
        low, high = self._low[target], self._high[target]
        empty = high <= low
        low = np.where(empty, 0.0, low)
        high = np.where(empty, self._cumulative[-1], high)
        drawn = low + rng.random(home.size) * (high - low)
        slot = np.minimum(np.searchsorted(self._cumulative, drawn, side="right"), self._venue.size - 1)
        return self._venue[slot]
