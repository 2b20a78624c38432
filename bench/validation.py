"""Raw and output validation of one landed and traced day, each against one DuckDB scan of what it checks.

Issue #16 sets validation at most 3x one DuckDB scan of the columns the suites
check. `bench/run.py` measures that inside a whole `tracelake run`; this one
measures only validation, on a lake that is already there, so that changing
the runner can be measured in minutes:

    tracelake simulate --people 200000 --date 2021-08-10 --days 1 --seed 7 --out ev
    TRACELAKE_TRACE_ENGINE=duckdb tracelake run --events ev --lake lake --date 2021-08-10
    .venv/bin/python -m bench.validation --lake lake --date 2021-08-10 [--runs 3] [--fixed]

Each run times `validate_raw`, `validate_outputs` (when the day was traced)
and the baseline scans of `bench/run.py` (`validation_scans`), in that order,
in this one process: Great Expectations is imported before the first run, as
it is in `tracelake run`. The fixed cost is the same runs with every suite
emptied: the context, the checkpoint, the results and the Data Docs of as many
tables, without one expectation query. The last line of a run is its ratios.
"""

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

from bench.run import validation_scans
from jobs.validation import runner, validate_outputs, validate_raw
from jobs.validation.report import ValidationReport
from jobs.validation.suites import load_suite
from tracelake.core.days import parse_day
from tracelake.core.lake import Lake
from tracelake.core.settings import Settings


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    outcome = work()
    return time.perf_counter() - started, outcome


@contextmanager
def empty_suites() -> Iterator[None]:
    """Every suite as it is but without its expectations, for as long as the block lasts."""

    def empty(name: str) -> dict[str, Any]:
        return {**load_suite(name), "expectations": []}

    with mock.patch.object(runner, "load_suite", empty):
        yield


def _load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _failures(report: ValidationReport | None) -> str:
    if report is None:
        return "not traced"
    return f"{report.expectations} expectations, {len(report.failures)} failed"


def one_run(lake: Path, day: date, settings: Settings, traced: bool) -> tuple[float, float, float, float]:
    """Seconds of validate raw, validate outputs (0 when not traced), and of their baseline scans."""
    raw_s, raw = _timed(lambda: validate_raw(str(lake), day, settings, raise_on_failure=False))
    outputs_s, outputs = (0.0, None)
    if traced:
        outputs_s, outputs = _timed(lambda: validate_outputs(str(lake), day, settings, raise_on_failure=False))
    raw_scan, outputs_scan = validation_scans(Lake(str(lake)), day)
    print(f"  raw {raw_s:.2f} s ({_failures(raw)}), outputs {outputs_s:.2f} s ({_failures(outputs)}); "
          f"scans raw {raw_scan:.2f} s, outputs {outputs_scan:.2f} s; {_load()}", flush=True)
    return raw_s, outputs_s, raw_scan, outputs_scan


def _ratio(seconds: float, floor: float) -> str:
    return f"{seconds / floor:.2f}x" if floor > 0 else "n/a"


def parser() -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--lake", type=Path, required=True, help="a landed (and traced) lake")
    arguments.add_argument("--date", type=parse_day, default=date(2021, 8, 10), help="local day D, YYYY-MM-DD")
    arguments.add_argument("--runs", type=int, default=3)
    arguments.add_argument("--fixed", action="store_true",
                           help="also time the same runs with every suite emptied (Great Expectations' fixed cost)")
    return arguments


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    lake: Path = options.lake.resolve()
    day: date = options.date
    settings = Settings(lake=str(lake))
    traced = Path(Lake(str(lake)).curated_day("exposures", day)).is_dir()
    import great_expectations  # noqa: F401  (imported once, as in `tracelake run`)

    print(f"validation of {day} in {lake.name}; {os.cpu_count()} CPUs, {_load()}", flush=True)
    for run in range(1, options.runs + 1):
        print(f"run {run}:", flush=True)
        raw_s, outputs_s, raw_scan, outputs_scan = one_run(lake, day, settings, traced)
        if options.fixed:
            with empty_suites():
                fixed_raw, fixed_outputs, _, _ = one_run(lake, day, settings, traced)
            print(f"  fixed cost (suites emptied): raw {fixed_raw:.2f} s, outputs {fixed_outputs:.2f} s")
        print(f"ratio raw/scan: {_ratio(raw_s, raw_scan)}, outputs/scan: {_ratio(outputs_s, outputs_scan)}, "
              f"validation/scan: {_ratio(raw_s + outputs_s, raw_scan + outputs_scan)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
