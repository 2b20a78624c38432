"""The command line as people use it: `tracelake run` and `tracelake demo`, end to end, in a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

KEY = "cli-test-key-0123456789abcdef"


def _tracelake(
    *args: str, cwd: Path, key: bool = True, timeout: int = 900, settings: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACELAKE_")}
    env["COLUMNS"] = "200"
    if key:
        env["TRACELAKE_PSEUDONYMIZATION_KEY"] = KEY
    env.update(settings or {})
    return subprocess.run([sys.executable, "-m", "tracelake", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def _write(directory: Path, topic: str, events: list[dict[str, object] | str]) -> None:
    lines = [event if isinstance(event, str) else json.dumps(event, ensure_ascii=False) for event in events]
    (directory / f"{topic}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_run_refuses_bad_arguments_with_a_clear_message(tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    _write(events, "checkins", [])
    missing = _tracelake("run", "--events", str(tmp_path / "nope"), "--lake", str(tmp_path / "lake"),
                         "--date", "2021-08-10", cwd=tmp_path)
    assert missing.returncode == 2
    assert "is not a directory" in missing.stdout
    bad_date = _tracelake("run", "--events", str(events), "--lake", str(tmp_path / "lake"), "--date", "10/08/2021",
                          cwd=tmp_path)
    assert bad_date.returncode == 2
    assert "not a YYYY-MM-DD date" in bad_date.stdout
    bad_rules = _tracelake("run", "--events", str(events), "--lake", str(tmp_path / "lake"), "--date", "2021-08-10",
                           "--rules", str(tmp_path / "missing.yaml"), cwd=tmp_path)
    assert bad_rules.returncode == 2
    assert "cannot read rules file" in bad_rules.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    no_topics = _tracelake("run", "--events", str(empty), "--lake", str(tmp_path / "lake"), "--date", "2021-08-10",
                           cwd=tmp_path)
    assert no_topics.returncode == 2
    assert "holds none of" in no_topics.stdout
    for result in (missing, bad_date, bad_rules, no_topics):
        assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "lake").exists()


def test_a_setting_that_does_not_parse_is_named_with_what_it_should_be(tmp_path: Path) -> None:
    partitions = _tracelake("lake", "status", cwd=tmp_path, settings={"TRACELAKE_TOPIC_PARTITIONS": "many"})
    engine = _tracelake("trace", "--date", "2021-08-10", cwd=tmp_path, settings={"TRACELAKE_TRACE_ENGINE": "pandas"})
    for result, expected in ((partitions, "TRACELAKE_TOPIC_PARTITIONS='many'"),
                             (engine, "TRACELAKE_TRACE_ENGINE='pandas': Input should be 'spark' or 'duckdb'")):
        assert result.returncode == 2
        assert expected in result.stdout
        assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "lake").exists()


def test_the_trace_engine_comes_from_the_settings_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    twin = _tracelake("trace", "--date", "2021-08-10", "--lake", lake, cwd=tmp_path,
                      settings={"TRACELAKE_TRACE_ENGINE": "duckdb"})
    assert twin.returncode == 0, twin.stdout + twin.stderr
    manifest = tmp_path / "lake" / "manifests" / "trace" / "date=2021-08-10" / "manifest.json"
    assert json.loads(manifest.read_text())["engine"] == "duckdb"
    refused = _tracelake("trace", "--date", "2021-08-10", "--lake", lake, "--engine", "pandas", cwd=tmp_path,
                         settings={"TRACELAKE_TRACE_ENGINE": "duckdb"})
    assert refused.returncode == 2
    assert "--engine must be spark or duckdb" in refused.stdout


def test_the_lander_refuses_to_start_as_a_service_without_a_key(tmp_path: Path) -> None:
    env_less = _tracelake("land", "--lake", str(tmp_path / "lake"), cwd=tmp_path, key=False)
    assert env_less.returncode != 0
    assert "Traceback" not in env_less.stdout + env_less.stderr


def test_every_stage_refuses_a_key_other_than_the_vaults(tmp_path: Path) -> None:
    from tracelake.core.vault import key_fingerprint, vouch_for_key

    lake = tmp_path / "lake"
    vault = tmp_path / "lake-vault"
    vouch_for_key(str(vault), KEY.encode())
    events = tmp_path / "events"
    events.mkdir()
    _write(events, "checkins", [])
    other = {"TRACELAKE_PSEUDONYMIZATION_KEY": "someone-elses-key-0123456789"}
    commands = {
        "run": ("run", "--events", str(events), "--lake", str(lake), "--date", "2021-08-10"),
        "trace": ("trace", "--date", "2021-08-10", "--lake", str(lake), "--engine", "duckdb"),
        "export": ("export", "--date", "2021-08-10", "--lake", str(lake)),
        "land": ("land", "--lake", str(lake), "--until-idle"),
    }
    for name, arguments in commands.items():
        result = _tracelake(*arguments, cwd=tmp_path, settings={**other, "TRACELAKE_BOOTSTRAP_SERVERS": "127.0.0.1:9"})
        assert result.returncode == 2, (name, result.stdout + result.stderr)
        assert "not the one the identity vault" in result.stdout, name
        assert "Traceback" not in result.stdout + result.stderr, name
    service = _tracelake(  # as a deployment runs it: every setting from the environment
        "land", "--until-idle", cwd=tmp_path, timeout=120,
        settings={**other, "TRACELAKE_LAKE": str(lake), "TRACELAKE_BOOTSTRAP_SERVERS": "127.0.0.1:9"},
    )
    assert service.returncode == 2
    assert "not the one the identity vault" in service.stdout
    assert not lake.exists()
    assert (vault / "key.fingerprint").read_text().strip() == key_fingerprint(KEY.encode())


def test_every_command_taking_rules_refuses_an_out_of_range_value_naming_the_key(tmp_path: Path) -> None:
    from schemas import default_rules_path

    rules = tmp_path / "rules.yaml"
    rules.write_text(default_rules_path().read_text().replace("linger_minutes: 30", "linger_minutes: .inf"))
    events = tmp_path / "events"
    events.mkdir()
    _write(events, "checkins", [])
    lake = str(tmp_path / "lake")
    commands = {
        "trace": ("trace", "--date", "2021-08-10", "--lake", lake, "--engine", "duckdb"),
        "run": ("run", "--events", str(events), "--lake", lake, "--date", "2021-08-10"),
        "export": ("export", "--date", "2021-08-10", "--lake", lake),
        "province-report": ("province-report", "--date", "2021-08-10", "--lake", lake),
    }
    for name, arguments in commands.items():
        result = _tracelake(*arguments, "--rules", str(rules), cwd=tmp_path)
        assert result.returncode == 2, (name, result.stdout + result.stderr)
        assert "venue.linger_minutes: Input should be a finite number" in result.stdout, name
        assert "Traceback" not in result.stdout + result.stderr, name
    deep = tmp_path / "deep.yaml"
    deep.write_text(default_rules_path().read_text().replace("max_depth: 2", "max_depth: 99"))
    depth = _tracelake("trace", "--date", "2021-08-10", "--lake", lake, cwd=tmp_path,
                       settings={"TRACELAKE_RULES": str(deep)})
    assert depth.returncode == 2
    assert "tiers.max_depth: Input should be less than or equal to 5" in depth.stdout
    assert not (tmp_path / "lake").exists()


def test_a_capacity_file_that_cannot_be_used_stops_before_any_work(tmp_path: Path) -> None:
    capacity = tmp_path / "capacity.csv"
    capacity.write_text("district_code,calls_per_day\n760,many\n", encoding="utf-8")
    events = tmp_path / "events"
    events.mkdir()
    _write(events, "checkins", [])
    lake = str(tmp_path / "lake")
    commands = {
        "run": ("run", "--events", str(events), "--lake", lake, "--date", "2021-08-10", "--capacity", str(capacity)),
        "export": ("export", "--date", "2021-08-10", "--lake", lake, "--capacity", str(capacity)),
        "demo (TRACELAKE_CAPACITY)": ("demo", "--lake", lake),
    }
    for name, arguments in commands.items():
        result = _tracelake(*arguments, cwd=tmp_path, settings={"TRACELAKE_CAPACITY": str(capacity)})
        assert result.returncode == 2, (name, result.stdout + result.stderr)
        assert "line 2: calls per day of 760 must be a whole number" in result.stdout, name
        assert "Traceback" not in result.stdout + result.stderr, name
    assert not (tmp_path / "lake").exists()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["spark", "duckdb"])
def test_run_traces_a_hand_made_day_into_the_contract_export(tmp_path: Path, engine: str) -> None:
    """An F0 at a café, a visitor who overlaps 20 minutes (F1), and that visitor's Bluetooth contact (F2)."""
    events = tmp_path / "events"
    events.mkdir()
    _write(events, "venues", [{"event_id": "v1", "venue_id": "CAFE-1", "name": "Cà phê Sông Hàn",
                               "district_code": "490", "province_code": "48"}])
    _write(events, "case_reports", [
        {"event_id": "r1", "person_id": "0912 345 678", "kind": "confirmed", "reported_at": "2021-08-10T09:00:00+07:00",
         "sample_date": "2021-08-09"},
    ])
    _write(events, "checkins", [
        {"event_id": "c1", "person_id": "+84912345678", "venue_id": "CAFE-1", "checkin_at": "2021-08-08T08:00:00+07:00",
         "checkout_at": "2021-08-08T08:40:00+07:00"},
        {"event_id": "c2", "person_id": "0987.654.321", "venue_id": "CAFE-1", "checkin_at": "2021-08-08T08:50:00+07:00",
         "checkout_at": "2021-08-08T10:00:00+07:00"},
        {"event_id": "c2", "person_id": "0987.654.321", "venue_id": "CAFE-1", "checkin_at": "2021-08-08T08:50:00+07:00",
         "checkout_at": "2021-08-08T10:00:00+07:00"},
        "{this is not json",
        {"event_id": "c3", "person_id": "0911 111 111", "venue_id": "CAFE-1",
         "checkin_at": "2021-08-08T08:00:00+07:00", "checkout_at": "2021-08-08T07:00:00+07:00"},
    ])
    _write(events, "proximity", [
        {"event_id": f"p{minute}", "reporter_id": "84-987-654-321", "contact_id": "001099012345", "rssi": -60,
         "reporter_os": "ios", "contact_os": "ios", "observed_at": f"2021-08-09T12:{minute:02d}:00+07:00"}
        for minute in range(0, 25, 5)
    ])
    capacity = tmp_path / "capacity.csv"
    capacity.write_text("district_code,calls_per_day\n490,0\n", encoding="utf-8")  # the café's district calls no one
    result = _tracelake("run", "--events", str(events), "--lake", str(tmp_path / "lake"), "--date", "2021-08-10",
                        "--capacity", str(capacity), cwd=tmp_path, settings={"TRACELAKE_TRACE_ENGINE": engine})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "F1 1" in result.stdout and "F2 1" in result.stdout
    assert "1 to call (worklists), 1 to text (notifications)" in result.stdout
    assert "Since the previous published day: 2 new, 0 upgraded" in result.stdout
    assert "How well each rule predicts" in result.stdout
    assert "_publish" not in result.stdout, "a path shown to people is a published one, never a staged one"
    texted = (tmp_path / "lake" / "exports" / "notifications" / "date=2021-08-10" / "district=490" / "notify.csv")
    assert "+84987654321" in texted.read_text(encoding="utf-8-sig")
    manifest = tmp_path / "lake" / "manifests" / "trace" / "date=2021-08-10" / "manifest.json"
    assert json.loads(manifest.read_text())["engine"] == engine
    rows = {row["person_id"]: row for row in pq.read_table(
        tmp_path / "lake" / "exports" / "exposures" / "date=2021-08-10").to_pylist()}
    assert set(rows) == {"+84987654321", "001099012345"}
    f1, f2 = rows["+84987654321"], rows["001099012345"]
    assert (f1["tier"], f1["channels"], f1["source_ids"], f1["case_ids"], f1["venue_ids"]) == (
        "F1", ["venue"], ["+84912345678"], ["+84912345678"], ["CAFE-1"])
    assert f1["exposure_minutes"] == pytest.approx(20.0)
    assert (f2["tier"], f2["channels"], f2["source_ids"], f2["case_ids"]) == (
        "F2", ["ble"], ["+84987654321"], ["+84912345678"])
    assert f2["exposure_minutes"] == pytest.approx(20.0)
    assert all(row["rules_version"] == "vn-moh-2021" for row in rows.values())
    quarantine = pq.read_table(tmp_path / "lake" / "quarantine" / "checkins").to_pylist()
    assert sorted(row["reason"] for row in quarantine) == ["checkout before checkin", "not JSON"]
    assert (tmp_path / "lake" / "tracelake.duckdb").is_file()
    assert (tmp_path / "lake" / "reports" / "date=2021-08-10" / "index.html").is_file()


@pytest.mark.slow
def test_demo_runs_the_whole_flow_at_a_small_size(tmp_path: Path) -> None:
    result = _tracelake("demo", "--people", "800", "--days", "2", "--lake", str(tmp_path / "lake"), cwd=tmp_path,
                        key=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "generated a random one" in result.stdout
    assert (tmp_path / "lake-vault" / "pseudonymization.key").is_file()
    assert not list((tmp_path / "lake").rglob("*.key"))
    for expected in ("Cases and contacts", "F0", "landed", "quarantined", "tracelake.duckdb", "index.html",
                     "to call (worklists)", "to text (notifications)", "How well each rule predicts"):
        assert expected in result.stdout
    assert list((tmp_path / "lake" / "exports" / "exposures" / "date=2021-08-10").glob("*.parquet"))
    assert list((tmp_path / "lake" / "exports" / "worklists" / "date=2021-08-10").rglob("worklist.csv"))
    assert "Stopped the embedded broker" in result.stdout
