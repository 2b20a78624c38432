"""Who writes D's tables: Spark's executors on a lake they can reach, the driver on one reached through pyarrow.

Either way the files are the ones every reader of the lake expects: the lake's
schemas with instants as TIMESTAMP_MICROS, `part-NNNNN.parquet` names, no side
files, and the same rows.
"""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.trace.day import trace_day
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import DAY, read_table, run_trace
from tracelake.core.rules import load_rules

SOURCE, FIRST, SECOND = "0912000101", "0912000102", "0912000103"
TABLES = ("contacts", "exposures", "cases", "export")


def _outbreak(builder: LakeBuilder) -> None:
    builder.confirmed(SOURCE, "2021-08-02 09:00", "2021-08-02")
    builder.checkin(SOURCE, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin(FIRST, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    for minute in range(0, 30, 2):
        for reporter, contact in ((FIRST, SECOND), (SECOND, FIRST)):
            builder.sighting(reporter, contact, f"2021-08-03 12:{minute:02d}", rssi=-50)


def test_spark_writes_part_files_of_micros_and_nothing_else(builder: LakeBuilder, spark: object) -> None:
    _outbreak(builder)
    traced = run_trace(builder, "spark")
    assert set(traced.tiers().values()) == {"F1", "F2"}
    for name in TABLES:
        directory = Path(traced.result.outputs[name])
        assert sorted(path.name for path in directory.iterdir()) == ["part-00000.parquet"], name
        schema = pq.ParquetFile(directory / "part-00000.parquet").schema
        for column in schema:
            if column.logical_type.type == "TIMESTAMP":
                assert column.physical_type == "INT64", f"{name}.{column.name}"
                unit = json.loads(column.logical_type.to_json())
                assert (unit["timeUnit"], unit["isAdjustedToUTC"]) == ("microseconds", True), f"{name}.{column.name}"


def _floats(table: pa.Table) -> list[str]:
    return [field.name for field in table.schema if pa.types.is_floating(field.type)]


def test_a_lake_spark_cannot_write_gets_the_same_tables_from_the_driver(builder: LakeBuilder, spark: object) -> None:
    """A URI lake (here `file://`, as pyarrow names an object store) takes the rows to the driver."""
    _outbreak(builder)
    builder.write()
    tables = {}
    for root in (str(builder.root), builder.root.as_uri()):
        result = trace_day(root, DAY, load_rules(), vault=str(builder.vault), engine="spark")
        tables[root] = {name: read_table(result.outputs[name].removeprefix("file://")) for name in TABLES}
    by_executors, by_driver = tables[str(builder.root)], tables[builder.root.as_uri()]
    for name in TABLES:
        expected, actual = by_executors[name], by_driver[name]
        assert actual.schema == expected.schema, name
        floats = _floats(expected)
        assert actual.drop_columns(floats).to_pylist() == expected.drop_columns(floats).to_pylist(), name
        for column in floats:
            assert actual[column].to_pylist() == pytest.approx(expected[column].to_pylist(), abs=1e-9), column
