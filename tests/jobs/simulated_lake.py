"""Land a simulated province's JSONL files into a raw lake and its vault in bulk, the way the lander does.

`LakeBuilder.add_jsonl` judges one event at a time, fine for hundreds of
events; a fortnight of a simulated province has hundreds of thousands. This
goes through the lander's own chunk judge (`streams.verdicts.judge_chunk`)
and raw columns instead, so the files are what the lander would write, only
without Kafka: one segment per topic and local day, offsets in file order.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas import TOPICS
from streams.people import People
from streams.segment_tables import RawColumns, distinct_pairs
from streams.verdicts import judge_chunk
from tests.jobs.lakebuilder import TEST_KEY
from tracelake.core.identity import Pseudonymizer
from tracelake.core.lake import Lake, segment_file_name
from tracelake.core.vault import write_identities

CHUNK = 50_000
ZONE = "Asia/Ho_Chi_Minh"


def _chunks(path: Path) -> Iterator[list[bytes]]:
    with path.open("rb") as lines:
        while chunk := [line.rstrip(b"\n") for line in islice(lines, CHUNK)]:
            yield chunk


def land_simulation(events: Path, lake_root: Path, vault: Path) -> dict[str, int]:
    """Land every topic file of `events`; returns the rows landed per topic."""
    lake = Lake(str(lake_root))
    people = People(Pseudonymizer(TEST_KEY).pseudonym)
    landed_at_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    landed: dict[str, int] = {}
    identities: list[pa.Table] = []
    for topic in TOPICS:
        columns = RawColumns(topic, ZONE, Pseudonymizer.for_events(TEST_KEY))
        tables: list[pa.Table] = []
        offset = 0
        for chunk in _chunks(events / f"{topic}.jsonl"):
            verdicts = judge_chunk(topic, chunk, landed_at_us, people)
            offsets = [offset + index for index in verdicts.accepted]
            tables.append(columns.table(0, verdicts.records, offsets, [None] * len(offsets), landed_at_us))
            identities.extend(columns.identities(verdicts.records))
            offset += len(chunk)
        table = pa.concat_tables(tables) if tables else columns.schema.empty_table()
        days = columns.days(table)
        for day in pc.unique(days).to_pylist():
            rows = table.filter(pc.equal(days, day))
            directory = Path(lake.raw_day(topic, day))
            directory.mkdir(parents=True, exist_ok=True)
            first = rows.column("kafka_offset")[0].as_py()
            pq.write_table(rows, directory / segment_file_name(topic, 0, "simulated", first))
        landed[topic] = table.num_rows
    write_identities(str(vault), "simulated.parquet", distinct_pairs(identities))
    return landed
