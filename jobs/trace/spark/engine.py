"""The Spark engine: the trace job proper, in local mode or on any cluster master.

Its executors write D's tables (`jobs.trace.spark.outputs`): the driver never
holds the contacts or exposures, so its memory does not grow with the
province. Only a lake Spark cannot write, an object store reached through
pyarrow, takes the engine rows to the driver and writes them from there
(`jobs.trace.finish`), as the DuckDB twin does.
"""

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from jobs.trace.engines import (
    CASE_ROWS,
    CONTACT_ROWS,
    EXPOSED_ROWS,
    DayTables,
    EngineOutput,
    WrittenDay,
    conform,
    tier_counts,
)
from jobs.trace.finish import write_on_driver
from jobs.trace.parameters import TraceParams
from jobs.trace.plan import InputPlan
from jobs.trace.spark.cases import case_rows
from jobs.trace.spark.outputs import executors_write, write_tables
from jobs.trace.spark.raw_events import read_inputs
from jobs.trace.spark.session import DEFAULT_DRIVER_MEMORY, spark_session
from jobs.trace.spark.tiers import trace_tiers

BYTES_PER_SHUFFLE_PARTITION = 32 * 1024 * 1024
"""Parquet input per shuffle partition: a small day gets one partition, not a task per core per stage."""


@contextmanager
def _shuffle_partitions_for(spark: SparkSession, plan: InputPlan) -> Iterator[int]:
    """Size shuffles to the day's input, never above what the session is configured for."""
    configured = spark.conf.get("spark.sql.shuffle.partitions") or "200"
    wanted = max(1, min(int(configured), -(-plan.total_bytes // BYTES_PER_SHUFFLE_PARTITION)))
    spark.conf.set("spark.sql.shuffle.partitions", str(wanted))
    try:
        yield wanted
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", configured)


def _release_checkpoints(spark: SparkSession) -> None:
    """Let Spark drop the run's in-memory checkpoints now, not at its next periodic GC.

    A long-lived process (an Airflow worker, the tests, the benchmark) would
    otherwise carry each day's checkpointed stays and sightings into the next
    run. Once Python's DataFrames are gone, a JVM GC lets Spark's cleaner
    remove their blocks.
    """
    gc.collect()
    jvm = spark.sparkContext._jvm
    if jvm is not None:
        jvm.System.gc()


def _arrow(frame: DataFrame, schema: pa.Schema) -> pa.Table:
    return conform(frame.select(*schema.names).toArrow(), schema)


class SparkEngine:
    name = "spark"

    def __init__(
        self, master: str | None = None, *, driver_memory: str = DEFAULT_DRIVER_MEMORY, submitted: bool = False
    ) -> None:
        self.master = master
        self.driver_memory = driver_memory
        self.submitted = submitted

    def trace(self, plan: InputPlan, params: TraceParams, tables: DayTables) -> WrittenDay:
        spark, session_seconds = spark_session(
            self.master, driver_memory=self.driver_memory, submitted=self.submitted
        )
        with _shuffle_partitions_for(spark, plan):
            written = self._trace(spark, plan, params, tables)
        _release_checkpoints(spark)
        return replace(written, session_seconds=session_seconds)

    def _trace(self, spark: SparkSession, plan: InputPlan, params: TraceParams, tables: DayTables) -> WrittenDay:
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        inputs = read_inputs(spark, plan, params)
        timings["read"], clock = time.perf_counter() - clock, time.perf_counter()
        cases_frame = case_rows(spark, inputs.reports, params)
        timings["cases"], clock = time.perf_counter() - clock, time.perf_counter()
        tiers = trace_tiers(spark, inputs, cases_frame, params)
        timings["tiers"] = time.perf_counter() - clock
        if executors_write(tables):
            written = write_tables(spark, cases_frame, tiers.contacts, tiers.exposed, params, tables)
            return replace(written, inputs=inputs.counts, timings={**timings, **written.timings})
        cases = _arrow(cases_frame, CASE_ROWS)
        exposed = _arrow(tiers.exposed, EXPOSED_ROWS)
        output = EngineOutput(
            cases=cases,
            contacts=_arrow(tiers.contacts, CONTACT_ROWS),
            exposed=exposed,
            inputs=inputs.counts,
            tier_counts=tier_counts(cases, exposed, params.max_depth),
            timings=timings,
        )
        return write_on_driver(output, params, tables)
