import pytest

from tracelake.identity import Pseudonymizer, normalize_person_id

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
