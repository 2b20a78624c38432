"""The identity vault: pseudonym → normalized id, kept apart from the lake.

Only the tracers' export re-identifies people, through this vault. The lander
adds one file per raw segment (the segment's `topic+partition+incarnation+offset`
name, so a replay overwrites instead of duplicating and a later life of the
topic never overwrites an earlier one). A local run without a configured key
keeps its generated key here too, never in the lake.

Pseudonyms join across days only under one key: the vault records the key's
fingerprint the first time a key is used with it and refuses any other key
after that. The vault directory and the key file are their owner's alone.
"""

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from schemas.lake import VAULT
from tracelake.core.identity import Pseudonymizer
from tracelake.core.lake import filesystem, join, write_atomically, write_bytes_atomically
from tracelake.core.settings import Settings

KEY_FILE = "pseudonymization.key"
IDENTITIES = "identities"
FINGERPRINT_LABEL = b"tracelake pseudonymization key fingerprint"
FINGERPRINT_FILE = "key.fingerprint"
OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIRECTORY = 0o700


class VaultKeyError(RuntimeError):
    """The pseudonymization key is missing, or is not the one this vault was built with."""


class MissingKeyError(VaultKeyError):
    """A service started without TRACELAKE_PSEUDONYMIZATION_KEY."""


class WrongKeyError(VaultKeyError):
    """A key other than the vault's: its pseudonyms would not join what the lake already holds."""


def resolve_key(settings: Settings, *, local_run: bool, announce: Callable[[str], None] | None = None) -> bytes:
    """The configured key; for local runs only, a random key kept in the vault (made once).

    Either way, the key this vault was built with, or WrongKeyError.
    """
    vault = settings.vault_location
    if settings.pseudonymization_key is not None:
        key = settings.pseudonymization_key.get_secret_value().encode("utf-8")
    elif not local_run:
        raise MissingKeyError(
            "no pseudonymization key: set TRACELAKE_PSEUDONYMIZATION_KEY (at least 16 characters) "
            "before starting a service; only local runs (demo, run) may generate one"
        )
    else:
        key = _kept_key(vault) or _generated_key(vault, announce)
    vouch_for_key(vault, key)
    return key


def _vault_file(vault: str, name: str) -> bytes | None:
    """A small file of the vault's root, stripped; None when it does not exist."""
    fs, root = filesystem(vault)
    path = join(root, name)
    if fs.get_file_info(path).type != pa.fs.FileType.File:
        return None
    with fs.open_input_stream(path) as stream:
        return bytes(stream.read()).strip()


def _kept_key(vault: str) -> bytes | None:
    return _vault_file(vault, KEY_FILE)


def _generated_key(vault: str, announce: Callable[[str], None] | None) -> bytes:
    """A random key written to the vault, readable by its owner only from the moment it exists."""
    if recorded_fingerprint(vault) is not None or _any_pair(vault) is not None:
        raise WrongKeyError(
            f"the identity vault {vault} was built with a key that is neither configured nor kept in it: "
            f"set TRACELAKE_PSEUDONYMIZATION_KEY to that key (or restore {KEY_FILE}); a new key would give "
            "everyone new pseudonyms"
        )
    fs, root = filesystem(vault)
    _create_vault(fs, root)
    key = secrets.token_hex(32).encode("ascii")
    path = join(root, KEY_FILE)
    if isinstance(fs, pa.fs.LocalFileSystem):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE)
        with os.fdopen(descriptor, "wb") as out:
            out.write(key + b"\n")
    else:
        with fs.open_output_stream(path) as stream:
            stream.write(key + b"\n")
    if announce is not None:
        announce(
            "No pseudonymization key configured: generated a random one at "
            f"{join(vault, KEY_FILE)} (kept with the identity vault, never in the lake)."
        )
    return key


def _create_vault(fs: pa.fs.FileSystem, root: str) -> None:
    """The vault's root, created readable by its owner only (an existing one is left as it is)."""
    if not isinstance(fs, pa.fs.LocalFileSystem):
        fs.create_dir(root, recursive=True)
        return
    parent = os.path.dirname(root.rstrip("/"))
    if parent:
        os.makedirs(parent, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.mkdir(root, OWNER_ONLY_DIRECTORY)


def recorded_fingerprint(vault: str) -> str | None:
    """The fingerprint of the key the vault was first used with; None before any key was."""
    recorded = _vault_file(vault, FINGERPRINT_FILE)
    if not recorded:
        return None
    return recorded.decode("ascii", "replace")


def vouch_for_key(vault: str, key: bytes, *, record: bool = True) -> None:
    """Record the key's fingerprint in a vault that has none; WrongKeyError if the vault knows another key.

    A vault from before fingerprints is checked against one of its pairs
    instead: the pseudonym must be the key's HMAC of the pair's id. `record`
    False only checks (for stages that read the vault but add nothing to it).
    """
    fingerprint = key_fingerprint(key)
    recorded = recorded_fingerprint(vault)
    if recorded is None:
        pair = _any_pair(vault)
        if pair is not None and Pseudonymizer(key).pseudonym(pair[1]) != pair[0]:
            raise _wrong_key(vault, "the pseudonyms already in it")
        if not record:
            return
        recorded = _record_fingerprint(vault, fingerprint)
    if recorded != fingerprint:
        raise _wrong_key(vault, f"the key whose fingerprint is in {FINGERPRINT_FILE}")


def _wrong_key(vault: str, built_with: str) -> WrongKeyError:
    return WrongKeyError(
        f"the pseudonymization key is not the one the identity vault {vault} was built with ({built_with}): "
        "with it nobody's pseudonym would join their earlier check-ins. Use that key, or start a new lake "
        "with a new vault (TRACELAKE_VAULT)"
    )


def _record_fingerprint(vault: str, fingerprint: str) -> str:
    """Write the fingerprint unless someone already did; returns whichever is recorded now."""
    fs, root = filesystem(vault)
    _create_vault(fs, root)
    data = (fingerprint + "\n").encode("ascii")
    write_bytes_atomically(data, fs, join(root, FINGERPRINT_FILE), keep_existing=True)
    return recorded_fingerprint(vault) or fingerprint


def _any_pair(vault: str) -> tuple[str, str] | None:
    """One (pseudonym, person_id) pair from the vault's files, if it holds any."""
    fs, root = filesystem(vault)
    directory = join(root, IDENTITIES)
    if fs.get_file_info(directory).type != pa.fs.FileType.Directory:
        return None
    dataset = ds.dataset(directory, format="parquet", filesystem=fs, schema=VAULT)
    for batch in dataset.to_batches(filter=pc.field("person_id").is_valid() & pc.field("pseudonym").is_valid()):
        if batch.num_rows:
            return str(batch.column("pseudonym")[0]), str(batch.column("person_id")[0])
    return None


def write_identities(vault: str, name: str, pairs: pa.Table) -> None:
    """Write one vault file of (pseudonym, person_id) pairs (a `VAULT` table), atomically."""
    table = pairs.select(VAULT.names).cast(VAULT)
    fs, root = filesystem(vault)
    directory = join(root, IDENTITIES)
    fs.create_dir(directory, recursive=True)
    final = join(directory, name)
    write_atomically(table, fs, final)


def read_identities(vault: str, pseudonyms: pa.Array | pa.ChunkedArray | None = None) -> pa.Table:
    """Every (pseudonym, person_id) pair in the vault, once each; only those of `pseudonyms` when given.

    Narrowing to the pseudonyms a caller needs (an export names thousands of
    people; the vault holds the whole province) before making pairs distinct
    keeps the hashing to one pass over the vault.
    """
    fs, root = filesystem(vault)
    directory = join(root, IDENTITIES)
    if fs.get_file_info(directory).type != pa.fs.FileType.Directory:
        return VAULT.empty_table()
    table = ds.dataset(directory, format="parquet", filesystem=fs, schema=VAULT).to_table()
    if pseudonyms is not None:
        table = table.filter(pc.is_in(table["pseudonym"], value_set=pc.unique(pseudonyms)))
    unique = table.group_by(["pseudonym"]).aggregate([("person_id", "min")])
    return unique.rename_columns(["pseudonym", "person_id"])


def key_fingerprint(key: bytes) -> str:
    """HMAC-SHA256 of a fixed label under the key: names the key in records without revealing it."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def vault_key_fingerprint(vault: str) -> str | None:
    """The fingerprint of the key this vault's pairs were made with: the recorded one, else its key file's;
    None when it has neither."""
    recorded = recorded_fingerprint(vault)
    if recorded is not None:
        return recorded
    key = _kept_key(vault)
    return None if key is None else key_fingerprint(key)
