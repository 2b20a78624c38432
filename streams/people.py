"""The lander's memo of people: each written form of an id, its normalized id and its pseudonym.

An event names one or two people, and in a day of events each person comes
back many times. One dict lookup per name gives the person's row in two
Arrow columns (normalized ids, pseudonyms), and a column of rows becomes the
chunk's id and pseudonym columns by `take`, at C speed. A spelling is
normalized and hashed only the first time the lander meets it; a chunk that
brings newcomers appends them by copying the two columns (about 5 ms at the
cap, against some 15 ms to normalize and hash a few thousand newcomers).
"""

from collections.abc import Callable, Sequence

import pyarrow as pa

from tracelake.core.identity import normalize_spelling

NOT_AN_ID = 0
"""The row of every spelling that is not an id: null id, null pseudonym."""


def _column(values: Sequence[str | None]) -> pa.Array:
    return pa.array(values, pa.string())


class People:
    """spelling → row of (normalized id, pseudonym); row NOT_AN_ID for a spelling that is not an id."""

    CAP = 1 << 19
    """Spellings kept before the memo starts over: about 100 MB."""

    def __init__(self, pseudonym: Callable[[str], str]) -> None:
        self.pseudonym = pseudonym
        self._start_over()

    def _start_over(self) -> None:
        self._rows: dict[str, int] = {}
        self._ids = _column([None])
        self._pseudonyms = _column([None])

    def _learn(self, spellings: list[str]) -> None:
        """Remember the spellings of `spellings` not met yet (starting over first if the memo would overflow)."""
        newcomers = set(spellings).difference(self._rows)
        if len(self._rows) + len(newcomers) > self.CAP:
            self._start_over()
            newcomers = set(spellings)
        rows = self._rows
        ids: list[str] = []
        for spelling in newcomers:
            normalized = normalize_spelling(spelling)
            if normalized is None:
                rows[spelling] = NOT_AN_ID
            else:
                rows[spelling] = len(self._ids) + len(ids)
                ids.append(normalized)
        if ids:
            self._ids = pa.concat_arrays([self._ids, _column(ids)])
            self._pseudonyms = pa.concat_arrays([self._pseudonyms, _column(list(map(self.pseudonym, ids)))])

    def lookup(self, spellings: list[str]) -> tuple[pa.Array, pa.Array]:
        """Normalized ids and pseudonyms of `spellings`, null where a spelling is not an id."""
        rows = list(map(self._rows.get, spellings))
        if None in rows:  # someone new, or a spelling that is not an id
            self._learn(spellings)
            rows = list(map(self._rows.get, spellings))
        taken = pa.array(rows, pa.int32())
        return self._ids.take(taken), self._pseudonyms.take(taken)

    def pseudonyms(self, normalized: list[str]) -> pa.Array:
        """Pseudonyms of ids already normalized (the records the reference judge accepted)."""
        return pa.array([self.pseudonym(person_id) for person_id in normalized], pa.string())
