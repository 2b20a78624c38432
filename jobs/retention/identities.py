"""The identity vault after a purge: only the pairs of people whom the kept raw rows still name.

Vault files are cut per Kafka segment, not per day, and a lander writes each
person's pair once per process, so a pair still needed may sit in a file
landed long ago: files are not deleted by age but rewritten without the
pairs no kept raw row references (written whole under a hidden name, then
renamed over the old file, or deleted when nothing is left).

A lander running meanwhile may land a row of a person whose pair it wrote
before the purge and will not write again; so the purge first renews the
vault's purge mark (the lander forgets which pairs it wrote when the mark
changes), and after rewriting it looks at the raw files landed during the
purge and writes back the removed pairs they name.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from schemas.lake import RAW, VAULT
from tracelake.core import duckdb_memory
from tracelake.core.lake import Lake, children, filesystem, is_part_file, join, partition_day, write_atomically
from tracelake.core.vault import IDENTITIES

PSEUDONYM_COLUMNS: dict[str, tuple[str, ...]] = {
    topic: tuple(name for name in schema.names if name.endswith("_pseudonym")) for topic, schema in RAW.items()
}
"""The columns of each raw topic that name a person (venues name none)."""


@dataclass
class IdentitiesPurged:
    pairs_removed: int = 0
    files_rewritten: int = 0
    files_deleted: int = 0
    pairs_restored: int = 0
    """Removed pairs written back because a raw file landed during the purge names them."""

    @property
    def changed(self) -> bool:
        return bool(self.pairs_removed or self.files_rewritten or self.files_deleted)


RawListing = dict[str, tuple[str, int | None, int | None]]
"""Path → (topic, size, mtime in ns) of every visible raw file that names people."""


def list_raw(lake_root: str) -> RawListing:
    fs, root = filesystem(lake_root)
    lake = Lake(root)
    listing: RawListing = {}
    for topic, columns in PSEUDONYM_COLUMNS.items():
        if not columns:
            continue
        for partition in children(fs, lake.raw(topic)):
            if partition.type != pafs.FileType.Directory or partition_day(partition.base_name) is None:
                continue
            for entry in children(fs, partition.path):
                if entry.type == pafs.FileType.File and is_part_file(entry.base_name):
                    listing[entry.path] = (topic, entry.size, entry.mtime_ns)
    return listing


def _register_pseudonyms(con: duckdb.DuckDBPyConnection, lake_root: str, listing: RawListing, name: str) -> None:
    """Temp table `name`: the distinct pseudonyms of the listed raw files."""
    fs, _ = filesystem(lake_root)
    selects = []
    for topic, columns in PSEUDONYM_COLUMNS.items():
        files = sorted(path for path, (listed, _, _) in listing.items() if listed == topic)
        if not files:
            continue
        con.register(f"{name}_{topic}", ds.dataset(files, schema=RAW[topic], filesystem=fs, format="parquet"))
        selects += [f"SELECT {column} AS pseudonym FROM {name}_{topic}" for column in columns]
    body = " UNION ALL ".join(selects) if selects else "SELECT NULL::VARCHAR AS pseudonym WHERE false"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT DISTINCT pseudonym FROM ({body})")


def _vault_files(fs: pafs.FileSystem, directory: str) -> list[str]:
    return sorted(
        entry.path
        for entry in children(fs, directory)
        if entry.type == pafs.FileType.File and is_part_file(entry.base_name)
    )


def prune_identities(vault: str, lake_root: str, now: datetime) -> IdentitiesPurged:
    """Keep in the vault only the pairs of pseudonyms that the lake's raw files name."""
    purged = IdentitiesPurged()
    fs, root = filesystem(vault)
    directory = join(root, IDENTITIES)
    files = _vault_files(fs, directory)
    if not files:
        return purged
    listing = list_raw(lake_root)
    con = duckdb_memory.connect()
    try:
        _register_pseudonyms(con, lake_root, listing, "referenced")
        pairs = ds.dataset(files, schema=VAULT, filesystem=fs, format="parquet")
        con.register("vault_rows", pairs.scanner(columns=["__filename", "pseudonym"]).to_reader())
        affected = [
            file
            for (file,) in con.execute(
                "SELECT DISTINCT __filename FROM vault_rows v ANTI JOIN referenced r ON v.pseudonym = r.pseudonym"
            ).fetchall()
        ]
        if not affected:
            return purged
        con.register(
            "affected_rows",
            ds.dataset(affected, schema=VAULT, filesystem=fs, format="parquet")
            .scanner(columns=["__filename", *VAULT.names])
            .to_reader(),
        )
        judged = con.sql(
            """
            SELECT v.__filename AS file, v.pseudonym, v.person_id, r.pseudonym IS NOT NULL AS kept
            FROM affected_rows v LEFT JOIN referenced r ON v.pseudonym = r.pseudonym
            ORDER BY file
            """
        ).to_arrow_table()
        removed = judged.filter(pc.invert(judged["kept"])).select(VAULT.names).cast(VAULT)
        purged.pairs_removed = removed.num_rows
        per_file = judged.group_by("file", use_threads=False).aggregate([("file", "count")])
        start = 0
        for file, rows in zip(per_file["file"].to_pylist(), per_file["file_count"].to_pylist(), strict=True):
            rows_of_file = judged.slice(start, rows)
            start += rows
            kept = rows_of_file.filter(rows_of_file["kept"])
            if kept.num_rows:
                write_atomically(kept.select(VAULT.names).cast(VAULT), fs, file)
                purged.files_rewritten += 1
            else:
                fs.delete_file(file)
                purged.files_deleted += 1
        purged.pairs_restored = _restore_landed_meanwhile(con, lake_root, listing, removed, fs, directory, now)
        purged.pairs_removed -= purged.pairs_restored
    finally:
        con.close()
    return purged


def _restore_landed_meanwhile(
    con: duckdb.DuckDBPyConnection,
    lake_root: str,
    listing: RawListing,
    removed: pa.Table,
    fs: pafs.FileSystem,
    directory: str,
    now: datetime,
) -> int:
    """Write back the removed pairs that raw files landed (or rewritten) since `listing` name."""
    fresh = {path: entry for path, entry in list_raw(lake_root).items() if listing.get(path) != entry}
    if not fresh or not removed.num_rows:
        return 0
    _register_pseudonyms(con, lake_root, fresh, "landed_meanwhile")
    con.register("removed_pairs", removed)
    restored = con.sql(
        "SELECT DISTINCT p.pseudonym, p.person_id FROM removed_pairs p SEMI JOIN landed_meanwhile l "
        "ON p.pseudonym = l.pseudonym"
    ).to_arrow_table()
    if restored.num_rows:
        stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        write_atomically(restored.cast(VAULT), fs, join(directory, f"restored-{stamp}.parquet"))
    return restored.num_rows
