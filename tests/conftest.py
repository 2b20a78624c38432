"""Fixtures every test folder may use: a real Kafka-protocol broker (Tansu, in memory, started here).

`kafka_broker` is one broker for the whole session, for tests that only need
*a* cluster (a trigger, a smoke run). Tests that land or count messages want
topics nobody else writes to: `fresh_broker` starts a broker of their own
(Tansu is ready in milliseconds) and stops it afterwards.
"""

from collections.abc import Iterator

import pytest

from streams.broker import EmbeddedBroker


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[EmbeddedBroker]:
    """One embedded broker for the session, with the four contract topics (4 partitions each)."""
    with EmbeddedBroker(partitions=4) as broker:
        yield broker


@pytest.fixture
def fresh_broker() -> Iterator[EmbeddedBroker]:
    """A broker of this test's own, with the four contract topics (4 partitions each)."""
    with EmbeddedBroker(partitions=4) as broker:
        yield broker
