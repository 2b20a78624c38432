"""Local days: the rules' timezone decides where a day starts, even across DST changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def epoch_micros(instant: datetime) -> int:
    """UTC epoch microseconds of an aware instant, exactly (no float on the way): the lake's time unit."""
    return (instant - EPOCH) // MICROSECOND


def from_epoch_micros(micros: int) -> datetime:
    """The aware UTC instant of epoch microseconds."""
    return EPOCH + timedelta(microseconds=micros)


def duration_micros(span: timedelta) -> int:
    return span // MICROSECOND


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC-aware instant at which `day` starts in `zone`."""
    return datetime.combine(day, time(0), tzinfo=zone)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day as aware instants."""
    return local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)


def lookback(day: date, lookback_days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[D - lookback_days, D + 1) local: the events that feed a run for day D."""
    return (
        local_midnight(day - timedelta(days=lookback_days), zone),
        local_midnight(day + timedelta(days=1), zone),
    )


def local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def run_day(logical_date: datetime | None, run_after: datetime, zone: ZoneInfo) -> date:
    """Day D of a scheduled or backfilled run: its logical date's local day, never the wall clock's, so a
    re-run or a backfill of D traces D whenever it runs.

    A run without a logical date (triggered by hand) traces the last local day
    that had ended when the run was asked for (`run_after`).
    """
    if logical_date is not None:
        return local_date(logical_date, zone)
    return local_date(run_after, zone) - timedelta(days=1)


def parse_day(text: str) -> date:
    """A `YYYY-MM-DD` day; anything else raises ValueError with the text in the message."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}") from exc
