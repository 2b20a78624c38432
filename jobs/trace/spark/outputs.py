"""D's tables written by Spark's executors: nothing of the province passes through the driver.

Each table is made from the engine rows as `jobs.trace.curate`,
`jobs.trace.risk` and `jobs.trace.reidentify` make it for the DuckDB twin
(tier names, UTC instants, minutes from exact microseconds, the same risk
formula summed in the same order per person, person_ids sorted per list, the
same row order), and written with the DataFrame writer, one job and one commit
per table, into the run's staging directory. The risk score and the export
read the tables already written back from their files instead of computing
their inputs again. What the driver does is small: it counts rows from the
files' footers, collects at most a few missing pseudonyms and a count per
tier, and gives the files the names every reader of the lake expects.

The files are what the lake's readers expect of any table: the Arrow schemas
of `schemas.lake` (types, microsecond UTC instants written as TIMESTAMP_MICROS,
not Spark's default INT96, and each column nullable exactly when the schema
says so), `part-NNNNN.parquet` names in row order, and no side files (Spark's
`_SUCCESS` marker and its `.crc` checksums are removed, though readers would
skip them too). The directories must be paths every executor writes to: this
host's disk in local mode, a disk they share on a cluster.
"""

import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_type
from pyspark.sql.types import ArrayType, DataType

from jobs.trace.curate import CONTACT_ORDER, CONTACT_TIES, MICROSECONDS_PER_MINUTE
from jobs.trace.engines import CONFIRMED, DAY_TABLES, DayTables, WrittenDay
from jobs.trace.parameters import TraceParams
from jobs.trace.reidentify import MISSING_SHOWN, missing_identities
from jobs.trace.spark.frames import driver_rows
from jobs.trace.spark.risk import risk_scores
from schemas.lake import CASES, CONTACTS, EXPOSURES_CURATED, EXPOSURES_EXPORT
from tracelake.core.lake import is_hidden, is_part_file
from tracelake.core.rules import Rules
from tracelake.core.vault import IDENTITIES

TIMESTAMP_OUTPUT = ("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
"""Instants as the lake's readers type them (timestamp[us, UTC]); Spark's default INT96 reads as nanoseconds."""
WRITE_OPTIONS: Mapping[str, str] = {
    "compression": "zstd",
    "mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
}
"""zstd as the lander writes; no `_SUCCESS` marker: the run's publication is the table's commit."""

VAULT_COLUMNS = "pseudonym string, person_id string"


def executors_write(tables: DayTables) -> bool:
    """Whether Spark can write D's tables itself: local paths (or a mount its executors share), not URIs."""
    return all("://" not in directory for directory in tables.directories.values())


@contextmanager
def _lake_timestamps(spark: SparkSession) -> Iterator[None]:
    key, value = TIMESTAMP_OUTPUT
    before = spark.conf.get(key)
    spark.conf.set(key, value)
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)


_DEFAULTS: Mapping[str, object] = {
    "string": "", "int": 0, "bigint": 0, "double": 0.0, "boolean": False, "timestamp": datetime.fromtimestamp(0, UTC),
}


def _default(spark_type: DataType) -> Column:
    """A value of the type, for a column Spark cannot prove is never null although the engine's rules make it so."""
    if isinstance(spark_type, ArrayType):
        return F.array().cast(spark_type)
    return F.lit(_DEFAULTS[spark_type.simpleString()]).cast(spark_type)


def _in_a_task() -> Column:
    """Always true, and unknown to the optimizer until a task runs."""
    return F.spark_partition_id() >= 0


def _typed(field: pa.Field) -> Column:
    """The column cast to the field's type, a list's elements nullable when the field's are."""
    wanted = from_arrow_type(field.type)
    column = F.col(field.name)
    if isinstance(wanted, ArrayType) and wanted.containsNull:
        column = F.when(_in_a_task(), column).otherwise(F.array(F.lit(None).cast(wanted.elementType)))
    return column.cast(wanted)


def _as_lake(frame: DataFrame, schema: pa.Schema) -> DataFrame:
    """`frame`'s columns of `schema`, in its order, of its types and nullable exactly where it says.

    Spark writes a column `required` when its plan proves it never null and
    `optional` otherwise, whatever the lake's schema says; the readers check
    the schema, nullability included, and a list's elements too (a cast
    that only allows null elements is optimized away). A column or list the
    plan proves free of nulls where the schema allows them is wrapped in a
    condition the optimizer cannot fold (the partition id is known only when a
    task runs), whose other branch is never taken.
    """
    typed = frame.select(*(_typed(field).alias(field.name) for field in schema))
    columns = []
    for field, spark_field in zip(schema, typed.schema.fields, strict=True):
        column = F.col(field.name)
        if not field.nullable and spark_field.nullable:
            column = F.coalesce(column, _default(spark_field.dataType))
        elif field.nullable and not spark_field.nullable:
            column = F.when(_in_a_task(), column)
        columns.append(column.alias(field.name))
    return typed.select(*columns)


def _settle(directory: str) -> int:
    """Spark's files of one written table renamed `part-NNNNN.parquet` in row order, its side files removed;
    the rows they hold, from their footers."""
    rows = 0
    parts = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if is_part_file(name):
            parts.append(path)
        elif is_hidden(name):
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    for index, path in enumerate(parts):
        final = os.path.join(directory, f"part-{index:05d}.parquet")
        os.rename(path, final)
        rows += pq.ParquetFile(final).metadata.num_rows
    return rows


def _write(frame: DataFrame, schema: pa.Schema, directory: str, order: list[Column]) -> int:
    """One table, sorted across its files, written by the executors in one job; its rows."""
    _as_lake(frame, schema).orderBy(*order).write.mode("overwrite").options(**WRITE_OPTIONS).parquet(
        _local(directory)
    )
    return _settle(directory)


def _local(path: str | Path) -> str:
    """A local path as Hadoop reads it: on the local filesystem whatever the default one is, and unescaped
    (Hadoop escapes it itself; a `date=` partition must not become `date%3D`)."""
    return f"file://{Path(path).resolve()}"


def _read(spark: SparkSession, directory: str) -> DataFrame:
    return spark.read.parquet(_local(directory))


def _tier(depth: str, rules: Rules) -> Column:
    names = F.array(*(F.lit(rules.tier_name(level)) for level in range(rules.tiers.max_depth + 1)))
    return names[F.col(depth)]


def _minutes(micros: Column) -> Column:
    return micros.cast("double") / F.lit(MICROSECONDS_PER_MINUTE)


def _ascending(*names: str) -> list[Column]:
    """Arrow's sort order: ascending, nulls last."""
    return [F.col(name).asc_nulls_last() for name in names]


def _contacts(contacts: DataFrame, rules: Rules) -> DataFrame:
    return contacts.select(
        F.col("source").alias("source_pseudonym"),
        _tier("source_depth", rules).alias("source_tier"),
        F.col("target").alias("target_pseudonym"),
        _tier("target_depth", rules).alias("target_tier"),
        "channel",
        "venue_id",
        F.timestamp_micros("start_us").alias("exposure_start"),
        F.timestamp_micros("end_us").alias("exposure_end"),
        _minutes(F.col("end_us") - F.col("start_us")).alias("exposure_minutes"),
        F.lit(rules.version).alias("rules_version"),
        "os_pair",
        "rssi_mean",
        "rssi_max",
        "imputed_checkout",
        "venue_visitors",
    )


def _exposures(exposed: DataFrame, scores: DataFrame, rules: Rules) -> DataFrame:
    return exposed.join(scores, "person", "left").select(
        F.col("person").alias("person_pseudonym"),
        _tier("depth", rules).alias("tier"),
        F.timestamp_micros("first_us").alias("first_exposure_at"),
        F.timestamp_micros("last_us").alias("last_exposure_at"),
        _minutes(F.col("union_us")).alias("exposure_minutes"),
        "channels",
        F.col("sources").alias("source_pseudonyms"),
        F.col("cases").alias("case_pseudonyms"),
        "venue_ids",
        F.lit(rules.version).alias("rules_version"),
        "imputed_checkout",
        "risk_score",
    )


def _cases(cases: DataFrame, rules: Rules) -> DataFrame:
    return cases.select(
        F.col("person").alias("person_pseudonym"),
        "status",
        F.timestamp_micros("window_start_us").alias("window_start"),
        F.timestamp_micros("window_end_us").alias("window_end"),
        F.timestamp_micros("isolated_at_us").alias("isolated_at"),
        F.lit(rules.version).alias("rules_version"),
    )


def _identities(spark: SparkSession, vault: str, named: DataFrame) -> DataFrame:
    """pseudonym, person_id of the `named` pseudonyms the vault knows, once each (`read_identities`' choice)."""
    directory = Path(vault) / IDENTITIES
    if not directory.is_dir():
        pairs = driver_rows(spark, VAULT_COLUMNS)
    else:
        pairs = spark.read.schema(VAULT_COLUMNS).parquet(_local(directory))
    return (
        pairs.filter(F.col("pseudonym").isNotNull() & F.col("person_id").isNotNull())
        .join(named, "pseudonym", "left_semi")
        .groupBy("pseudonym")
        .agg(F.min("person_id").alias("person_id"))
    )


def _named(exposures: DataFrame) -> DataFrame:
    """Every pseudonym the export names: persons, sources and cases, once each."""
    return (
        exposures.select(F.col("person_pseudonym").alias("pseudonym"))
        .unionByName(exposures.select(F.explode("source_pseudonyms").alias("pseudonym")))
        .unionByName(exposures.select(F.explode("case_pseudonyms").alias("pseudonym")))
        .distinct()
    )


def _checked_identities(spark: SparkSession, exposures: DataFrame, vault: str) -> tuple[DataFrame, int]:
    """The identities of everyone the export names, and how many they are; `MissingIdentityError` when the
    vault lacks any (only the first few missing pseudonyms come to the driver)."""
    named = _named(exposures)
    matched = named.join(_identities(spark, vault, named), "pseudonym", "left").localCheckpoint()
    counted = matched.agg(F.count("*").alias("named"), F.count("person_id").alias("known")).first()
    named_count, known = (counted["named"], counted["known"]) if counted is not None else (0, 0)
    if known < named_count:
        first = matched.filter(F.col("person_id").isNull()).orderBy("pseudonym").limit(MISSING_SHOWN).collect()
        raise missing_identities(named_count - known, [row["pseudonym"] for row in first])
    return matched, named_count


def _person_id_lists(exposures: DataFrame, identities: DataFrame, column: str, alias: str) -> DataFrame:
    """person_pseudonym, `alias`: each list of pseudonyms as person_ids, sorted again (their order differs)."""
    return (
        exposures.select("person_pseudonym", F.explode(column).alias("pseudonym"))
        .join(identities, "pseudonym")
        .groupBy("person_pseudonym")
        .agg(F.array_sort(F.collect_list("person_id")).alias(alias))
    )


def _export(exposures: DataFrame, identities: DataFrame) -> DataFrame:
    none = F.array().cast("array<string>")
    persons = identities.select(F.col("pseudonym").alias("person_pseudonym"), "person_id")
    return (
        exposures.join(persons, "person_pseudonym")
        .join(_person_id_lists(exposures, identities, "source_pseudonyms", "source_ids"), "person_pseudonym", "left")
        .join(_person_id_lists(exposures, identities, "case_pseudonyms", "case_ids"), "person_pseudonym", "left")
        .select(
            "person_id",
            "tier",
            "first_exposure_at",
            "last_exposure_at",
            "exposure_minutes",
            "channels",
            F.coalesce("source_ids", none).alias("source_ids"),
            F.coalesce("case_ids", none).alias("case_ids"),
            "venue_ids",
            "rules_version",
            "imputed_checkout",
            "risk_score",
        )
    )


def _tier_counts(exposures: DataFrame, cases: DataFrame, rules: Rules) -> dict[int, int]:
    """Persons per depth from the written exposures (a row per tier comes back), F0 from the cases."""
    per_tier = {row["tier"]: row["count"] for row in exposures.groupBy("tier").count().collect()}
    counts = {depth: per_tier.get(rules.tier_name(depth), 0) for depth in range(rules.tiers.max_depth + 1)}
    counts[0] = cases.filter(F.col("status") == CONFIRMED).count()
    return counts


def write_tables(
    spark: SparkSession, cases: DataFrame, contacts: DataFrame, exposed: DataFrame, params: TraceParams,
    tables: DayTables,
) -> WrittenDay:
    """Write D's tables from the engine rows (CASE_ROWS, CONTACT_ROWS, EXPOSED_ROWS) where `tables` stages them.

    The inputs are the engine's to add. Timings: `write`, the tables computed
    and written (Spark evaluates them as it writes); `curate`, the export's
    identity check and the tier counts.
    """
    rules = tables.rules
    rows: dict[str, int] = {}
    timings: dict[str, float] = {}
    with _lake_timestamps(spark):
        clock = time.perf_counter()
        contacts_at = tables.staged("contacts")
        rows["contacts"] = _write(
            _contacts(contacts, rules), CONTACTS, contacts_at, _ascending(*CONTACT_ORDER, *CONTACT_TIES)
        )
        exposures_at = tables.staged("exposures")
        scores = risk_scores(spark, _read(spark, contacts_at), exposed, rules, params)
        rows["exposures"] = _write(
            _exposures(exposed, scores, rules), EXPOSURES_CURATED, exposures_at,
            _ascending("tier", "person_pseudonym"),
        )
        rows["cases"] = _write(_cases(cases, rules), CASES, tables.staged("cases"), _ascending("person_pseudonym"))
        timings["write"], clock = time.perf_counter() - clock, time.perf_counter()
        exposures = _read(spark, exposures_at)
        identities, people_named = _checked_identities(spark, exposures, tables.vault)
        tier_counts = _tier_counts(exposures, cases, rules)
        timings["curate"], clock = time.perf_counter() - clock, time.perf_counter()
        rows["export"] = _write(
            _export(exposures, identities), EXPOSURES_EXPORT, tables.staged("export"), _ascending("tier", "person_id")
        )
        timings["write"] += time.perf_counter() - clock
    return WrittenDay(
        rows={name: rows[name] for name in DAY_TABLES}, people_named=people_named, inputs={},
        tier_counts=tier_counts, timings=timings,
    )
