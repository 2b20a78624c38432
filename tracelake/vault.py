"""The identity vault: pseudonym → normalized id, kept apart from the lake.

Only the tracers' export re-identifies people, through this vault. The lander
adds one file per raw segment (same `topic+partition+offset` name, so a replay
overwrites instead of duplicating). A local run without a configured key keeps
its generated key here too, never in the lake.
"""

import hashlib
import hmac
import secrets
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from schemas.lake import VAULT
from tracelake.lake import filesystem, join, write_atomically
from tracelake.settings import Settings

KEY_FILE = "pseudonymization.key"
IDENTITIES = "identities"
FINGERPRINT_LABEL = b"tracelake pseudonymization key fingerprint"


class MissingKeyError(RuntimeError):
    """A service started without TRACELAKE_PSEUDONYMIZATION_KEY."""


def resolve_key(settings: Settings, *, local_run: bool, announce: Callable[[str], None] | None = None) -> bytes:
    """The configured key; for local runs only, a random key kept in the vault (made once)."""
    if settings.pseudonymization_key is not None:
        return settings.pseudonymization_key.get_secret_value().encode("utf-8")
    if not local_run:
        raise MissingKeyError(
            "no pseudonymization key: set TRACELAKE_PSEUDONYMIZATION_KEY (at least 16 characters) "
            "before starting a service; only local runs (demo, run) may generate one"
        )
    fs, root = filesystem(settings.vault_location)
    path = join(root, KEY_FILE)
    if fs.get_file_info(path).type == pa.fs.FileType.File:
        with fs.open_input_stream(path) as stream:
            return stream.read().strip()
    fs.create_dir(root, recursive=True)
    key = secrets.token_hex(32).encode("ascii")
    with fs.open_output_stream(path) as stream:
        stream.write(key + b"\n")
    if announce is not None:
        announce(
            "No pseudonymization key configured: generated a random one at "
            f"{join(settings.vault_location, KEY_FILE)} (kept with the identity vault, never in the lake)."
        )
    return key


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
    """The fingerprint of the key this vault's pairs were made with: its key file's; None when it has none."""
    fs, root = filesystem(vault)
    path = join(root, KEY_FILE)
    if fs.get_file_info(path).type != pa.fs.FileType.File:
        return None
    with fs.open_input_stream(path) as stream:
        return key_fingerprint(stream.read().strip())
