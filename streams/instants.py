"""Event times to UTC epoch microseconds, a column at a time: the lander's fast path for timestamps.

A time is an ISO string with an offset or integer epoch milliseconds. A day
of events repeats each second's stamp many times, so each distinct string is
parsed once (`datetime.fromisoformat`, exactly as the validator does) and
remembered. Anything else gets null, and its value goes to the validator for
the verdict and the reason. Whether a time is plausible is the caller's
check, on the column.
"""

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

from tracelake.core.days import epoch_micros

EPOCH_MS_RANGE = (-((2**63) // 1000), (2**63 - 1) // 1000)
"""Integer timestamps whose microseconds an int64 holds; the rest are out of range anyway."""
MEMO_CAP = 200_000
_micros: dict[str | int | None, int | None] = {None: None}
"""Each ISO string met: its epoch microseconds, or None if the validator refuses it. None maps to None."""


def _parse(text: str) -> int | None:
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            return None
        return epoch_micros(parsed)
    except (ValueError, OverflowError):
        return None


def _epoch_ms(value: int) -> int | None:
    return value * 1000 if EPOCH_MS_RANGE[0] <= value <= EPOCH_MS_RANGE[1] else None


def instants(times: Sequence[str | int | None]) -> pa.Array:
    """int64 UTC epoch microseconds of ISO strings with an offset and of epoch milliseconds; null for the rest."""
    found = list(map(_micros.get, times))
    if None in found:
        unknown = set(times).difference(_micros)
        if len(_micros) + len(unknown) > MEMO_CAP:
            _micros.clear()
            _micros[None] = None
            unknown = set(times).difference(_micros)
        texts = [time for time in unknown if isinstance(time, str)]
        _micros.update(zip(texts, map(_parse, texts), strict=True))
        if len(texts) < len(unknown):  # epoch milliseconds: computed, not remembered
            numbers = {time: _epoch_ms(time) for time in unknown if isinstance(time, int)}
            found = [numbers[time] if time in numbers else _micros[time] for time in times]
        else:
            found = list(map(_micros.get, times))
    return pa.array(found, pa.int64())
