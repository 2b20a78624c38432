"""A random small province for cross-checking the engines: messy on purpose, reproducible by seed.

Stays with and without checkouts (some across midnight), Bluetooth pairs whose
sightings are spaced around the merge gap and whose RSSI straddles the
thresholds, cases confirmed, discarded, isolated and reported after D,
resent events, several Kafka partitions, people written in several spellings,
and times to the microsecond.
"""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import DAY

OPERATING_SYSTEMS = ("android", "ios")


def _spellings(phone: str) -> list[str]:
    rest = phone[1:]
    return [phone, f"+84{rest}", f"0{rest[:3]} {rest[3:6]} {rest[6:]}", f"84-{rest[:3]}-{rest[3:6]}-{rest[6:]}"]


def _moment(rng: random.Random, day: date, zone: ZoneInfo, earliest_hour: int = 0) -> datetime:
    seconds = rng.uniform(earliest_hour * 3600, 86_400)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start + timedelta(seconds=int(seconds), microseconds=rng.randrange(1_000_000))


def build_province(builder: LakeBuilder, seed: int, people: int = 2000, day: date = DAY, days: int = 4) -> None:
    rng = random.Random(seed)
    zone = builder.zone
    phones = [f"094{seed % 10}{index:06d}" for index in range(people)]
    venues = [f"venue-{index:03d}" for index in range(max(10, people // 8))]
    dates = [day - timedelta(days=offset) for offset in range(days)]

    def partition() -> int:
        return rng.randrange(4)

    for stay_day in dates:
        for phone in phones:
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                start = _moment(rng, stay_day, zone, earliest_hour=6)
                minutes = rng.choice((5, 14, 15, 16, 30, 45, 60, 90, 180, 400))
                length = timedelta(minutes=minutes, microseconds=rng.randrange(10**6))
                end = None if rng.random() < 0.3 else start + length
                event_id = builder.checkin(
                    rng.choice(_spellings(phone)), rng.choice(venues), start, end, partition=partition()
                )
                if rng.random() < 0.01:
                    builder.checkin(phone, rng.choice(venues), start, end, event_id=event_id, partition=partition())

    for _ in range(people):
        first, second = rng.sample(phones, 2)
        moment = _moment(rng, rng.choice(dates), zone)
        reporter_os, contact_os = rng.choice(OPERATING_SYSTEMS), rng.choice(OPERATING_SYSTEMS)
        for _ in range(rng.randint(1, 12)):
            reporter, contact = (first, second) if rng.random() < 0.6 else (second, first)
            os_pair = (reporter_os, contact_os) if reporter == first else (contact_os, reporter_os)
            builder.sighting(
                rng.choice(_spellings(reporter)),
                rng.choice(_spellings(contact)),
                moment,
                rng.randint(-95, -55),
                *os_pair,
                partition=partition(),
            )
            moment += timedelta(minutes=rng.choice((1, 3, 5, 5.9, 6, 6.1, 8)), microseconds=rng.randrange(1000))

    cases = rng.sample(phones, max(4, people // 50))
    for index, phone in enumerate(cases):
        reported = _moment(rng, rng.choice(dates), zone, earliest_hour=7)
        sample = reported.date() - timedelta(days=rng.randint(0, 2))
        onset = sample - timedelta(days=rng.randint(0, 3)) if rng.random() < 0.5 else None
        spelled = rng.choice(_spellings(phone))
        builder.case(spelled, "confirmed", reported, sample_date=sample, onset_date=onset, partition=partition())
        if index % 5 == 0:
            later = reported + timedelta(hours=rng.choice((-30, 5, 30)))
            builder.case(phone, "discarded", later, partition=partition())
        if index % 3 == 0:
            isolated = reported + timedelta(hours=rng.uniform(-72, 24))
            builder.case(phone, "isolated", reported + timedelta(hours=1), isolated_at=isolated, partition=partition())
    for phone in rng.sample(phones, people // 40):
        moment = _moment(rng, rng.choice(dates), zone)
        builder.case(phone, "isolated", moment, isolated_at=moment - timedelta(hours=rng.uniform(0, 48)))
