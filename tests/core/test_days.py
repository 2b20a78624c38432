"""Which local day a run traces: its logical date's day in the rules' zone, never the wall clock's."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tracelake.core.days import local_date, run_day

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_scheduled_run_traces_the_local_day_of_its_logical_date_whenever_it_runs() -> None:
    """D's logical date is D's local midnight, 17:00 UTC the evening before: the UTC date would be D - 1."""
    logical = datetime(2021, 8, 3, tzinfo=ZONE)
    assert logical.astimezone(UTC).date() == date(2021, 8, 2)
    for run_after in (datetime(2021, 8, 4, tzinfo=ZONE), datetime(2021, 9, 30, 12, tzinfo=UTC)):
        assert run_day(logical, run_after, ZONE) == date(2021, 8, 3)


def test_a_run_without_a_logical_date_traces_the_last_local_day_that_had_ended() -> None:
    early_morning = datetime(2021, 8, 3, 23, 30, tzinfo=UTC)  # 06:30 on the 4th in Ho Chi Minh City
    assert run_day(None, early_morning, ZONE) == date(2021, 8, 3)
    assert run_day(None, datetime(2021, 8, 4, 0, 0, tzinfo=ZONE), ZONE) == date(2021, 8, 3)


def test_an_event_driven_run_traces_the_local_day_it_was_queued() -> None:
    assert local_date(datetime(2021, 8, 3, 17, 30, tzinfo=UTC), ZONE) == date(2021, 8, 4)
    assert local_date(datetime(2021, 8, 3, 16, 59, tzinfo=UTC), ZONE) == date(2021, 8, 3)
