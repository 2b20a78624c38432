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


def parse_day(text: str) -> date:
    """A `YYYY-MM-DD` day; anything else raises ValueError with the text in the message."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}") from exc
