"""`tracelake run` day after day into one lake: D's lookback sees every earlier day, and nothing landed goes.

Each run starts an embedded broker of its own, whose offsets start at 0
again; the lake must land every run beside the earlier ones and trace D
exactly as one run over all the events into a fresh lake does.
"""

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.dataset as ds
import pytest

from schemas import TOPICS
from tests.test_cli import _tracelake

DAYS = (date(2021, 8, 8), date(2021, 8, 9), date(2021, 8, 10))
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
EVENT_TIME = {"checkins": "checkin_at", "proximity": "observed_at", "case_reports": "reported_at"}
LANDED = ("raw", "quarantine")
"""Folders of the lake holding what the lander landed: never rewritten by a later run."""


def _local_day(line: str, topic: str) -> date | None:
    """The local day of an event's own time; None when it has none or it does not parse."""
    try:
        event = json.loads(line)
        value = event[EVENT_TIME[topic]]
        if isinstance(value, int) and not isinstance(value, bool):
            instant = datetime.fromtimestamp(value / 1000, UTC)
        else:
            instant = datetime.fromisoformat(value)
    except (ValueError, KeyError, TypeError, OverflowError, OSError):
        return None
    return instant.astimezone(ZONE).date() if instant.tzinfo else None


def _split_by_day(events: Path, out: Path) -> list[Path]:
    """One folder of events per day, as producers would send them; venues and odd events go with the first."""
    folders = [out / day.isoformat() for day in DAYS]
    for folder in folders:
        folder.mkdir(parents=True)
    for topic in TOPICS:
        per_day: dict[date, list[str]] = {day: [] for day in DAYS}
        for line in (events / f"{topic}.jsonl").read_text(encoding="utf-8").splitlines():
            day = _local_day(line, topic) if topic in EVENT_TIME else None
            per_day[day if day in per_day else DAYS[0]].append(line)
        for day, lines in per_day.items():
            (out / day.isoformat() / f"{topic}.jsonl").write_text("".join(f"{line}\n" for line in lines),
                                                                   encoding="utf-8")
    return folders


def _run(events: Path, lake: Path, day: date, cwd: Path) -> None:
    result = _tracelake("run", "--events", str(events), "--lake", str(lake), "--date", day.isoformat(), cwd=cwd,
                        settings={"TRACELAKE_TRACE_ENGINE": "duckdb"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _files(lake: Path) -> dict[str, str]:
    """Every visible file of the lake and its vault, by path, with a digest of its bytes."""
    found = {}
    for root in (lake, lake.parent / f"{lake.name}-vault"):
        for path in root.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                found[str(path.relative_to(lake.parent))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _assert_nothing_went(before: dict[str, str], after: dict[str, str], lake: Path) -> None:
    """No file disappears; what was landed (raw, quarantine, the vault) keeps its bytes."""
    gone = sorted(set(before) - set(after))
    assert not gone, f"{len(gone)} files of earlier runs disappeared, e.g. {gone[:5]}"
    landed = [path for path in before
              if path.startswith(f"{lake.name}-vault/") or path.split("/")[1:2] in ([kind] for kind in LANDED)]
    assert landed
    rewritten = sorted(path for path in landed if after[path] != before[path])
    assert not rewritten, f"landed files rewritten by a later run: {rewritten[:5]}"


def _traced(lake: Path, day: date) -> tuple[dict[str, int], list[tuple[object, ...]]]:
    """D's tier counts from the trace manifest, and D's exposures rows with list columns in a set-like order."""
    manifest = json.loads((lake / "manifests" / "trace" / f"date={day.isoformat()}" / "manifest.json").read_text())
    exposures = ds.dataset(lake / "exports" / "exposures" / f"date={day.isoformat()}", format="parquet").to_table()
    rows = [
        tuple(sorted(value) if isinstance(value, list) else value for value in row.values())
        for row in exposures.to_pylist()
    ]
    return manifest["tier_counts"], sorted(rows, key=repr)


@pytest.mark.slow
def test_runs_day_after_day_trace_the_last_day_as_one_run_over_all_events(tmp_path: Path) -> None:
    simulated = tmp_path / "simulated"
    made = _tracelake("simulate", "--out", str(simulated), "--people", "1500", "--days", "3",
                      "--date", DAYS[-1].isoformat(), "--seed", "11", cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    folders = _split_by_day(simulated, tmp_path / "daily")
    daily = tmp_path / "daily-lake"

    _run(folders[0], daily, DAYS[0], tmp_path)
    for count in (2, 3):
        before = _files(daily)
        _run(folders[count - 1], daily, DAYS[count - 1], tmp_path)
        _assert_nothing_went(before, _files(daily), daily)

        together = tmp_path / f"together-{count}"
        together.mkdir()
        for topic in TOPICS:
            lines = "".join((folder / f"{topic}.jsonl").read_text(encoding="utf-8") for folder in folders[:count])
            (together / f"{topic}.jsonl").write_text(lines, encoding="utf-8")
        fresh = tmp_path / f"fresh-lake-{count}"
        _run(together, fresh, DAYS[count - 1], tmp_path)

        tiers, rows = _traced(daily, DAYS[count - 1])
        assert tiers.get("F0", 0) > 0 and tiers.get("F1", 0) > 0, tiers
        assert (tiers, rows) == _traced(fresh, DAYS[count - 1]), f"day {count} differs from one run over all events"

    for lake in (daily, fresh):  # Spark reads three runs' incarnations as the twin does
        traced = _tracelake("trace", "--date", DAYS[-1].isoformat(), "--lake", str(lake), "--engine", "spark",
                            cwd=tmp_path)
        assert traced.returncode == 0, traced.stdout[-3000:] + traced.stderr[-3000:]
    assert _traced(daily, DAYS[-1]) == _traced(fresh, DAYS[-1]) == (tiers, rows)
