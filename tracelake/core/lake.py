"""Where every table lives under the lake root (a directory or an object-store URI)."""

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

RAW = "raw"
QUARANTINE = "quarantine"
CURATED = "curated"
EXPORTS = "exports"
MANIFESTS = "manifests"
REPORTS = "reports"
PUBLIC = "public"
VALIDATION = "validation"
DUCKDB_FILE = "tracelake.duckdb"

TRACED_TABLES = ("contacts", "exposures", "cases")
"""The curated tables a trace of D writes (the tracers' `exports/exposures` is made from `exposures`)."""
PROVINCE_TABLES = ("notices", "compliance", "coverage", "venue_risk")
WORKLISTS, NOTIFICATIONS, CHANGES = "worklists", "notifications", "changes"
PREDICTION_TABLE, SENSOR_QUALITY_TABLE = "prediction", "sensor_quality"


def join(*parts: str) -> str:
    head, *rest = parts
    return "/".join([head.rstrip("/"), *(part.strip("/") for part in rest)])


SEGMENT_SUFFIX = ".parquet"
_INCARNATION = re.compile(r"[0-9a-z]{1,64}")


@dataclass(frozen=True)
class SegmentName:
    """What a landed file's name says about the Kafka records in it.

    Offsets alone do not identify records: a new broker, or a topic deleted
    and created again, starts at offset 0. So the name also carries the
    topic's `incarnation`; files landed before it did have none.
    """

    topic: str
    partition: int
    incarnation: str | None
    first_offset: int


def segment_file_name(topic: str, partition: int, incarnation: str, first_offset: int) -> str:
    """`topic+partition+incarnation+firstOffset.parquet`: a replay of the same records rewrites the same name.

    Readers never rely on the names' order: a later incarnation's names may sort first.
    """
    if "+" in topic or not _INCARNATION.fullmatch(incarnation):
        raise ValueError(f"cannot name a segment of topic {topic!r} in incarnation {incarnation!r}")
    return f"{topic}+{partition}+{incarnation}+{first_offset:020d}{SEGMENT_SUFFIX}"


def parse_segment_file_name(name: str) -> SegmentName | None:
    """The segment a landed file's name describes; None for any other name (hidden files included).

    Reads both today's names and the `topic+partition+firstOffset` of files landed before incarnations.
    """
    if is_hidden(name) or not name.endswith(SEGMENT_SUFFIX):
        return None
    parts = name.removesuffix(SEGMENT_SUFFIX).split("+")
    if len(parts) == 3:
        topic, partition, first = parts
        incarnation = None
    elif len(parts) == 4:
        topic, partition, incarnation, first = parts
        if not _INCARNATION.fullmatch(incarnation):
            return None
    else:
        return None
    if not (topic and partition.isascii() and partition.isdigit() and first.isascii() and first.isdigit()):
        return None
    return SegmentName(topic, int(partition), incarnation, int(first))


@dataclass(frozen=True)
class Lake:
    root: str

    def raw(self, topic: str) -> str:
        return join(self.root, RAW, topic)

    def raw_day(self, topic: str, day: date) -> str:
        return join(self.raw(topic), f"date={day.isoformat()}")

    def quarantine(self, topic: str) -> str:
        return join(self.root, QUARANTINE, topic)

    def quarantine_day(self, topic: str, day: date) -> str:
        return join(self.quarantine(topic), f"date={day.isoformat()}")

    def curated(self, table: str) -> str:
        return join(self.root, CURATED, table)

    def curated_day(self, table: str, day: date) -> str:
        return join(self.curated(table), f"date={day.isoformat()}")

    def export(self, table: str) -> str:
        return join(self.root, EXPORTS, table)

    def export_day(self, table: str, day: date) -> str:
        return join(self.export(table), f"date={day.isoformat()}")

    def public_day(self, table: str, day: date) -> str:
        """A province table for analysts and the public (counts of people 1-9 hidden)."""
        return join(self.root, PUBLIC, table, f"date={day.isoformat()}")

    def manifest(self, job: str, day: date) -> str:
        return join(self.root, MANIFESTS, job, f"date={day.isoformat()}", "manifest.json")

    def report_day(self, day: date) -> str:
        """The public report and map: no count of people from 1 to 9, no link into `exports/`."""
        return join(self.root, REPORTS, f"date={day.isoformat()}")

    def tracer_report_day(self, day: date) -> str:
        """The tracers' report, with exact numbers and links to their worklists."""
        return join(self.export(REPORTS), f"date={day.isoformat()}")

    def validation_day(self, day: date) -> str:
        return join(self.root, VALIDATION, f"date={day.isoformat()}")

    @property
    def duckdb_file(self) -> str:
        return join(self.root, DUCKDB_FILE)

    def traced_directories(self, day: date) -> list[str]:
        """The directories of D a trace writes: curated tables, the tracers' export, the manifest."""
        return [
            *(self.curated_day(table, day) for table in TRACED_TABLES),
            self.export_day("exposures", day),
            self.manifest("trace", day).rpartition("/")[0],
        ]

    def built_directories(self, day: date) -> list[str]:
        """The directories of D built from the traced tables; a run that builds none of one removes D's."""
        return [
            self.export_day(WORKLISTS, day),
            self.export_day(NOTIFICATIONS, day),
            *(self.export_day(table, day) for table in PROVINCE_TABLES),
            *(self.public_day(table, day) for table in PROVINCE_TABLES),
            self.report_day(day),
            self.tracer_report_day(day),
            self.curated_day(PREDICTION_TABLE, day),
            self.curated_day(SENSOR_QUALITY_TABLE, day),
            self.export_day(CHANGES, day),
            self.curated_day(CHANGES, day),
        ]

    @property
    def analyst_files(self) -> list[str]:
        """The analysts' DuckDB file, which only a local lake has."""
        return [] if "://" in self.root else [self.duckdb_file]


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and the path inside it, for a local path or a URI."""
    if "://" in uri:
        return pafs.FileSystem.from_uri(uri)
    return pafs.LocalFileSystem(), uri


PARTITION_PREFIX = "date="


def partition_day(directory_name: str) -> date | None:
    """The day of a `date=YYYY-MM-DD` directory name; None for anything else."""
    if not directory_name.startswith(PARTITION_PREFIX):
        return None
    try:
        return date.fromisoformat(directory_name[len(PARTITION_PREFIX):])
    except ValueError:
        return None


def is_hidden(name: str) -> bool:
    """Files still being written and bookkeeping files start with `.` or `_`: readers skip them."""
    return name.startswith((".", "_"))


def is_part_file(name: str) -> bool:
    """A finished Parquet file of a table."""
    return not is_hidden(name) and name.endswith(".parquet")


def children(fs: pafs.FileSystem, directory: str) -> list[pafs.FileInfo]:
    """The entries directly inside `directory`; none when it does not exist (a table not landed yet)."""
    if fs.get_file_info(directory).type != pafs.FileType.Directory:
        return []
    return list(fs.get_file_info(pafs.FileSelector(directory, recursive=False)))


def in_progress_name(final: str) -> str:
    """A hidden sibling name (leading dot) that Spark, DuckDB and pyarrow datasets all skip."""
    head, _, name = final.rpartition("/")
    return f"{head}/.{name}.inprogress" if head else f".{name}.inprogress"


_UNIQUE_PER_ROW = frozenset({"event_id", "pseudonym", "person_id"})


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The columns worth dictionary-encoding: all but ids, pseudonyms, raw bytes, instants and offsets.

    Those are (nearly) unique per row, so a dictionary page only costs time
    before Parquet falls back to plain encoding.
    """
    return [
        field.name
        for field in schema
        if field.name not in _UNIQUE_PER_ROW
        and not field.name.endswith("_pseudonym")
        and not pa.types.is_timestamp(field.type)
        and not pa.types.is_int64(field.type)
        and not pa.types.is_binary(field.type)
    ]


def write_atomically(table: pa.Table, fs: pafs.FileSystem, final: str) -> None:
    """Write a Parquet file under a hidden name, then rename it: readers never see half a file.

    zstd at level 1 writes as fast as snappy and about half the bytes.
    """
    temporary = in_progress_name(final)
    pq.write_table(
        table,
        temporary,
        filesystem=fs,
        compression="zstd",
        compression_level=1,
        use_dictionary=dictionary_columns(table.schema),
    )
    fs.move(temporary, final)


def write_bytes_atomically(data: bytes, fs: pafs.FileSystem, final: str, *, keep_existing: bool = False) -> None:
    """Write any file under a hidden name, then rename it: readers never see half a page or CSV.

    `keep_existing`: a file already at `final` wins (another writer recorded
    it first), so writers that may race each get their own hidden name. Only
    a local filesystem can refuse to replace a file (a hard link never does);
    on an object store the last writer wins.
    """
    temporary = in_progress_name(final)
    if keep_existing:
        temporary = f"{temporary}-{secrets.token_hex(8)}"
    with fs.open_output_stream(temporary) as stream:
        stream.write(data)
    if not (keep_existing and isinstance(fs, pafs.LocalFileSystem)):
        fs.move(temporary, final)
        return
    try:
        os.link(temporary, final)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


@contextmanager
def building_atomically(final: str) -> Iterator[str]:
    """A hidden local path to build `final` at, renamed onto `final` when the block ends without error.

    For files a tool writes itself (DuckDB's database): readers never open
    half of one, and a failed build leaves the previous file in place.
    """
    building = in_progress_name(final)
    yield building
    os.replace(building, final)
