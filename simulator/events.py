"""Events of one topic as columns, rendered to JSON lines in bulk.

Optional fields are absent on some rows and explicitly null on others, as
real producers do. Rows are rendered in groups that share the same set of
fields, so each group is one tight loop of `orjson.dumps`.
"""

from dataclasses import dataclass, field

import numpy as np
import orjson

NULL = 2
"""presence code: the field is written as JSON null"""


@dataclass
class EventBatch:
    topic: str
    columns: dict[str, np.ndarray]
    """object or integer arrays, one entry per row, in field order"""
    presence: dict[str, np.ndarray] = field(default_factory=dict)
    """per optional field: 0 absent, 1 present, NULL written as null"""

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def record(self, row: int) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, values in self.columns.items():
            mark = self.presence[name][row] if name in self.presence else 1
            if mark:
                out[name] = None if mark == NULL else _plain(values[row])
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
                    values.append(self.columns[name][picked].tolist())
                elif mark == NULL:
                    keys.append(name)
                    values.append([None] * picked.size)
            where.append(at)
            rendered.extend(dumps(dict(zip(keys, row, strict=True))) for row in zip(*values, strict=True))
        if len(where) <= 1:
            return rendered
        order = np.argsort(np.concatenate(where), kind="stable").tolist()
        return [rendered[k] for k in order]


def _plain(value: object) -> object:
    """A Python scalar for orjson and for defects to edit (numpy integers become int)."""
    return value.item() if isinstance(value, np.generic) else value


def event_ids(prefix: str, count: int) -> np.ndarray:
    """Distinct ids for the valid events of one topic-day: `<prefix>-0000001`, ..."""
    return np.array([f"{prefix}-{i:07d}" for i in range(count)], dtype=object)
