"""How well each rule predicts: counted once per person and group, shown to tracers only, and measurable.

The hand-made lake pins the counting down; the simulated province checks that
a transmission model where closeness matters shows up in the table.
"""

import os
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from jobs.publish.day import ExportedDay, export_day
from jobs.publish.prediction import FOLLOW_UP_DAYS, wilson, write_prediction
from jobs.trace.day import trace_day
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.simulated_lake import land_simulation
from tracelake.core.rules import load_rules

A, B, C, E = "0911000001", "0911000002", "0911000003", "0911000004"
FIRST, LAST = date(2021, 8, 1), date(2021, 8, 5)


def test_wilson_interval() -> None:
    assert wilson(0, 0) == (0.0, 1.0) and wilson(3, 3)[1] == 1.0 and wilson(0, 3)[0] == 0.0
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = wilson(0, 20)
    assert low == 0.0 and 0.1 < high < 0.2


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> ExportedDay:
    """The hand-made lake traced day by day, D exported."""
    tmp_path = tmp_path_factory.mktemp("handmade")
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    builder.venue("V1", "Quán cà phê Hoa", "213", "24", kind="cafe")
    builder.confirmed(A, "2021-08-01T20:00:00", sample_date="2021-07-31")
    for minute in range(0, 25, 5):
        builder.sighting(A, B, f"2021-07-31T10:{minute:02d}:00", rssi=-65, reporter_os="android", contact_os="ios")
        builder.sighting(E, A, f"2021-07-31T16:{minute:02d}:00", rssi=-84)
    builder.checkin(A, "V1", "2021-07-31T12:00:00", "2021-07-31T13:00:00")
    builder.checkin(B, "V1", "2021-07-31T12:00:00", "2021-07-31T13:00:00")
    builder.checkin(C, "V1", "2021-07-31T12:10:00", "2021-07-31T12:50:00")
    builder.confirmed(B, "2021-08-04T10:00:00", sample_date="2021-08-03")
    builder.write()
    rules = load_rules()
    for offset in range((LAST - FIRST).days + 1):
        trace_day(str(builder.root), FIRST + timedelta(days=offset), rules, vault=str(builder.vault), engine="duckdb")
    return export_day(str(builder.root), LAST, rules, vault=str(builder.vault))


def _table(database: Path, day: date) -> dict[tuple[str, str], tuple[int, int, int]]:
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "SELECT breakdown, label, flagged, became_f0, pending FROM prediction WHERE date = ?", [day]
        ).fetchall()
    return {(breakdown, label): (flagged, became, pending) for breakdown, label, flagged, became, pending in rows}


def test_each_person_counts_once_per_group_and_tracers_alone_see_it(exported: ExportedDay) -> None:
    assert exported.analyst_db is not None
    assert _table(Path(exported.analyst_db), LAST) == {
        ("channel", "ble"): (2, 1, 1),
        ("channel", "venue"): (2, 1, 1),
        ("venue_kind", "cafe"): (2, 1, 1),
        ("os_pair", "android-android"): (1, 0, 1),
        ("os_pair", "android-ios"): (1, 1, 0),
        ("rssi_band", "-65..-60 dBm"): (1, 1, 0),
        ("rssi_band", "-85..-80 dBm"): (1, 0, 1),
        ("os_pair_rssi_band", "android-ios -65..-60 dBm"): (1, 1, 0),
        ("os_pair_rssi_band", "android-android -85..-80 dBm"): (1, 0, 1),
    }
    tracers = Path(exported.tracer_report).read_text(encoding="utf-8")
    public = Path(exported.report).read_text(encoding="utf-8")
    assert 'data-metric="prediction.channel.ble.flagged" data-value="2"' in tracers
    assert 'data-metric="prediction.rssi_band.65-60-dbm.became_f0" data-value="1"' in tracers
    assert 'data-metric="sensor-quality.burst.sightings" data-value="0"' in tracers
    assert "prediction." not in public and "sensor-quality." not in public
    assert Path(exported.paths["prediction"], "part-00000.parquet").is_file()


def test_the_tracers_page_renders_both_sections_in_headless_chromium(exported: ExportedDay, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI for the report's browser tests (scripts/setup.sh installs it)")
        pytest.skip("chromium is not installed")
    dumped = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", Path(exported.tracer_report).as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    shown = dict(re.findall(r'data-metric="((?:prediction|sensor-quality)\.[^"]+)" data-value="([^"]*)"', dumped))
    assert shown["prediction.channel.ble.flagged"] == "2" and shown["prediction.channel.venue.became_f0"] == "1"
    assert shown["prediction.venue_kind.cafe.share"] == "50"
    assert {name for name in shown if name.startswith("sensor-quality.")} == {
        f"sensor-quality.{check}.{count}" for check in ("clock_ahead", "clock_behind", "burst", "rssi_implausible",
                                                        "rssi_outlier") for count in ("reporters", "sightings")
    }
    assert 'id="prediction"' in dumped and 'id="sensor-quality"' in dumped


@pytest.mark.slow
def test_close_bluetooth_contacts_predict_better_on_a_simulated_province(tmp_path: Path) -> None:
    """Closer than -70 dBm vs -85..-80 dBm, in a province where the hazard falls with the fourth power of the
    distance beyond a metre and nobody is infected by merely sharing a venue (docs/simulation.md)."""
    simulator = pytest.importorskip("simulator")
    days = 10
    closeness_decides = simulator.TransmissionModel(near_per_minute=0.01, distance_power=4.0, room_per_minute=0.0)
    summary = simulator.simulate(3000, LAST, days=days, seed=7, out=tmp_path / "events", bluezone_share=0.8,
                                 index_share=0.03, malformed_share=0.0, transmission=closeness_decides)
    assert summary.f0_infected > 0
    land_simulation(tmp_path / "events", tmp_path / "lake", tmp_path / "vault")
    rules = load_rules()
    for offset in range(days - 1, -1, -1):
        trace_day(str(tmp_path / "lake"), LAST - timedelta(days=offset), rules, vault=str(tmp_path / "vault"),
                  engine="duckdb")
    rows = write_prediction(str(tmp_path / "lake"), LAST, rules).to_pylist()

    bands = [row for row in rows if row["breakdown"] == "rssi_band"]
    close = [row for row in bands if row["rssi_from"] >= -70]
    flagged, became = sum(row["flagged"] for row in close), sum(row["became_f0"] for row in close)
    (far,) = [row for row in bands if row["rssi_from"] == -85]
    assert flagged >= 30 and far["flagged"] >= 30
    assert became / flagged > far["share"]
    assert wilson(became, flagged)[0] > far["share"]
    channels = {row["label"]: row for row in rows if row["breakdown"] == "channel"}
    assert channels["ble"]["share"] > channels["venue"]["share"] > 0
    assert all(row["follow_up_days"] == FOLLOW_UP_DAYS and row["ci_low"] <= row["share"] <= row["ci_high"]
               for row in rows)
