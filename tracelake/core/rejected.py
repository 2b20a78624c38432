"""Rejected payloads: the bytes of every quarantined message, kept in the identity area.

A message the lander refuses may still name people (a malformed check-in
carries its phone number), so its bytes never reach the lake: the lake's
quarantine keeps the reason, the Kafka position and the event_id's pseudonym;
the vault keeps the payloads under `rejected/<topic>/date=<landing day>/`, one
file per segment with the segment's file name, for the data engineers who
replay or fix them (CONTRACT.md section 3).
"""

from datetime import date

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from schemas.lake import REJECTED
from tracelake.core.lake import filesystem, join, write_atomically

REJECTED_DIR = "rejected"


def rejected_topic(vault_root: str, topic: str) -> str:
    """The directory of a topic's rejected payloads, one `date=` directory per landing day."""
    return join(vault_root, REJECTED_DIR, topic)


def rejected_day(vault_root: str, topic: str, day: date) -> str:
    return join(rejected_topic(vault_root, topic), f"date={day.isoformat()}")


def write_rejected(fs: pafs.FileSystem, vault_root: str, topic: str, day: date, name: str, rows: pa.Table) -> None:
    """Write the payloads of `rows` (any table with the `REJECTED` columns) as one file, atomically."""
    directory = rejected_day(vault_root, topic, day)
    fs.create_dir(directory, recursive=True)
    write_atomically(rows.select(REJECTED.names).cast(REJECTED), fs, join(directory, name))


def read_rejected(vault: str, topic: str) -> pa.Table:
    """Every rejected payload of `topic` in the vault, with its landing day as a `date` column."""
    fs, root = filesystem(vault)
    directory = rejected_topic(root, topic)
    day = pa.field("date", pa.date32())
    if fs.get_file_info(directory).type != pafs.FileType.Directory:
        return REJECTED.append(day).empty_table()
    partitioning = ds.partitioning(pa.schema([day]), flavor="hive")
    dataset = ds.dataset(directory, format="parquet", filesystem=fs, schema=REJECTED.append(day),
                         partitioning=partitioning)
    return dataset.to_table()
