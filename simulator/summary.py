"""What a simulation wrote: the figures tests and the demo compare the pipeline against."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date

import orjson


@dataclass(frozen=True)
class SimulationSummary:
    people: int
    first_day: date
    last_day: date
    seed: int
    malformed_share: float
    bluezone_share: float
    households: int
    workers: int
    app_users: int
    """people with Bluezone installed"""
    venues: int
    """registered venues written to venues.jsonl"""
    silent_venues: int
    """registered venues nobody checks in at"""
    unregistered_venues: int
    """venues that get check-ins but are never registered"""
    events: Mapping[str, int]
    """lines written per topic, malformed and resent ones included"""
    resends: Mapping[str, int]
    """exact repeats (same event_id, same bytes) per topic"""
    malformed: Mapping[str, Mapping[str, int]]
    """per topic, malformed messages per validator reason"""
    checkins_without_checkout: int
    f0_seeded: int
    """index cases, confirmed on a random simulated day (retracted ones included)"""
    isolated: int
    discarded: int
    index_share: float
    infected_near: int
    """people infected during the days by someone near them (a span: home, team, venue neighbours)"""
    infected_room: int
    """people infected during the days by sharing a venue with an infectious visitor"""
    f0_infected: int
    """confirmed reports, within the days, of people infected during them"""

    def malformed_count(self, topic: str) -> int:
        return sum(self.malformed.get(topic, {}).values())

    def valid(self, topic: str) -> int:
        """Distinct valid events of a topic: what the lander should keep."""
        return self.events[topic] - self.resends[topic] - self.malformed_count(topic)

    def to_json(self) -> bytes:
        body = asdict(self)
        body["malformed"] = {t: dict(sorted(r.items())) for t, r in self.malformed.items()}
        return orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
