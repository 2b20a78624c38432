"""Times as producers write them: local ISO with offset, UTC with `Z`, or epoch milliseconds."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

LOCAL_ISO, UTC_ISO, EPOCH_MS = 0, 1, 2


def day_start(day: date, zone: ZoneInfo) -> int:
    """Epoch seconds of local midnight starting `day`."""
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp())


def utc_offset(day: date, zone: ZoneInfo) -> int:
    """Seconds east of UTC at local noon of `day` (Vietnam has no DST; noon is safe elsewhere)."""
    offset = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def styles(n: int, weights: tuple[float, float, float], rng: np.random.Generator) -> np.ndarray:
    return rng.choice(3, size=n, p=np.array(weights) / sum(weights))


def render_times(epoch: np.ndarray, style: np.ndarray, offset: int) -> np.ndarray:
    """An object array of str (LOCAL_ISO, UTC_ISO) or int (EPOCH_MS), one per instant."""
    out = np.empty(epoch.size, dtype=object)
    local = style == LOCAL_ISO
    if local.any():
        text = np.datetime_as_string((epoch[local] + offset).astype("datetime64[s]"), unit="s")
        out[local] = np.strings.add(text, _suffix(offset)).astype(object)
    utc = style == UTC_ISO
    if utc.any():
        text = np.datetime_as_string(epoch[utc].astype("datetime64[s]"), unit="s")
        out[utc] = np.strings.add(text, "Z").astype(object)
    ms = style == EPOCH_MS
    out[ms] = (epoch[ms] * 1000).astype(object)
    return out


def render_one(epoch: int, style: int, offset: int) -> str | int:
    return render_times(np.array([epoch], dtype=np.int64), np.array([style]), offset)[0]


def naive_local(epoch: int, offset: int) -> str:
    """The local wall-clock time without its offset: what a careless producer sends."""
    return datetime.fromtimestamp(epoch + offset, UTC).replace(tzinfo=None).isoformat()


def parse(value: str | int) -> tuple[int, int, int]:
    """(epoch seconds, style, offset seconds) of a time this module rendered."""
    if isinstance(value, int):
        return value // 1000, EPOCH_MS, 0
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    offset = moment.utcoffset() or timedelta(0)
    style = UTC_ISO if value.endswith("Z") else LOCAL_ISO
    return int(moment.timestamp()), style, int(offset.total_seconds())


def _suffix(offset: int) -> str:
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
