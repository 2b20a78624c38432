"""Person ids: phone spellings and CCCDs to one normalized id; keyed pseudonyms."""

import hashlib
import hmac
import random

import pytest

from tracelake.core import identity
from tracelake.core.identity import Pseudonymizer, normalize_person_id

SPELLINGS = ["0912 345 678", "+84912345678", "84-912-345-678", "0912.345.678", "0912345678", "84912345678",
             "+84 912 345 678", "(+84) 912-345-678", "0084912345678"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_contract_spelling_is_one_e164_id(spelling: str) -> None:
    assert normalize_person_id(spelling) == "+84912345678"


def test_citizen_ids_stay_as_they_are() -> None:
    assert normalize_person_id("001099012345") == "001099012345"
    assert normalize_person_id(" 079203004567 ") == "079203004567"


@pytest.mark.parametrize(
    "not_an_id",
    ["", "   ", "12345", "+1 202 555 0100", "0912abc345678", "0912345678901234", "hello", "+", "--",
     "00109901234", "0010990123456"],
)
def test_anything_else_is_not_an_id(not_an_id: str) -> None:
    assert normalize_person_id(not_an_id) is None


def test_landlines_of_possible_length_are_phones() -> None:
    assert normalize_person_id("028 3829 5678") == "+842838295678"


@pytest.mark.parametrize(("spelling", "person"), [
    ("842438123456", "+842438123456"),  # a Hanoi landline with its country code, not a CCCD
    ("842838295678", "+842838295678"),
    ("096123456789", "096123456789"),  # the last province code
    ("001099012345", "001099012345"),
])
def test_twelve_digits_are_a_citizen_id_only_with_a_province_code(spelling: str, person: str) -> None:
    assert normalize_person_id(spelling) == person


@pytest.mark.parametrize("spelling", ["000123456789", "097123456789", "100123456789", "999999999999"])
def test_twelve_digits_with_no_province_code_and_no_phone_are_not_an_id(spelling: str) -> None:
    assert normalize_person_id(spelling) is None


@pytest.mark.parametrize(("spelling", "person"), [
    ("\uff10\uff19\uff11\uff12 \uff13\uff14\uff15 \uff16\uff17\uff18", "+84912345678"),  # fullwidth
    ("\u0660\u0669\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668", "+84912345678"),  # Arabic-Indic
    ("\u06f0\u06f9\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8", "+84912345678"),  # Persian
    ("\u0966\u096f\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e", "+84912345678"),  # Devanagari
    ("0912 \uff13\uff14\uff15 678", "+84912345678"),  # mixed scripts
    ("\uff10\uff17\uff19\uff12\uff10\uff13\uff10\uff10\uff14\uff15\uff16\uff17", "079203004567"),
    ("\u0660\u0667\u0669\u0662\u0660\u0663\u0660\u0660\u0664\u0665\u0666\u0667", "079203004567"),
])
def test_digits_of_other_scripts_are_the_same_person(spelling: str, person: str) -> None:
    assert normalize_person_id(spelling) == person
    assert identity.normalize_spelling(spelling) == person
    assert person.isascii()


@pytest.mark.parametrize("spelling", ["(" * 200_000 + "x", " (" * 100_000 + "0912345678", "0" * 251, "9" * 200_000])
def test_a_spelling_of_200_kb_is_not_an_id_and_is_judged_at_once(spelling: str) -> None:
    assert identity.normalize_spelling(spelling) is None  # the phone pattern backtracks quadratically without a cap


def test_the_length_cap_is_libphonenumbers_own() -> None:
    longest, too_long = "0912" + " " * 240 + "345678", "0912" + " " * 241 + "345678"
    assert (len(longest), len(too_long)) == (250, 251)
    assert identity.normalize_spelling(longest) == identity._by_libphonenumber(longest) == "+84912345678"
    assert identity.normalize_spelling(too_long) is identity._by_libphonenumber(too_long) is None


@pytest.mark.parametrize("spelling", ["\u00b2912345678", "09\u00b9\u00b2345678", "\u2460\u2461" * 6])
def test_digit_like_signs_that_are_not_decimal_digits_are_not_an_id(spelling: str) -> None:
    assert normalize_person_id(spelling) is None


def test_pseudonyms_are_stable_per_key_and_differ_across_keys() -> None:
    one = Pseudonymizer(b"k" * 32)
    again = Pseudonymizer(b"k" * 32)
    other = Pseudonymizer(b"o" * 32)
    person = normalize_person_id("0912 345 678")
    assert person is not None
    assert one.pseudonym(person) == again.pseudonym(person)
    assert one.pseudonym(person) != other.pseudonym(person)
    assert one.pseudonym(person) != one.pseudonym("+84912345679")
    assert person not in one.pseudonym(person)
    assert len(one.pseudonym(person)) == 32


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        Pseudonymizer(b"short")


def _plain_spellings(seed: int, count: int) -> list[str]:
    """Digits with spaces, dots and dashes, a `+` now and then: every shape the fast path remembers."""
    rng = random.Random(seed)
    spellings = []
    for _ in range(count):
        head = rng.choice(["0", "84", "840", "8400", "00", "9", "1", "2", "3", "5", "6", "7", "8", "4", "842", "09"])
        digits = head + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 16)))
        text = "".join(ch + (rng.choice([" ", ".", "-", "  "]) if rng.random() < 0.15 else "") for ch in digits)
        if rng.random() < 0.3:
            text = "+" + text
        spellings.append(text)
    return spellings


def test_remembered_shapes_give_libphonenumbers_verdict() -> None:
    identity._shapes.clear()
    for spelling in _plain_spellings(7, 60_000):
        text = spelling.strip()
        expected = text if identity._CITIZEN_ID.fullmatch(text) else identity._by_libphonenumber(text)
        assert identity.normalize_spelling(spelling) == expected, spelling
    assert len(identity._shapes) > 1_000


def test_twelve_plain_digits_get_a_citizen_id_or_libphonenumbers_verdict() -> None:
    identity._shapes.clear()
    rng = random.Random(12)
    for _ in range(20_000):
        digits = "".join(rng.choice("0123456789") for _ in range(12))
        if rng.random() < 0.3:
            digits = "84" + digits[2:]
        expected = digits if 1 <= int(digits[:3]) <= 96 else identity._by_libphonenumber(digits)
        assert identity.normalize_spelling(digits) == expected, digits


def test_pseudonyms_are_hmac_sha256_for_keys_of_any_length() -> None:
    for key in (b"k" * 16, b"x" * 64, b"y" * 65, b"z" * 200):
        expected = hmac.new(key, b"+84912345678", hashlib.sha256).hexdigest()[:32]
        assert Pseudonymizer(key).pseudonym("+84912345678") == expected


def test_event_pseudonyms_are_hmac_sha256_of_their_label_and_never_a_persons() -> None:
    key = b"k" * 32
    events, people = Pseudonymizer.for_events(key), Pseudonymizer(key)
    for text in ("0912345678", "+84912345678", "001099012345", "ci-+84912345678-2021-08-03"):
        expected = hmac.new(key, identity.EVENT_IDS + text.encode(), hashlib.sha256).hexdigest()[:32]
        assert events.pseudonym(text) == expected == Pseudonymizer.for_events(key).pseudonym(text)
        assert events.pseudonym(text) != people.pseudonym(text)
    assert events.pseudonym("e1") != Pseudonymizer.for_events(b"o" * 32).pseudonym("e1")


def test_a_column_of_pseudonyms_is_each_ones_pseudonym_and_keeps_nulls() -> None:
    events = Pseudonymizer.for_events(b"k" * 32)
    texts = ["e1", None, "0912 345 678", "", "\ud800", "é" * 300]
    column = events.pseudonyms(texts)
    assert column[1] is None
    assert [value for value in column if value is not None] == [
        events.pseudonym(text) for text in texts if text is not None
    ]
    assert all(len(value) == 32 for value in column if value is not None)
