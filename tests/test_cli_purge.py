"""`tracelake purge --before D`: days before D go, bad arguments end in exit 2 without a traceback."""

import json
from pathlib import Path

from tests.jobs.lakebuilder import LakeBuilder
from tests.test_cli import _tracelake


def _lake(tmp_path: Path) -> LakeBuilder:
    builder = LakeBuilder(tmp_path / "lake")
    builder.checkin("0912000001", "V1", "2021-07-10 10:00", "2021-07-10 11:00")
    builder.checkin("0912000002", "V1", "2021-07-20 10:00", "2021-07-20 11:00")
    builder.sighting("0912000001", "0912000003", "2021-07-10 10:30")
    builder.write()
    return builder


def test_purge_deletes_the_days_before_and_says_what_went(tmp_path: Path) -> None:
    builder = _lake(tmp_path)
    result = _tracelake("purge", "--before", "2021-07-14", "--lake", str(builder.root), cwd=tmp_path, key=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "raw/checkins" in result.stdout and "raw/proximity" in result.stdout
    assert not (builder.root / "raw" / "checkins" / "date=2021-07-10").exists()
    assert (builder.root / "raw" / "checkins" / "date=2021-07-20").is_dir()
    record = builder.root / "manifests" / "purge" / "date=2021-07-14" / "purge.json"
    (run,) = json.loads(record.read_text())["runs"]
    assert {table["table"]: table["rows"] for table in run["tables"]} == {"raw/checkins": 1, "raw/proximity": 1}
    again = _tracelake("purge", "--before", "2021-07-14", "--lake", str(builder.root), cwd=tmp_path, key=False)
    assert again.returncode == 0
    assert "Nothing before 2021-07-14 to purge." in again.stdout


def test_purge_refuses_a_bad_day_and_a_day_inside_the_window(tmp_path: Path) -> None:
    builder = _lake(tmp_path)
    files = sorted(path for path in tmp_path.rglob("*") if path.is_file())
    results = {
        "not a YYYY-MM-DD date": _tracelake("purge", "--before", "14/07/2021", "--lake", str(builder.root),
                                            cwd=tmp_path, key=False),
        "--before: not a YYYY-MM-DD date: '2021-02-30'": _tracelake(
            "purge", "--before", "2021-02-30", "--lake", str(builder.root), cwd=tmp_path, key=False),
        "still inside the 21-day retention window": _tracelake(
            "purge", "--before", "2999-01-01", "--lake", str(builder.root), cwd=tmp_path, key=False),
        "cannot read rules file": _tracelake("purge", "--before", "2021-07-14", "--lake", str(builder.root),
                                             "--rules", str(tmp_path / "missing.yaml"), cwd=tmp_path, key=False),
    }
    for message, result in results.items():
        assert result.returncode == 2, message
        assert message in " ".join(result.stdout.split()), result.stdout
        assert "Traceback" not in result.stdout + result.stderr
    assert sorted(path for path in tmp_path.rglob("*") if path.is_file()) == files
