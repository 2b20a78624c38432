"""People: where they live, whom they live with, which phone they carry and how they are identified.

Everything is a numpy array indexed by person, people of one household
contiguous, so later stages (routines, Bluetooth, cases) stay vectorized.
"""

from dataclasses import dataclass

import numpy as np

from simulator.province import Province

# Mobile prefixes (without the trunk 0) by carrier, weighted roughly by market share.
MOBILE_PREFIXES = np.array(
    [32, 33, 34, 35, 36, 37, 38, 39, 86, 96, 97, 98,  # Viettel
     81, 82, 83, 84, 85, 88, 91, 94,                  # Vinaphone
     70, 76, 77, 78, 79, 90, 93,                      # Mobifone
     56, 58, 59],                                     # Vietnamobile, Gmobile
    dtype=np.int64,
)
_PREFIX_WEIGHTS = np.array([0.5 / 12] * 12 + [0.25 / 8] * 8 + [0.2 / 7] * 7 + [0.05 / 3] * 3)
HOUSEHOLD_SIZE_WEIGHTS = np.array([0.10, 0.18, 0.22, 0.27, 0.15, 0.08])  # 1..6 people
CCCD_SHARE = 0.10
ANDROID_SHARE = 0.70
# Android advertising power levels (dBm) a phone may use; iOS does not report one.
TX_POWER_LEVELS = np.array([-21, -15, -7, 1], dtype=np.int64)
_TX_POWER_WEIGHTS = np.array([0.05, 0.15, 0.5, 0.3])


@dataclass(frozen=True)
class Population:
    district: np.ndarray
    """index into Province.districts"""
    household: np.ndarray
    """household number, people of one household contiguous"""
    app: np.ndarray
    """has Bluezone installed"""
    ios: np.ndarray
    tx_power: np.ndarray
    phone: np.ndarray
    """9-digit national mobile number (no trunk 0), or -1 for people known by citizen ID"""
    cccd: np.ndarray
    """12-digit citizen ID as an integer, or -1 for people known by phone"""
    spelling: np.ndarray
    """the way this person usually writes their number (index into identity.PHONE_FORMS)"""
    scan_phase: np.ndarray
    """seconds into the 5-minute Bluetooth scan cycle at which this phone scans"""

    @property
    def size(self) -> int:
        return int(self.district.size)

    @property
    def households(self) -> int:
        return int(self.household[-1]) + 1 if self.size else 0


def build_population(people: int, province: Province, bluezone_share: float,
                     rng: np.random.Generator) -> Population:
    sizes = _household_sizes(people, rng)
    household = np.repeat(np.arange(sizes.size, dtype=np.int64), sizes)
    home = rng.choice(len(province.districts), size=sizes.size, p=province.shares)
    by_cccd = rng.random(people) < CCCD_SHARE
    phone = np.where(by_cccd, -1, _unique_mobiles(people, rng))
    return Population(
        district=home[household].astype(np.int64),
        household=household,
        app=rng.random(people) < bluezone_share,
        ios=rng.random(people) >= ANDROID_SHARE,
        tx_power=rng.choice(TX_POWER_LEVELS, size=people, p=_TX_POWER_WEIGHTS),
        phone=phone,
        cccd=_cccds(by_cccd, province, rng),
        spelling=rng.choice(5, size=people, p=[0.35, 0.2, 0.15, 0.15, 0.15]),
        scan_phase=rng.integers(0, 300, size=people),
    )


def _household_sizes(people: int, rng: np.random.Generator) -> np.ndarray:
    sizes = rng.choice(np.arange(1, 7), size=people, p=HOUSEHOLD_SIZE_WEIGHTS)
    cut = int(np.searchsorted(np.cumsum(sizes), people))
    sizes = sizes[: cut + 1].copy()
    sizes[-1] -= int(sizes.sum()) - people
    return sizes[sizes > 0]


def _unique_mobiles(people: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct 9-digit mobile numbers: draw a few spare, keep the first of each in draw order."""
    spare = people + people // 20 + 16
    while True:
        prefix = rng.choice(MOBILE_PREFIXES, size=spare, p=_PREFIX_WEIGHTS)
        numbers = prefix * 10_000_000 + rng.integers(0, 10_000_000, size=spare)
        _, first = np.unique(numbers, return_index=True)
        if first.size >= people:
            return numbers[np.sort(first)[:people]]
        spare *= 2


def _cccds(by_cccd: np.ndarray, province: Province, rng: np.random.Generator) -> np.ndarray:
    """Citizen IDs (-1 for people known by phone): place code, sex-and-century digit, birth
    year, then a 6-digit serial. Serials are a permutation of the holders' ranks, so IDs are
    distinct for up to a million holders."""
    people = by_cccd.size
    century_sex = rng.choice(np.array([0, 1, 2, 3]), size=people, p=[0.12, 0.12, 0.38, 0.38])
    year = np.where(century_sex < 2, rng.integers(40, 100, size=people), rng.integers(0, 8, size=people))
    rank = np.cumsum(by_cccd) - 1
    serial = (rank * 7919 + int(rng.integers(0, 1_000_000))) % 1_000_000
    head = int(province.cccd_prefix) * 10 + century_sex
    return np.where(by_cccd, head * 10**8 + year * 10**6 + serial, -1)
