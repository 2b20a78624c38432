"""Publishing and landing at once (`tracelake run`): everything published lands exactly once, and no earlier stop."""

import pytest
from kafka import TopicPartition

from streams.ingest import publish_and_land
from streams.publisher import publish_events
from tests.streams.conftest import KEY, Landing, phone, sighting
from tests.streams.test_exactly_once import assert_exactly_once, end_offsets


def test_the_publisher_reports_each_partitions_end_from_its_acknowledgements(landing: Landing) -> None:
    landing.write("proximity", [sighting(number, reporter=phone(number)) for number in range(500)])
    ends: dict[TopicPartition, int] = {}

    publish_events(landing.events_dir, landing.broker.bootstrap, ends=ends)

    assert {tp.partition: end for tp, end in ends.items() if tp.topic == "proximity"} == {
        partition: end for partition, end in end_offsets(landing).items() if end
    }


@pytest.mark.slow
def test_landing_while_publishing_lands_everything_published_once(landing: Landing) -> None:
    events: list[object] = [
        b'{"event_id": "broken-%d"' % number if number % 97 == 0
        else sighting(number, reporter=phone(number % 997), contact=phone(number % 997 + 1))
        for number in range(20_000)
    ]
    landing.write("proximity", events)

    ingested = publish_and_land(landing.events_dir, landing.settings, KEY.encode())

    assert ingested.published == {"proximity": 20_000}
    assert ingested.landing.events("proximity") == 20_000
    assert ingested.publish_s <= ingested.land_s <= ingested.ingest_s
    assert_exactly_once(landing, end_offsets(landing))
