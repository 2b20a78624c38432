"""How a person's id is written on each event: the same phone in many spellings.

Producers copy numbers from forms, apps and paper logs, so one person shows up
as `0912 345 678` on one check-in and `+84912345678` on the next. The pipeline
has to normalize them back to one E.164 number; the simulator's job is to make
sure it must.
"""

import re

import numpy as np

from simulator.population import Population

PHONE_FORMS = ("0912345678", "0912 345 678", "+84912345678", "0912.345.678", "84-912-345-678")
LOYALTY = 0.7
"""Share of events on which a person uses their usual spelling; the rest pick any form."""


def spell_ids(population: Population, person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One written id per event for the given people (an object array of str)."""
    return write_ids(population, person, spellings(population, person, rng))


def spellings(population: Population, person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The form (index into PHONE_FORMS) each event writes its person's phone in: all of `spell_ids`'s draws."""
    usual = population.spelling[person]
    chosen = np.where(rng.random(person.size) < LOYALTY, usual, rng.integers(0, len(PHONE_FORMS), person.size))
    return chosen.astype(np.int8)  # one per event, kept until the events are written


def write_ids(population: Population, person: np.ndarray, form: np.ndarray) -> np.ndarray:
    """The given people's ids written in the given forms (citizen IDs have only one): an object array of str."""
    out = np.empty(person.size, dtype=object)
    phone = population.phone[person]
    by_phone = phone >= 0
    out[by_phone] = format_phones(phone[by_phone], form[by_phone])
    cccd = population.cccd[person[~by_phone]]
    if cccd.size:
        out[~by_phone] = np.strings.zfill(cccd.astype("U12"), 12).astype(object)
    return out


def format_phones(national: np.ndarray, form: np.ndarray) -> np.ndarray:
    """Write 9-digit national mobile numbers in the given forms (indices into PHONE_FORMS)."""
    if national.size == 0:
        return np.empty(0, dtype=object)
    head = (national // 1_000_000).astype("U3")
    mid = np.strings.zfill((national // 1000 % 1000).astype("U3"), 3)
    tail = np.strings.zfill((national % 1000).astype("U3"), 3)
    add = np.strings.add
    out = np.empty(national.size, dtype=object)
    parts = {
        0: ("0", "", ""),
        1: ("0", " ", " "),
        2: ("+84", "", ""),
        3: ("0", ".", "."),
        4: ("84-", "-", "-"),
    }
    for index, (lead, sep1, sep2) in parts.items():
        chosen = form == index
        if chosen.any():
            text = add(add(add(add(add(lead, head[chosen]), sep1), mid[chosen]), sep2), tail[chosen])
            out[chosen] = text.astype(object)
    return out


def respell(written: str, rng: np.random.Generator) -> str:
    """The same person's id in another spelling (a citizen ID has only one)."""
    digits = re.sub(r"\D", "", written)
    if len(digits) == 12 and written.isdigit():
        return written
    national = int(digits[-9:])
    current = PHONE_FORMS.index(_form_of(written)) if _form_of(written) else -1
    choices = [i for i in range(len(PHONE_FORMS)) if i != current]
    form = choices[int(rng.integers(0, len(choices)))]
    return str(format_phones(np.array([national]), np.array([form]))[0])


def _form_of(written: str) -> str | None:
    shape = re.sub(r"\d", "9", written)
    for form in PHONE_FORMS:
        if re.sub(r"\d", "9", form) == shape:
            return form
    return None
