"""bench/run.py must not rot between the runs that measure issue #16: its options parse, and it reads the
stage times `tracelake run` prints in the form the CLI prints them today."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bench.run import WIDE_CONSOLE, stage_times
from tracelake.cli import _summary
from tracelake.cli.pipeline import INGEST, PipelineResult
from tracelake.core.lake import Lake

ROOT = Path(__file__).resolve().parent.parent


def test_help_lists_every_option() -> None:
    shown = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--people", "--date", "--seed", "--days", "--engine", "--workdir", "--keep"):
        assert option in shown.stdout


def test_reads_the_stage_times_of_the_run_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in WIDE_CONSOLE.items():
        monkeypatch.setenv(name, value)
    timings = {"publish": 8.04, "land": 8.5, INGEST: 9.14, "validate raw": 15.3, "trace": 233.46,
               "validate outputs": 11.5, "export": 6.8}
    _summary(PipelineResult(day=date(2021, 8, 10), lake=Lake(str(tmp_path)), timings=timings))
    assert stage_times(capsys.readouterr().out) == {stage: round(seconds, 1) for stage, seconds in timings.items()}
