"""Event times to UTC epoch microseconds, a column at a time: the lander's fast path for timestamps.

A time is an ISO string with an offset or integer epoch milliseconds. A day
of events repeats each second's stamp many times, so each distinct string is
parsed once (`datetime.fromisoformat`, exactly as the validator does) and
remembered. Anything else gets null, and its value goes to the validator for
the verdict and the reason.
"""

from datetime import datetime

import pyarrow as pa

from tracelake.days import epoch_micros
from tracelake.events import EPOCH_MS_RANGE

MEMO_CAP = 200_000
_micros: dict[str | int | None, int] = {}
"""Parsed ISO strings (ints and None are looked up too, and never found)."""


def _parse(text: str) -> int | None:
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            return None
        micros = epoch_micros(parsed)
    except (ValueError, OverflowError):
        return None
    if len(_micros) >= MEMO_CAP:
        _micros.clear()
    _micros[text] = micros
    return micros


def _instant(value: str | int) -> int | None:
    if isinstance(value, str):
        return _parse(value)
    return value * 1000 if EPOCH_MS_RANGE[0] <= value <= EPOCH_MS_RANGE[1] else None


def instants(times: list[str | int | None]) -> pa.Array:
    """int64 UTC epoch microseconds of ISO strings with an offset and of epoch milliseconds; null for the rest."""
    found = list(map(_micros.get, times))
    if None in found:
        pairs = zip(found, times, strict=True)
        found = [micros if micros is not None or time is None else _instant(time) for micros, time in pairs]
    return pa.array(found, pa.int64())
