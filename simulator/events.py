"""Events of one topic as columns, rendered to JSON lines in bulk.

Optional fields are absent on some rows and explicitly null on others, as
real producers do. Rows are rendered in groups that share the same set of
fields, so each group is one tight loop of `orjson.dumps`.

A column of text (ids, spellings, times) may be kept as a function of the
rows asked for, rendered from small numeric arrays a chunk at a time: a
province's day of Python strings would otherwise be the simulator's largest
allocation (some 350 bytes per event). Everything random is drawn before, so
the lines do not depend on how they are chunked.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import orjson

NULL = 2
"""presence code: the field is written as JSON null"""

Rendered = Callable[[np.ndarray], np.ndarray]
"""A column rendered on demand: the values of the given rows, in that order."""
Column = np.ndarray | Rendered


@dataclass
class EventBatch:
    topic: str
    size: int
    columns: dict[str, Column]
    """object or integer arrays, or renderers of them, one entry per row, in field order"""
    presence: dict[str, np.ndarray] = field(default_factory=dict)
    """per optional field: 0 absent, 1 present, NULL written as null"""

    def __len__(self) -> int:
        return self.size

    def take(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Column `name` at `rows`, rendered now if the column is a renderer."""
        column = self.columns[name]
        return column[rows] if isinstance(column, np.ndarray) else column(rows)

    def record(self, row: int) -> dict[str, object]:
        out: dict[str, object] = {}
        at = np.array([row])
        for name in self.columns:
            mark = self.presence[name][row] if name in self.presence else 1
            if mark:
                out[name] = None if mark == NULL else _plain(self.take(name, at)[0])
        return out

    def lines(self, rows: np.ndarray) -> list[bytes]:
        """The JSON lines (without newline) of the given rows, in that order."""
        names = list(self.columns)
        pattern = np.zeros(rows.size, dtype=np.int64)
        for position, name in enumerate(names):
            if name in self.presence:
                pattern += self.presence[name][rows].astype(np.int64) * 3**position
            else:
                pattern += 3**position
        where: list[np.ndarray] = []
        rendered: list[bytes] = []
        dumps = orjson.dumps
        for code in np.unique(pattern).tolist():
            at = np.flatnonzero(pattern == code)
            picked = rows[at]
            keys, values = [], []
            for position, name in enumerate(names):
                mark = code // 3**position % 3
                if mark == 1:
                    keys.append(name)
                    values.append(self.take(name, picked).tolist())
                elif mark == NULL:
                    keys.append(name)
                    values.append([None] * picked.size)
            where.append(at)
            # orjson hands each line back in a 4 KiB allocation: a copy keeps only the line, and costs
            # less than the memory it frees would to fault in
            rendered.extend(bytes(memoryview(dumps(dict(zip(keys, row, strict=True)))))
                            for row in zip(*values, strict=True))
        if len(where) <= 1:
            return rendered
        order = np.argsort(np.concatenate(where), kind="stable").tolist()
        return [rendered[k] for k in order]


def _plain(value: object) -> object:
    """A Python scalar for orjson and for defects to edit (numpy integers become int)."""
    return value.item() if isinstance(value, np.generic) else value


def event_ids(prefix: str) -> Rendered:
    """Distinct ids for the valid events of one topic-day: row i is `<prefix>-000000i`."""
    return lambda rows: np.array([f"{prefix}-{i:07d}" for i in rows.tolist()], dtype=object)
