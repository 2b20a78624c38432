"""Who a person is: one normalized id per person, and the keyed pseudonym analysts see.

Phones in any common Vietnamese spelling become E.164 (`+84912345678`); a
12-digit citizen ID (CCCD) stays as it is. Anything else is not an id.
"""

import hashlib
import hmac
import re
from functools import lru_cache

import phonenumbers

_CITIZEN_ID = re.compile(r"\d{12}")
_PHONE_SPELLING = re.compile(r"[(\s]*\+?[\d\s.\-()]+")
_VN_COUNTRY_CODE = 84


@lru_cache(maxsize=1 << 20)
def normalize_person_id(raw: str) -> str | None:
    """The normalized id for one written form, or None when it is neither phone nor CCCD."""
    text = raw.strip()
    if _CITIZEN_ID.fullmatch(text):
        return text
    if not _PHONE_SPELLING.fullmatch(text) or not any(ch.isdigit() for ch in text):
        return None
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != _VN_COUNTRY_CODE or not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Pseudonymizer:
    """Keyed HMAC-SHA256 of a normalized id: stable for one key, unlinkable across keys."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a pseudonymization key needs at least 16 bytes")
        self._key = key
        self.pseudonym = lru_cache(maxsize=1 << 20)(self._pseudonym)

    def _pseudonym(self, person_id: str) -> str:
        return hmac.new(self._key, person_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
