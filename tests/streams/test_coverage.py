"""When the daily run may start on day D: the lander's lag, its watermark, and D's own files."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

DAY = date(2021, 8, 3)
END = datetime(2021, 8, 3, 17, 0, tzinfo=UTC)
LANDED = {"checkins": 2_400, "proximity": 10_000, "case_reports": 3}
NO_LAG = {(topic, partition): 0 for topic in LANDED for partition in range(2)}


def _steps() -> Any:
    import tracelake.airflow.tasks

    return tracelake.airflow.tasks


def _coverage(airflow_db: Path, **changes: Any) -> Any:
    arguments: dict[str, Any] = {"day": DAY, "landed": LANDED, "lag": NO_LAG, "lag_error": None, "later": {},
                                 "end": END, "now": END + timedelta(hours=1)}
    arguments.update(changes)
    return _steps().coverage_of(**arguments)


def test_a_finished_day_with_no_lag_and_its_files_is_covered(airflow_db: Path) -> None:
    coverage = _coverage(airflow_db)
    assert coverage.covered, coverage.describe()
    assert coverage.describe().startswith("landing covers 2021-08-03")


def test_a_day_that_has_not_ended_is_not_covered(airflow_db: Path) -> None:
    coverage = _coverage(airflow_db, now=END - timedelta(minutes=1))
    assert not coverage.covered
    assert "has not ended yet" in coverage.describe()


def test_a_partition_behind_is_covered_only_once_the_lander_has_passed_the_day_there(airflow_db: Path) -> None:
    lag = {**NO_LAG, ("proximity", 1): 5_000}
    waiting = _coverage(airflow_db, lag=lag)
    assert not waiting.covered
    assert "proximity partition 1 (5,000 behind)" in waiting.describe()
    assert _coverage(airflow_db, lag=lag, later={"proximity": {1}}).covered


def test_unknown_lag_is_a_reason_to_wait(airflow_db: Path) -> None:
    coverage = _coverage(airflow_db, lag=None, lag_error="Kafka at x:9092 did not answer",
                         landed={"case_reports": 1})
    assert not coverage.covered
    assert "Kafka at x:9092 did not answer" in coverage.describe()


def test_a_day_without_checkins_or_sightings_is_covered_once_the_lander_caught_up(airflow_db: Path) -> None:
    """Its lookback can still hold F1s: waiting for files that never come would skip the day."""
    quiet = _coverage(airflow_db, landed={})
    assert quiet.covered, quiet.describe()
    assert quiet.describe() == "landing covers 2021-08-03 (rows landed: none)"
    behind = _coverage(airflow_db, landed={}, lag={**NO_LAG, ("checkins", 0): 12})
    assert not behind.covered
    assert "checkins partition 0 (12 behind)" in behind.describe()
