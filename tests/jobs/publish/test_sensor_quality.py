"""Bluetooth sensor quality on a hand-made lake: each check counts exactly its reporters, and no tier moves."""

from pathlib import Path

import pyarrow.parquet as pq

from jobs.publish.sensor_quality import write_sensor_quality
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import DAY, run_trace
from tracelake.core.rules import load_rules

F0, NORMAL, AHEAD, BEHIND, STALE_OK = "0901000001", "0901000002", "0901000003", "0901000004", "0901000005"
BURSTY, LOUD, SHAKY, LATER = "0901000006", "0901000007", "0901000008", "0901000009"
PEERS = [f"09020000{n:02d}" for n in range(40)]


def _lake(tmp_path: Path) -> LakeBuilder:
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    builder.confirmed(F0, "2021-08-03T21:00:00", sample_date="2021-08-02")
    for minute in (0, 5, 10, 15):
        builder.sighting(NORMAL, PEERS[0], f"2021-08-03T10:{minute:02d}:00", landed_at="2021-08-03T18:00:00")
        builder.sighting(AHEAD, F0, f"2021-08-03T20:{minute:02d}:00", rssi=-55, landed_at="2021-08-03T19:00:00")
    builder.sighting(BEHIND, PEERS[1], "2021-07-01T09:00:00", landed_at="2021-08-03T12:00:00")
    builder.sighting(BEHIND, PEERS[2], "2021-07-01T09:05:00", landed_at="2021-08-03T12:00:00")
    builder.sighting(STALE_OK, PEERS[3], "2021-07-25T09:00:00", landed_at="2021-08-03T12:00:00")
    builder.sighting(STALE_OK, PEERS[4], "2021-08-02T09:00:00", landed_at="2021-08-03T12:00:00")
    builder.sighting(LATER, PEERS[5], "2021-08-03T23:00:00", landed_at="2021-08-04T09:00:00")
    for _copy in range(3):
        builder.sighting(BURSTY, PEERS[6], "2021-08-03T11:00:00", rssi=-70)
    builder.sighting(BURSTY, PEERS[7], "2021-08-03T11:00:00", rssi=-71, event_id="resent-once")
    builder.sighting(BURSTY, PEERS[7], "2021-08-03T11:00:00", rssi=-71, event_id="resent-once")
    builder.sighting(LOUD, PEERS[8], "2021-08-03T12:00:00", rssi=-120)
    builder.sighting(LOUD, PEERS[9], "2021-08-03T12:05:00", rssi=10)
    for k in range(29):
        builder.sighting(SHAKY, PEERS[10 + k % 20], f"2021-08-03T13:{k:02d}:00", rssi=-60 + (k % 3 - 1))
    builder.sighting(SHAKY, PEERS[30], "2021-08-03T14:00:00", rssi=-100)
    builder.write()
    return builder


def test_each_check_counts_its_reporters_and_sightings(tmp_path: Path) -> None:
    builder = _lake(tmp_path)
    table = write_sensor_quality(str(builder.root), DAY, load_rules())
    rows = {row["check"]: row for row in table.to_pylist()}
    found = {check: (row["reporters"], row["sightings"]) for check, row in rows.items()}
    assert found == {
        "clock_ahead": (1, 4),
        "clock_behind": (1, 2),
        "burst": (1, 2),
        "rssi_implausible": (1, 2),
        "rssi_outlier": (1, 1),
    }
    assert rows["clock_ahead"]["population"] == "landed"
    without_landed_at = 4 + 2 + 30  # the builder's Kafka timestamp is their observed_at: landed on D, on time
    assert (rows["clock_ahead"]["of_reporters"], rows["clock_ahead"]["of_sightings"]) == (7, 12 + without_landed_at)
    assert (rows["burst"]["of_reporters"], rows["burst"]["of_sightings"]) == (6, 4 + 4 + 1 + 4 + 2 + 30)
    written = pq.read_table(Path(builder.lake.curated_day("sensor_quality", DAY)) / "part-00000.parquet")
    assert written.equals(table)


def test_a_lake_without_sightings_counts_zeros(tmp_path: Path) -> None:
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    builder.confirmed(F0, "2021-08-03T21:00:00", sample_date="2021-08-02")
    builder.write()
    table = write_sensor_quality(str(builder.root), DAY, load_rules())
    assert table.num_rows == 5
    assert {(row["reporters"], row["sightings"], row["of_sightings"]) for row in table.to_pylist()} == {(0, 0, 0)}


def test_suspect_sightings_are_counted_not_filtered(tmp_path: Path) -> None:
    builder = _lake(tmp_path)
    traced = run_trace(builder, "duckdb", write=False)
    assert traced.tier(AHEAD) == "F1"
    counts = traced.result.input_counts["proximity"]
    assert (counts.duplicates_dropped, counts.rows_kept) == (1, 4 + 4 + 2 + 1 + 4 + 2 + 30)
