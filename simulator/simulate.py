"""Runs a whole simulation: build the province once, then generate and write day by day."""

import hashlib
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from simulator import clock, topics
from simulator.bluetooth import sightings
from simulator.cases import INDEX_SHARE, Casebook
from simulator.encounters import day_spans
from simulator.population import build_population
from simulator.province import BAC_GIANG
from simulator.routines import day_stays
from simulator.summary import SimulationSummary
from simulator.transmission import NEAR, ROOM, Epidemic, TransmissionModel, spread
from simulator.venues import KINDS, VenuePicker, build_venues
from simulator.workforce import attendance, build_workforce
from simulator.writer import TopicWriter

TOPICS = ("checkins", "proximity", "case_reports", "venues")
Progress = Callable[[str, int], None]
PROVINCE_MODEL = TransmissionModel()


def simulate(people: int, day: date, days: int = 3, seed: int = 0, *, out: Path,
             malformed_share: float = 0.005, bluezone_share: float = 0.36,
             index_share: float = INDEX_SHARE, transmission: TransmissionModel = PROVINCE_MODEL,
             progress: Progress | None = None) -> SimulationSummary:
    """Write a province's events for the `days` local days ending with `day` into `out`.

    Files: `<topic>.jsonl` for the four topics and `simulation.json` (the
    summary). The same arguments give byte-identical files. `index_share`
    of the people are seeded F0s; others catch the infection along the
    day's exposures (transmission.py) and are confirmed later, within the
    days when their test falls inside them, as `transmission` says. `progress`, if
    given, is called as `progress(stage, count)` with the stage (`population`,
    `places`, then each topic) and how many people, venues or lines of that
    stage are done so far.
    """
    if people < 1 or days < 1 or seed < 0:
        raise ValueError("people and days must be at least 1 and seed not negative")
    if not (0.0 <= malformed_share < 1.0 and 0.0 <= bluezone_share <= 1.0 and 0.0 <= index_share <= 1.0):
        raise ValueError("malformed_share must be in [0, 1), bluezone_share and index_share in [0, 1]")
    report = progress or (lambda stage, count: None)
    province = BAC_GIANG
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    params = f"{people}|{day}|{days}|{seed}|{malformed_share}|{bluezone_share}|{index_share}|{transmission}"
    salt = hashlib.blake2b(params.encode(), digest_size=4).hexdigest()

    def stream(*key: int) -> np.random.Generator:
        return np.random.default_rng([seed, *key])

    population = build_population(people, province, bluezone_share, stream(1))
    report("population", people)
    venues = build_venues(people, province, stream(2))
    workforce = build_workforce(population, venues, stream(3))
    pickers = {kind.name: VenuePicker(venues, kind.name) for kind in KINDS}
    report("places", venues.size)
    dates = [day - timedelta(days=days - 1 - i) for i in range(days)]
    starts = [clock.day_start(d, province.timezone) for d in dates]
    epidemic = Epidemic.empty(people)
    casebook = Casebook(population, dates, starts)
    f0_seeded = casebook.seed(epidemic, index_share, stream(4))

    without_checkout = 0
    with ExitStack() as files:
        writers = {t: files.enter_context(TopicWriter(out / f"{t}.jsonl", t, malformed_share, report)) for t in TOPICS}
        writers["venues"].write(topics.venue_registry(venues, province, f"vn-{salt}", stream(5)),
                                f"vn-{salt}", stream(6))
        for today, start in zip(dates, starts, strict=True):
            rng = stream(7, today.toordinal())
            offset = clock.utc_offset(today, province.timezone)
            stamp = f"{salt}-{today:%Y%m%d}"
            at_work = attendance(workforce, venues, start, today.weekday(), rng)
            stays = day_stays(population, venues, workforce, at_work, pickers, start, today.weekday() >= 5, rng)
            without_checkout += int((~stays.checkout).sum())
            writers["checkins"].write(topics.checkins(stays, population, venues, f"ck-{stamp}", offset, rng),
                                      f"ck-{stamp}", rng)
            spans = day_spans(population, venues, workforce, at_work, stays, start, rng)
            contagion = stream(8, today.toordinal())
            infected = spread(epidemic, transmission, stays, spans, venues.size, start, contagion)
            casebook.infected(epidemic, infected, contagion)
            del stays
            seen = sightings(population, spans.between(population.app), rng)
            del spans
            writers["proximity"].write(topics.proximity(seen, population, f"px-{stamp}", offset, rng),
                                       f"px-{stamp}", rng)
            del seen
            due = casebook.due(clock.day_start(today + timedelta(days=1), province.timezone))
            writers["case_reports"].write(
                topics.case_reports(due, np.arange(len(due)), population, f"cr-{stamp}", offset, rng),
                f"cr-{stamp}", rng)

    summary = SimulationSummary(
        people=people, first_day=dates[0], last_day=dates[-1], seed=seed,
        malformed_share=malformed_share, bluezone_share=bluezone_share,
        households=population.households,
        workers=int((workforce.workplace >= 0).sum()),
        app_users=int(population.app.sum()),
        venues=int(venues.registered.sum()),
        silent_venues=int(venues.silent.sum()),
        unregistered_venues=int((~venues.registered).sum()),
        events={t: w.tally.lines for t, w in writers.items()},
        resends={t: w.tally.resends for t, w in writers.items()},
        malformed={t: dict(w.tally.malformed) for t, w in writers.items()},
        checkins_without_checkout=without_checkout,
        f0_seeded=f0_seeded,
        isolated=casebook.counts["isolated"],
        discarded=casebook.counts["discarded"],
        index_share=index_share,
        infected_near=epidemic.infections(NEAR),
        infected_room=epidemic.infections(ROOM),
        f0_infected=casebook.transmitted_confirmed,
    )
    (out / "simulation.json").write_bytes(summary.to_json())
    return summary
