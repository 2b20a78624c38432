"""Small DataFrames of the driver's rows (a calendar, thresholds, bounds), sent to the executors as Arrow.

A DataFrame made from a Python list is a Python RDD: every executor that
reads it starts a Python worker, and a stock Spark worker has no Python with
what pyspark's worker needs. Arrow batches are read by the JVM alone, so the
trace runs no Python on any executor (tests/jobs/trace/test_spark_cluster.py
gives its cluster's executors no Python at all).
"""

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import StructType


def driver_rows(spark: SparkSession, schema: str | StructType, rows: pa.Table | None = None) -> DataFrame:
    """`rows` (none: no rows) with `schema`'s columns and types, a DDL string or a StructType."""
    struct = schema if isinstance(schema, StructType) else StructType.fromDDL(schema)
    if not isinstance(struct, StructType):
        raise TypeError(f"{schema!r} is not a row of columns")
    arrow = to_arrow_schema(struct, timezone="UTC")
    table = arrow.empty_table() if rows is None else rows.select(arrow.names).cast(arrow)
    return spark.createDataFrame(table, struct)
