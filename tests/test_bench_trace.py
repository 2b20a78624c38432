"""bench/trace.py must not rot between the runs that measure issue #17: its options parse, and its read floor
covers every raw column the trace's usability checks name, so no engine is set against a floor that skips work."""

import dataclasses
import subprocess
import sys
from pathlib import Path

from bench.trace import TRACED_COLUMNS, Floor
from jobs.trace.plan import TRACED_TOPICS
from jobs.trace.usable import CHECKS
from schemas.lake import RAW

ROOT = Path(__file__).resolve().parent.parent


def test_help_lists_every_option() -> None:
    shown = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "trace.py"), "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--people", "--workdir", "--keep", "--floors"):
        assert option in shown.stdout


def test_the_read_floor_reads_every_column_a_check_names() -> None:
    assert set(TRACED_COLUMNS) == set(TRACED_TOPICS)
    for topic, columns in TRACED_COLUMNS.items():
        assert set(columns) <= set(RAW[topic].names)
        for check in CHECKS[topic]:
            for field in dataclasses.fields(check):
                value = getattr(check, field.name)
                if isinstance(value, str) and value in RAW[topic].names:
                    assert value in columns, (topic, value)


def test_a_floor_is_its_read_and_its_write() -> None:
    assert Floor(read=1.5, write=0.5).total == 2.0
