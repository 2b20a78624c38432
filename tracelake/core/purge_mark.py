"""The vault's purge mark: how a running lander learns that pairs it wrote may be gone.

A lander writes each person's (pseudonym, id) pair once per process; a purge
removes the pairs of people no kept raw row names any more. A person seen
again after that needs their pair written again, so every purge renews this
mark first, and a lander that finds it changed forgets which pairs it wrote.
The name starts with `_`: readers of the vault's pairs skip it.
"""

import secrets

import pyarrow.fs as pafs

from tracelake.core.lake import filesystem, join
from tracelake.core.vault import IDENTITIES

PURGE_MARK = "_purged"


def mark_purge(vault: str) -> None:
    """Renew the mark before anything is purged."""
    fs, root = filesystem(vault)
    directory = join(root, IDENTITIES)
    fs.create_dir(directory, recursive=True)
    with fs.open_output_stream(join(directory, PURGE_MARK)) as stream:
        stream.write(secrets.token_hex(16).encode("ascii"))


def purge_mark(vault: str) -> bytes | None:
    """The current mark; None while the vault was never purged."""
    fs, root = filesystem(vault)
    path = join(root, IDENTITIES, PURGE_MARK)
    if fs.get_file_info(path).type != pafs.FileType.File:
        return None
    with fs.open_input_stream(path) as stream:
        return bytes(stream.read())
