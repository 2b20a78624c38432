"""When the daily run may start on day D: the lander's lag, its watermark, and D's own files."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from streams.coverage import Coverage, coverage_of, landed_rows, landing_coverage, partitions_landed_after
from tests.streams.conftest import Landing, checkin, phone

DAY = date(2021, 8, 3)
END = datetime(2021, 8, 3, 17, 0, tzinfo=UTC)
LANDED = {"checkins": 2_400, "proximity": 10_000, "case_reports": 3}
NO_LAG = {(topic, partition): 0 for topic in LANDED for partition in range(2)}


def _coverage(**changes: Any) -> Coverage:
    arguments: dict[str, Any] = {"day": DAY, "landed": LANDED, "lag": NO_LAG, "lag_error": None, "later": {},
                                 "end": END, "now": END + timedelta(hours=1)}
    arguments.update(changes)
    return coverage_of(**arguments)


def test_a_finished_day_with_no_lag_and_its_files_is_covered() -> None:
    coverage = _coverage()
    assert coverage.covered, coverage.describe()
    assert coverage.describe().startswith("landing covers 2021-08-03")


def test_a_day_that_has_not_ended_is_not_covered() -> None:
    coverage = _coverage(now=END - timedelta(minutes=1))
    assert not coverage.covered
    assert "has not ended yet" in coverage.describe()


def test_a_partition_behind_is_covered_only_once_the_lander_has_passed_the_day_there() -> None:
    lag = {**NO_LAG, ("proximity", 1): 5_000}
    waiting = _coverage(lag=lag)
    assert not waiting.covered
    assert "proximity partition 1 (5,000 behind)" in waiting.describe()
    assert _coverage(lag=lag, later={"proximity": {1}}).covered


def test_unknown_lag_is_a_reason_to_wait() -> None:
    coverage = _coverage(lag=None, lag_error="Kafka at x:9092 did not answer",
                         landed={"case_reports": 1})
    assert not coverage.covered
    assert "Kafka at x:9092 did not answer" in coverage.describe()


def test_a_day_without_checkins_or_sightings_is_covered_once_the_lander_caught_up() -> None:
    """Its lookback can still hold F1s: waiting for files that never come would skip the day."""
    quiet = _coverage(landed={})
    assert quiet.covered, quiet.describe()
    assert quiet.describe() == "landing covers 2021-08-03 (rows landed: none)"
    behind = _coverage(landed={}, lag={**NO_LAG, ("checkins", 0): 12})
    assert not behind.covered
    assert "checkins partition 0 (12 behind)" in behind.describe()


def test_the_lander_covers_a_day_once_it_has_ended_and_been_landed(landing: Landing) -> None:
    """Against a real broker and lander: D's rows, the partitions already past D, and lag 0 after landing."""
    after = DAY + timedelta(days=1)
    landing.write("checkins", [checkin(n, person=phone(n)) for n in range(40)])
    landing.write("checkins", [checkin(100 + n, person=phone(n), at="2021-08-04T08:15:00+07:00") for n in range(8)])
    landing.publish()
    landing.land()
    raw = landing.raw("checkins").to_pylist()
    assert landed_rows(landing.settings, DAY) == {"checkins": 40}
    past = partitions_landed_after(landing.settings, "checkins", DAY)
    assert past == {row["kafka_partition"] for row in raw if row["date"] == after} and past
    assert partitions_landed_after(landing.settings, "checkins", after) == set()

    coverage = landing_coverage(landing.settings, DAY, now=END + timedelta(minutes=1))
    assert coverage.covered, coverage.describe()
    assert coverage.landed == {"checkins": 40}
    assert "has not ended yet" in landing_coverage(landing.settings, DAY, now=END - timedelta(minutes=1)).describe()
    offline = landing.settings.model_copy(update={"bootstrap_servers": None})
    assert "lag is unknown" in landing_coverage(offline, DAY, now=END + timedelta(minutes=1)).describe()
