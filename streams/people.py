"""The lander's memo of people: each written form of an id, its normalized id and its pseudonym.

An event names one or two people, and in a day of events each person comes
back many times. One dict lookup per name gives both what the validator
needs (is it an id, is it the same person) and what the lake stores (the
pseudonym); a spelling is normalized and hashed only the first time the
lander meets it.
"""

from collections.abc import Callable
from operator import itemgetter
from typing import Any

import pyarrow as pa

from tracelake.identity import normalize_spelling

Person = tuple[str, str]
"""(normalized id, pseudonym)"""
_ID: Callable[[Any], str] = itemgetter(0)
_PSEUDONYM: Callable[[Any], str] = itemgetter(1)


class People:
    """spelling → (normalized id, pseudonym), or None for a spelling that is not an id."""

    CAP = 1 << 19
    """Entries kept before the memo starts over: about 150 MB."""

    def __init__(self, pseudonym: Callable[[str], str]) -> None:
        self.pseudonym = pseudonym
        self._known: dict[str, Person | None] = {}

    def _learn(self, spellings: list[str]) -> None:
        """Remember the spellings of `spellings` not met yet (starting over first if the memo would overflow)."""
        known = self._known
        newcomers = set(spellings).difference(known)
        if len(known) + len(newcomers) > self.CAP:
            known.clear()
            newcomers = set(spellings)
        for spelling in newcomers:
            normalized = normalize_spelling(spelling)
            known[spelling] = None if normalized is None else (normalized, self.pseudonym(normalized))

    def lookup(self, spellings: list[str]) -> tuple[pa.Array, pa.Array]:
        """Normalized ids and pseudonyms of `spellings`, null where a spelling is not an id."""
        known = self._known
        people = list(map(known.get, spellings))
        if None in people:  # someone new, or a spelling that is not an id
            self._learn(spellings)
            people = list(map(known.get, spellings))
        try:
            return pa.array(list(map(_ID, people)), pa.string()), pa.array(list(map(_PSEUDONYM, people)), pa.string())
        except TypeError:  # a spelling that is not an id
            pass
        ids = [None if person is None else person[0] for person in people]
        pseudonyms = [None if person is None else person[1] for person in people]
        return pa.array(ids, pa.string()), pa.array(pseudonyms, pa.string())

    def pseudonyms(self, normalized: list[str]) -> pa.Array:
        """Pseudonyms of ids already normalized (the records the reference judge accepted)."""
        return pa.array([self.pseudonym(person_id) for person_id in normalized], pa.string())
