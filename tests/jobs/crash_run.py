"""`tracelake run`'s trace, validation and export of day D in one publication; run as a script, a victim.

`python -m tests.jobs.crash_run LAKE VAULT STEP N EXPECTED` kills itself
(SIGKILL) at the Nth publication step starting with STEP. When the run
commits, it first writes to EXPECTED the SHA-256 of every file a reader will
see once the run is rolled forward: the crash test's picture of the new D.
"""

import hashlib
import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from jobs.publication import COMMIT_SUFFIX, PUBLISH
from jobs.publish.day import export_day
from jobs.trace.day import begin_day, trace_day
from jobs.validation import validate_outputs
from tracelake.core.rules import load_rules
from tracelake.core.settings import Settings

DAY = date(2021, 8, 3)
SKIPPED = ("raw", "quarantine", "validation", PUBLISH)
"""Inputs, the checks' own docs (written as they run) and the publications' bookkeeping."""


def visible(lake: Path) -> dict[str, str]:
    """Path → SHA-256 of every output file a reader of the lake sees, the analysts' DuckDB file included."""
    return {
        path.relative_to(lake).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(lake.rglob("*"))
        if path.is_file() and not set(path.relative_to(lake).parts) & set(SKIPPED)
    }


def after_commit(lake: Path) -> dict[str, str]:
    """The outputs as they will be once the committed run's journal is rolled forward."""
    journal_path = next((lake / PUBLISH / DAY.isoformat()).glob(f"*{COMMIT_SUFFIX}"))
    journal = json.loads(journal_path.read_text())
    expected = visible(lake)
    for entry in journal["entries"]:
        final = entry["final"]
        if not entry["directory"]:
            if entry["staged"] is not None:
                expected[final] = hashlib.sha256((lake / entry["staged"]).read_bytes()).hexdigest()
            continue
        expected = {path: digest for path, digest in expected.items() if not path.startswith(final + "/")}
        for name in entry["files"]:
            expected[f"{final}/{name}"] = hashlib.sha256((lake / entry["staged"] / name).read_bytes()).hexdigest()
    return expected


def watcher(lake: Path, step: str, count: int, expected: Path) -> Callable[[str], None]:
    seen = 0

    def watch(name: str) -> None:
        nonlocal seen
        if name == "committed":
            expected.write_text(json.dumps(after_commit(lake), indent=1, sort_keys=True))
        if name.startswith(step):
            seen += 1
            if seen == count:
                os.kill(os.getpid(), signal.SIGKILL)

    return watch


def run(lake: Path, vault: Path, on_step: Callable[[str], None]) -> None:
    rules = load_rules()
    publication = begin_day(str(lake), DAY, on_step=on_step)
    trace_day(str(lake), DAY, rules, vault=str(vault), engine="duckdb", into=publication)
    validate_outputs(str(lake), DAY, Settings(lake=str(lake)), rules, vault=str(vault), raise_on_failure=False,
                     outputs=publication)
    export_day(str(lake), DAY, rules, vault=str(vault), publication=publication)


if __name__ == "__main__":
    lake_arg, vault_arg, step_arg, count_arg, expected_arg = sys.argv[1:6]
    run(Path(lake_arg), Path(vault_arg), watcher(Path(lake_arg), step_arg, int(count_arg), Path(expected_arg)))
