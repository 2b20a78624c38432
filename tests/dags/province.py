"""A small simulated province, published to a real broker and landed by the real lander: the DAGs' input."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tests.dags.airflow_env import TEST_KEY

DAY = date(2021, 8, 3)
PEOPLE = 2_000


@dataclass(frozen=True)
class Province:
    """A landed lake, its vault, and the broker the lander committed to (running while the tests use it)."""

    lake: Path
    vault: Path
    bootstrap: str


@contextmanager
def landed_province(root: Path) -> Iterator[Province]:
    """Simulate `PEOPLE` people over the three days up to `DAY`, publish them, land them until idle."""
    from simulator.simulate import simulate
    from streams.broker import EmbeddedBroker
    from streams.lander import land
    from streams.publisher import publish_events
    from tracelake.core.settings import Settings

    simulate(PEOPLE, DAY, days=3, seed=7, out=root / "events")
    with EmbeddedBroker(partitions=4) as broker:
        publish_events(root / "events", broker.bootstrap)
        settings = Settings(lake=str(root / "lake"), vault=str(root / "vault"), bootstrap_servers=broker.bootstrap,
                            pseudonymization_key=TEST_KEY)
        counts = land(settings, TEST_KEY.encode(), until_idle=True)
        assert counts.total_landed > 0, "the lander landed nothing"
        yield Province(root / "lake", root / "vault", broker.bootstrap)
