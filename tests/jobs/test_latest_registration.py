"""The latest registration of a venue is the last landed, by (landed_at NULLS FIRST, kafka_partition, kafka_offset).

The analysts' `venues` view and the province outputs read it alike, over
files with and without `landed_at` and across incarnations of the topic.
"""

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from jobs.publish.analyst_db import register_lake_views
from jobs.publish.province.lake_views import ProvinceSources
from schemas.lake import RAW
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import DAY
from tracelake.core.rules import load_rules

LANDED_EARLY, LANDED_LATE = datetime(2021, 7, 21, tzinfo=UTC), datetime(2021, 7, 25, tzinfo=UTC)


def _registration(venue_id: str, name: str, landed_at: datetime | None) -> dict[str, object]:
    return {"venue_id": venue_id, "name": name, "district_code": "760", "province_code": "79", "landed_at": landed_at}


def _lake(tmp_path: Path) -> Path:
    """V1: registered by an old lander (no landed_at column), again later. V2: the later one sits at offset 0."""
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    old = pa.Table.from_pylist(
        [{**_registration("V1", "first name", None), "kafka_topic": "venues", "kafka_partition": 0, "kafka_offset": 7}],
        schema=pa.schema([field.with_nullable(True) for field in RAW["venues"] if field.name != "landed_at"]),
    )
    directory = Path(builder.lake.raw_day("venues", DAY))
    directory.mkdir(parents=True)
    pq.write_table(old, directory / "venues+0+00000000000000000007.parquet")
    builder.write_raw_rows("venues", [
        {**_registration("V2", "old name", LANDED_EARLY), "kafka_offset": 3},
    ], DAY, partition=0)
    builder.new_incarnation("restarted")
    builder.write_raw_rows("venues", [
        {**_registration("V2", "new name", LANDED_LATE), "kafka_offset": 0},
        {**_registration("V1", "second name", LANDED_EARLY), "kafka_offset": 1},
    ], DAY, partition=0)
    return builder.root


EXPECTED = [("V1", "second name"), ("V2", "new name")]


def test_the_analysts_venues_keep_the_last_landed_registration(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    with duckdb.connect() as con:
        register_lake_views(con, str(lake))
        assert con.execute("SELECT venue_id, name FROM venues ORDER BY venue_id").fetchall() == EXPECTED
        assert con.execute("SELECT count(*) FROM raw_venues WHERE landed_at IS NULL").fetchall() == [(1,)]


def test_the_province_outputs_keep_the_last_landed_registration(tmp_path: Path) -> None:
    sources = ProvinceSources.open(str(_lake(tmp_path)), DAY, load_rules())
    try:
        sources.require("venue")
        assert sources.rows("SELECT venue_id, name FROM venue ORDER BY venue_id") == EXPECTED
    finally:
        sources.close()
