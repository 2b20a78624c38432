"""Writes one topic's JSONL file: valid events, exact resends and malformed messages mixed in.

Malformed messages are extra messages (corrupted copies of valid events with
ids of their own), so the valid stream stays the simulated truth. Their
number per batch is rounded down, so no topic-day ever exceeds the requested
share. Resends repeat a line byte for byte a little later in the stream.
Lines are rendered and written a chunk at a time to keep memory flat.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import numpy as np

from simulator.defects import CATALOGUE, corrupt
from simulator.events import EventBatch

CHUNK = 100_000
RESEND_SHARE = 0.003
RESEND_DELAY = (1.0, 200.0)
"""how many messages later a resend arrives"""


@dataclass
class TopicTally:
    lines: int = 0
    resends: int = 0
    malformed: Counter[str] = field(default_factory=Counter)


class TopicWriter:
    def __init__(self, path: Path, topic: str, malformed_share: float,
                 progress: Callable[[str, int], None] | None = None) -> None:
        self.topic = topic
        self.tally = TopicTally()
        self._file = path.open("wb")
        self._defects = CATALOGUE[topic]
        self._next_defect = 0
        self._ratio = malformed_share / (1.0 - malformed_share)
        self._progress = progress

    def __enter__(self) -> "TopicWriter":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def write(self, batch: EventBatch, id_prefix: str, rng: np.random.Generator) -> None:
        n = len(batch)
        if n == 0:
            return
        bad = self._malformed(batch, int(np.floor(self._ratio * n + 1e-9)), id_prefix, rng)
        resent = np.flatnonzero(rng.random(n) < RESEND_SHARE)
        extra_lines = bad + batch.lines(resent)
        extra_keys = np.concatenate([rng.uniform(0.0, n, len(bad)), resent + rng.uniform(*RESEND_DELAY, resent.size)])
        order = np.argsort(extra_keys, kind="stable")
        extra_keys = extra_keys[order]
        extra_lines = [extra_lines[k] for k in order.tolist()]
        self.tally.resends += int(resent.size)
        for start in range(0, n, CHUNK):
            end = min(start + CHUNK, n)
            lo = int(np.searchsorted(extra_keys, start - 0.5))
            hi = int(np.searchsorted(extra_keys, end - 0.5)) if end < n else extra_keys.size
            keys = np.concatenate([np.arange(start, end, dtype=np.float64), extra_keys[lo:hi]])
            lines = batch.lines(np.arange(start, end)) + extra_lines[lo:hi]
            merged = [lines[k] for k in np.argsort(keys, kind="stable").tolist()]
            self._file.write(b"\n".join(merged) + b"\n")
            self.tally.lines += len(merged)
            if self._progress is not None:
                self._progress(self.topic, self.tally.lines)

    def _malformed(self, batch: EventBatch, count: int, id_prefix: str,
                   rng: np.random.Generator) -> list[bytes]:
        lines = []
        for k, row in enumerate(rng.integers(0, len(batch), count).tolist()):
            record = batch.record(row)
            record["event_id"] = f"{id_prefix}-x{k:06d}"
            defect = self._defects[self._next_defect % len(self._defects)]
            self._next_defect += 1
            lines.append(bytes(memoryview(corrupt(record, defect, rng))))  # alone, not in orjson's 4 KiB
            self.tally.malformed[defect.reason] += 1
        return lines
