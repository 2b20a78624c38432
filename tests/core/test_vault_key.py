"""One key per vault: recorded the first time it is used, refused when it changes; the key file its owner's only."""

import stat
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import SecretStr

from schemas.lake import VAULT
from tracelake.core.identity import Pseudonymizer
from tracelake.core.settings import Settings
from tracelake.core.vault import (
    FINGERPRINT_FILE,
    KEY_FILE,
    WrongKeyError,
    key_fingerprint,
    recorded_fingerprint,
    resolve_key,
    vault_key_fingerprint,
    vouch_for_key,
    write_identities,
)

KEY = "vault-test-key-0123456789abcdef"
OTHER = "another-key-0123456789abcdefgh"


def _settings(tmp_path: Path, key: str | None) -> Settings:
    return Settings(lake=str(tmp_path / "lake"), pseudonymization_key=None if key is None else SecretStr(key))


def test_the_first_key_is_recorded_and_another_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path, KEY)
    assert resolve_key(settings, local_run=False) == KEY.encode()
    assert recorded_fingerprint(settings.vault_location) == key_fingerprint(KEY.encode())
    assert (Path(settings.vault_location) / FINGERPRINT_FILE).read_text().strip() == key_fingerprint(KEY.encode())
    assert resolve_key(settings, local_run=False) == KEY.encode()  # the same key again is fine

    with pytest.raises(WrongKeyError, match=r"not the one the identity vault .* was built with"):
        resolve_key(_settings(tmp_path, OTHER), local_run=False)
    with pytest.raises(WrongKeyError):
        resolve_key(_settings(tmp_path, OTHER), local_run=True)
    assert recorded_fingerprint(settings.vault_location) == key_fingerprint(KEY.encode())


def test_the_fingerprint_reveals_nothing_of_the_key_and_differs_per_key() -> None:
    one, other = key_fingerprint(KEY.encode()), key_fingerprint(OTHER.encode())
    assert one != other
    assert len(one) == 64
    assert KEY.encode().hex() not in one


def test_a_generated_key_is_its_owners_only_from_the_start(tmp_path: Path) -> None:
    settings = _settings(tmp_path, None)
    key = resolve_key(settings, local_run=True)
    vault = Path(settings.vault_location)
    assert stat.S_IMODE(vault.stat().st_mode) == 0o700
    assert stat.S_IMODE((vault / KEY_FILE).stat().st_mode) == 0o600
    assert (vault / KEY_FILE).read_bytes().strip() == key
    assert resolve_key(settings, local_run=True) == key  # kept, not made again
    assert vault_key_fingerprint(str(vault)) == key_fingerprint(key)


def test_a_configured_key_makes_the_vault_its_owners_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path, KEY)
    resolve_key(settings, local_run=False)
    assert stat.S_IMODE(Path(settings.vault_location).stat().st_mode) == 0o700
    assert vault_key_fingerprint(settings.vault_location) == key_fingerprint(KEY.encode())


def test_a_lost_key_file_is_not_replaced_by_a_new_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path, None)
    resolve_key(settings, local_run=True)
    (Path(settings.vault_location) / KEY_FILE).unlink()
    with pytest.raises(WrongKeyError, match="neither configured nor kept"):
        resolve_key(settings, local_run=True)
    assert not (Path(settings.vault_location) / KEY_FILE).exists()


def _legacy_vault(vault: Path, key: str) -> None:
    """A vault from before fingerprints: pairs only."""
    person = "+84912345678"
    pairs = pa.table({"pseudonym": [Pseudonymizer(key.encode()).pseudonym(person)], "person_id": [person]},
                     schema=VAULT)
    write_identities(str(vault), "checkins+0+00000000000000000000.parquet", pairs)


def test_a_vault_from_before_fingerprints_is_checked_against_its_pairs(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    _legacy_vault(vault, KEY)
    with pytest.raises(WrongKeyError, match="pseudonyms already in it"):
        vouch_for_key(str(vault), OTHER.encode())
    assert recorded_fingerprint(str(vault)) is None
    with pytest.raises(WrongKeyError, match="neither configured nor kept"):
        resolve_key(Settings(lake=str(tmp_path / "lake"), vault=str(vault)), local_run=True)
    vouch_for_key(str(vault), KEY.encode())
    assert recorded_fingerprint(str(vault)) == key_fingerprint(KEY.encode())


def test_checking_only_records_nothing(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vouch_for_key(str(vault), KEY.encode(), record=False)
    assert not vault.exists()


def test_two_keys_racing_for_a_new_vault_leave_one_recorded_and_refuse_the_other(tmp_path: Path) -> None:
    vault = str(tmp_path / "vault")
    keys = [KEY.encode(), OTHER.encode()] * 6
    outcomes: dict[int, bool] = {}

    def vouch(index: int) -> None:
        try:
            vouch_for_key(vault, keys[index])
            outcomes[index] = True
        except WrongKeyError:
            outcomes[index] = False

    racers = [threading.Thread(target=vouch, args=(index,)) for index in range(len(keys))]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(30)
    recorded = recorded_fingerprint(vault)
    assert recorded in {key_fingerprint(KEY.encode()), key_fingerprint(OTHER.encode())}
    assert outcomes == {index: key_fingerprint(key) == recorded for index, key in enumerate(keys)}
    assert [path.name for path in (tmp_path / "vault").iterdir()] == [FINGERPRINT_FILE]
