"""Who a person is: one normalized id per person, and the keyed pseudonym analysts see.

Phones in any common Vietnamese spelling become E.164 (`+84912345678`); a
12-digit citizen ID (CCCD) stays as it is. Anything else is not an id. A CCCD
starts with its province code, 001 to 096: twelve digits that do not
(`842438123456`, a Hanoi landline with its country code) are tried as a phone.
Digits of other scripts (fullwidth `０９１２…`, Arabic-Indic `٠٩١٢…`) count as
the ASCII digits they stand for, so one person never gets two ids.

libphonenumber decides, but it costs about 50 µs a call, and a province has
millions of people the lander meets for the first time. For the plain
spellings (ASCII digits with spaces, dots or dashes, at most one leading `+`)
its verdict depends only on the spelling's *shape*: whether there is a `+`,
the first two digits, the class of the next few digits in VN's metadata
patterns and the digit count. So each shape asks libphonenumber once, with the
first number of that shape, and every later number of that shape gets the same
verdict: not an id, or `+84` and the digits after the same prefix.
"""

import hashlib
import re
import unicodedata
from collections.abc import Iterable

import phonenumbers

_CITIZEN_ID = re.compile(r"0(?:0[1-9]|[1-8][0-9]|9[0-6])[0-9]{9}")
"""A CCCD: a province code 001..096, then nine digits."""
_PHONE_SPELLING = re.compile(r"[(\s]*\+?[\d\s.\-()]+")
_VN_COUNTRY_CODE = 84
_E164_PREFIX = "+84"

_LONGEST_SPELLING = 250
"""libphonenumber refuses any longer text; refusing it first also keeps the spelling regexes linear."""
_PLAIN_SPELLING = re.compile(r"\+?[0-9][0-9 .\-]{3,63}")
"""Spellings whose verdict is a function of their shape (see `_shape`)."""
_SEPARATORS = str.maketrans("", "", " .-")
_DIGIT_CLASS = str.maketrans("0123456789", "0123436733")
"""VN's general pattern `[12]\\d{9}|[135-9]\\d{8}|[16]\\d{6,7}|7\\d{6}` and national prefix `0` tell
apart 0, 1, 2, 4, 6, 7 and {3, 5, 8, 9}; the class keeps exactly those distinctions."""
_CLASSED_DIGITS = 6
"""libphonenumber looks at most at the first five digits of a plain VN spelling (the `84` and two
national prefixes); one more for margin."""
_SHAPES_CAP = 100_000
_shapes: dict[tuple[bool, str, str, int], int | None] = {}
"""shape → how many leading digits the E.164 form drops, or None when the shape is not an id."""


def _shape(plus: bool, digits: str) -> tuple[bool, str, str, int] | None:
    if digits.startswith("00"):
        return None  # the international dialling prefix: libphonenumber reads a country code after it
    head = digits[:2]
    if plus and head != "84":
        return None  # another country, or a `+0...` that libphonenumber retries without the plus
    return plus, head, digits[2:_CLASSED_DIGITS].translate(_DIGIT_CLASS), len(digits)


def _by_libphonenumber(text: str) -> str | None:
    if not _PHONE_SPELLING.fullmatch(text) or not any(ch.isdigit() for ch in text):
        return None
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != _VN_COUNTRY_CODE or not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


KNOWN_IDS_CAP = 1 << 19
known_ids: dict[str, str | None] = {}
"""Spellings already normalized (a plain dict: its `get` is twice as fast as an lru_cache hit)."""


def normalize_person_id(raw: str) -> str | None:
    """The normalized id for one written form, or None when it is neither phone nor CCCD."""
    try:
        return known_ids[raw]
    except KeyError:
        pass
    normalized = normalize_spelling(raw)
    if len(known_ids) >= KNOWN_IDS_CAP:
        known_ids.clear()
    known_ids[raw] = normalized
    return normalized


def _ascii_digits(text: str) -> str:
    """Every decimal digit of any script as its ASCII digit; everything else as it is."""
    if text.isascii():
        return text
    return "".join(
        str(digit) if (digit := unicodedata.decimal(char, None)) is not None else char for char in text
    )


def normalize_spelling(raw: str) -> str | None:
    """`normalize_person_id` without its memo, for callers that keep their own."""
    text = _ascii_digits(raw).strip()
    if len(text) > _LONGEST_SPELLING:
        return None
    if _CITIZEN_ID.fullmatch(text):
        return text
    if not _PLAIN_SPELLING.fullmatch(text):
        return _by_libphonenumber(text)
    plus = text[0] == "+"
    digits = (text[1:] if plus else text).translate(_SEPARATORS)
    shape = _shape(plus, digits)
    if shape is None:
        return _by_libphonenumber(text)
    if shape in _shapes:
        dropped = _shapes[shape]
        return None if dropped is None else _E164_PREFIX + digits[dropped:]
    normalized = _by_libphonenumber(text)
    if len(_shapes) >= _SHAPES_CAP:
        _shapes.clear()
    if normalized is None:
        _shapes[shape] = None
        return None
    dropped = len(digits) - (len(normalized) - len(_E164_PREFIX))
    if normalized.startswith(_E164_PREFIX) and dropped >= 0 and normalized == _E164_PREFIX + digits[dropped:]:
        _shapes[shape] = dropped
    return normalized


EVENT_IDS = b"tracelake event_id\x00"
"""The domain label of event pseudonyms, hashed before the producer's event_id. No normalized person id
starts with it, so an event pseudonym never equals a person pseudonym, whatever the producer wrote."""


class Pseudonymizer:
    """Keyed HMAC-SHA256 of a normalized id: stable for one key, unlinkable across keys.

    The HMAC's padded inner and outer keys are hashed once (RFC 2104), so each
    pseudonym costs two SHA-256 copies instead of a new HMAC object. A domain
    label is hashed once with the inner key too: the pseudonyms of one key and
    two labels never meet, at no cost per pseudonym.
    """

    def __init__(self, key: bytes, domain: bytes = b"") -> None:
        if len(key) < 16:
            raise ValueError("a pseudonymization key needs at least 16 bytes")
        block = hashlib.sha256().block_size
        padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in padded) + domain)
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in padded))

    @classmethod
    def for_events(cls, key: bytes) -> "Pseudonymizer":
        """The lake's event_id: a producer's event_id may be anything, a phone number included."""
        return cls(key, EVENT_IDS)

    def pseudonym(self, person_id: str) -> str:
        inner = self._inner.copy()
        inner.update(person_id.encode("utf-8", "surrogatepass"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:32]

    def pseudonyms(self, texts: Iterable[str | None]) -> list[str | None]:
        """`pseudonym` of each text, None kept: a column at about a microsecond a value; never raises."""
        inner_key, outer_key = self._inner.copy, self._outer.copy
        column: list[str | None] = []
        append = column.append
        for text in texts:
            if text is None:
                append(None)
                continue
            inner = inner_key()
            inner.update(text.encode("utf-8", "surrogatepass"))
            outer = outer_key()
            outer.update(inner.digest())
            append(outer.hexdigest()[:32])
        return column
