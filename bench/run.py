"""A whole `tracelake run` of one simulated day, each stage against a floor measured in the same run.

The goals of issue #16 (province scale) are set for 1,000,000 people on one
host; this benchmark is how later work checks them:

1. `tracelake simulate` writes the day's events (not measured with the run;
   its time and peak memory are reported apart).
2. Publish baseline: a bare kafka-python producer loop sends the same JSONL
   lines, with the same topics, keys and producer settings
   (`streams.kafka_config.producer_settings`) as `streams.publisher`, to a
   fresh embedded broker. The keys are computed before the clock starts:
   deriving them is the publisher's work, not the producer's.
3. `tracelake run` in a subprocess, with an embedded broker of its own
   (TRACELAKE_BOOTSTRAP_SERVERS is dropped so both publishes meet the same
   kind of broker) and the chosen trace engine. Its stage times come from the
   "Stages:" line it prints, the trace's own split from the day's trace
   manifest. Peak memory is the largest sum of RSS over the process and all its
   descendants (the broker, Spark's JVM), sampled with psutil every 0.2 s.
4. Validation baseline: one DuckDB scan of the columns the raw and output
   suites check (read from the suites themselves, `schemas/expectations`), over
   D's raw, curated and exported files. Export baseline: one pyarrow.parquet
   write of D's curated exposures to a scratch file.

Ingest is publish and land: `tracelake run` lands while it publishes, so
ingest is the wall time of both (its "ingest (publish + land overlapped)"
stage), not their sum. The last line is `ratio run/ingest: X.XX`: the run by
its own clock (ingest, then validation, trace and export; not the start-up)
over ingest. The goal, 1.5, means that everything after ingest costs at most
half of ingest.

Timings on a shared machine vary by several percent; run it three times and
report all three.

    .venv/bin/python bench/run.py [--people 1000000] [--date 2021-08-10] [--seed 7] [--days 1]
                                  [--engine spark|duckdb] [--workdir DIR] [--keep]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from kafka import KafkaProducer

from jobs.validation.suites import CURATED_TABLES, EXPORT_TABLES, RAW_TABLES, load_suite
from schemas.lake import CASES, CONTACTS, EXPOSURES_CURATED, EXPOSURES_EXPORT, RAW
from streams.broker import EmbeddedBroker
from streams.kafka_config import producer_settings
from streams.publisher import event_files, event_lines, message_key
from streams.topics import ensure_topics
from tracelake.cli.pipeline import INGEST
from tracelake.core.days import parse_day
from tracelake.core.lake import Lake
from tracelake.core.settings import Settings

GIB = 2**30
SAMPLE_EVERY_S = 0.2
STAGES_PREFIX = "Stages: "
"""How `tracelake run` begins the line of its stage times (tracelake/cli `_summary`)."""
WIDE_CONSOLE = {"COLUMNS": "10000"}
"""Rich wraps at 80 columns when it writes to a pipe: the stage line must stay one line."""

GOAL_PEOPLE = 1_000_000
GOAL_RUN_S = 300.0
GOAL_MEMORY = 4 * GIB
GOAL_PUBLISH_SPEED = 0.8
"""Publish at least this share of the bare producer's rate."""
GOAL_VALIDATION = 3.0
"""Validation at most this many times the DuckDB scan."""
GOAL_EXPORT = 3.0
"""Export at most this many times the exposures write."""
GOAL_RUN_OVER_INGEST = 1.5

CURATED_SCHEMAS: Mapping[str, pa.Schema] = {"contacts": CONTACTS, "exposures": EXPOSURES_CURATED, "cases": CASES}
EXPORT_SCHEMAS: Mapping[str, pa.Schema] = {"exposures": EXPOSURES_EXPORT}


# --- measuring a command -----------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """A finished command: its wall time, the peak RSS of its process tree and who held it, what it printed."""

    seconds: float
    peak_by_program: Mapping[str, int]
    stdout: str

    @property
    def peak_rss(self) -> int:
        return sum(self.peak_by_program.values())

    def peak(self) -> str:
        """`6.84 GiB (java 6.20, python 0.52, ...)`: the peak, and each program's share of it."""
        shares = sorted(self.peak_by_program.items(), key=lambda item: -item[1])
        return f"{self.peak_rss / GIB:.2f} GiB (" + ", ".join(f"{name} {rss / GIB:.2f}" for name, rss in shares) + ")"


def _tree_rss(root: psutil.Process) -> dict[str, int]:
    """RSS of `root` and of all its descendants, per program name; one that ends meanwhile counts for nothing."""
    by_program: dict[str, int] = {}
    with suppress(psutil.Error):
        for process in [root, *root.children(recursive=True)]:
            with suppress(psutil.Error):
                name = process.name()
                by_program[name] = by_program.get(name, 0) + process.memory_info().rss
    return by_program


def measure(command: Sequence[str], env: Mapping[str, str]) -> Measured:
    """Run `command` to the end, sampling its process tree's memory; exit on failure with its output."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(child.pid)
    peak = _tree_rss(root)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(SAMPLE_EVERY_S):
            now = _tree_rss(root)
            if sum(now.values()) > sum(peak.values()):
                peak = now

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if child.returncode != 0:
        sys.stderr.write(stdout[-4000:] + stderr[-4000:])
        raise SystemExit(f"{' '.join(command[2:4])} failed with exit code {child.returncode}")
    return Measured(seconds, peak, stdout)


def stage_times(stdout: str) -> dict[str, float]:
    """Seconds per stage from the run's `Stages: publish 8.0 s, land 8.5 s, ...` line, in its order."""
    for line in stdout.splitlines():
        if line.startswith(STAGES_PREFIX):
            stages = {}
            for item in line.removeprefix(STAGES_PREFIX).split(", "):
                name, seconds, _ = item.rsplit(" ", 2)
                stages[name] = float(seconds)
            return stages
    raise SystemExit("tracelake run printed no stage times (no line starting with 'Stages: ')")


# --- baselines -----------------------------------------------------------------------


def bare_publish(events: Path, partitions: int) -> tuple[float, int]:
    """Seconds a bare producer loop takes to send every event to a fresh embedded broker, and events sent.

    Failures are counted with an errback per send, as the publisher counts them: a baseline that lost
    messages must not pass for a fast one.
    """
    files = event_files(events)
    keys = {topic: [message_key(topic, value) for value in event_lines(path)] for topic, path in files.items()}
    failures: list[BaseException] = []
    with EmbeddedBroker(partitions=partitions) as broker:
        ensure_topics(broker.bootstrap, partitions)
        started = time.perf_counter()
        producer = KafkaProducer(**producer_settings(broker.bootstrap))
        for topic, path in files.items():
            for value, key in zip(event_lines(path), keys[topic], strict=True):
                producer.send(topic, value=value, key=key).add_errback(failures.append)
        producer.flush()
        producer.close()
        seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"the bare producer lost {len(failures):,} events: {failures[0]}")
    return seconds, sum(len(topic_keys) for topic_keys in keys.values())


def checked_columns(suite: str, schema: pa.Schema) -> list[str]:
    """The stored columns a suite's expectations name (derived columns are computed, not read)."""
    named: set[str] = set()
    for expectation in load_suite(suite)["expectations"]:
        kwargs = expectation["kwargs"]
        named.update(kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs)
        named.update(kwargs.get("column_list", ()))
    return [name for name in schema.names if name in named]


def _parquet_files(directory: str) -> list[str]:
    return sorted(str(path) for path in Path(directory).glob("*.parquet") if not path.name.startswith("."))


def _scan(connection: duckdb.DuckDBPyConnection, directory: str, columns: list[str]) -> float:
    """Seconds of one DuckDB pass over `columns` of a day directory's files (none: nothing to scan)."""
    files = _parquet_files(directory)
    if not files:
        return 0.0
    aggregates = ", ".join(f'min("{column}")' for column in columns)
    started = time.perf_counter()
    connection.sql(f"SELECT count(*), {aggregates} FROM read_parquet({files!r})").fetchall()
    return time.perf_counter() - started


def validation_scans(lake: Lake, day: date) -> tuple[float, float]:
    """Seconds of the DuckDB scan of what validate raw checks, and of what validate outputs checks."""
    connection = duckdb.connect()
    raw = sum(
        _scan(connection, lake.raw_day(topic, day), checked_columns(suite, RAW[topic]))
        for topic, suite in RAW_TABLES.items()
    )
    outputs = sum(
        _scan(connection, lake.curated_day(table, day), checked_columns(suite, CURATED_SCHEMAS[table]))
        for table, suite in CURATED_TABLES.items()
    ) + sum(
        _scan(connection, lake.export_day(table, day), checked_columns(suite, EXPORT_SCHEMAS[table]))
        for table, suite in EXPORT_TABLES.items()
    )
    connection.close()
    return raw, outputs


def exposures_write(lake: Lake, day: date, scratch: Path) -> tuple[float, int]:
    """Seconds of one pyarrow.parquet write of D's curated exposures (read beforehand), and their rows."""
    files = _parquet_files(lake.curated_day("exposures", day))
    table = pa.concat_tables([pq.read_table(path) for path in files]) if files else EXPOSURES_CURATED.empty_table()
    started = time.perf_counter()
    pq.write_table(table, scratch / "exposures.parquet")
    return time.perf_counter() - started, table.num_rows


# --- the report ----------------------------------------------------------------------


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def _row(stage: str, value: str, baseline: str = "", floor: float | None = None, ratio: str = "", goal: str = "",
         verdict: str = "") -> None:
    floor_text = "" if floor is None else f"{floor:.2f}"
    print(f"{stage:18s} {value:>10s}  {baseline:32s} {floor_text:>8s}  {ratio:>8s}  {goal:32s} {verdict}".rstrip())


def _ratio(seconds: float, floor: float) -> float:
    return seconds / floor if floor else float("inf")


def report(people: int, stages: Mapping[str, float], run: Measured, bare_s: float, scans: tuple[float, float],
           write_s: float) -> None:
    """The table of stages, baselines, ratios and goals; the last line is `ratio run/ingest: X.XX`."""
    scale_note = "" if people == GOAL_PEOPLE else f"n/a at {people:,} people"
    publish, land, ingest = stages["publish"], stages["land"], stages[INGEST]
    later = sum(seconds for stage, seconds in stages.items() if stage not in ("publish", "land", INGEST))
    raw_scan, outputs_scan = scans
    validation = stages["validate raw"] + stages["validate outputs"]
    speed = _ratio(bare_s, publish)
    validation_ratio = _ratio(validation, raw_scan + outputs_scan)
    export_ratio = _ratio(stages["export"], write_s)
    run_ratio = _ratio(ingest + later, ingest)

    print()
    _row("stage", "seconds", "baseline", None, "ratio", "goal (issue #16)")
    _row("publish", f"{publish:.1f}", "bare producer", bare_s, f"{speed:.2f}x",
         f"speed >= {GOAL_PUBLISH_SPEED:.2f}x bare", _verdict(speed >= GOAL_PUBLISH_SPEED))
    _row("land", f"{land:.1f}")
    _row("ingest", f"{ingest:.1f}", "publish + land, overlapped")
    _row("validate raw", f"{stages['validate raw']:.1f}", "DuckDB scan, raw", raw_scan,
         f"{_ratio(stages['validate raw'], raw_scan):.2f}x")
    _row("trace", f"{stages['trace']:.1f}")
    _row("validate outputs", f"{stages['validate outputs']:.1f}", "DuckDB scan, outputs", outputs_scan,
         f"{_ratio(stages['validate outputs'], outputs_scan):.2f}x")
    _row("validation", f"{validation:.1f}", "DuckDB scan, raw + outputs", raw_scan + outputs_scan,
         f"{validation_ratio:.2f}x", f"time <= {GOAL_VALIDATION:.2f}x scan",
         _verdict(validation_ratio <= GOAL_VALIDATION))
    _row("export", f"{stages['export']:.1f}", "exposures write", write_s, f"{export_ratio:.2f}x",
         f"time <= {GOAL_EXPORT:.2f}x write", _verdict(export_ratio <= GOAL_EXPORT))
    _row("other", f"{run.seconds - ingest - later:.1f}", "start-up, broker, summary")
    _row("total (wall)", f"{run.seconds:.1f}", goal=f"<= {GOAL_RUN_S:.0f} s at {GOAL_PEOPLE:,} people",
         verdict=scale_note or _verdict(run.seconds <= GOAL_RUN_S))
    _row("peak tree memory", f"{run.peak_rss / GIB:.2f} GiB",
         goal=f"<= {GOAL_MEMORY // GIB} GiB at {GOAL_PEOPLE:,} people",
         verdict=scale_note or _verdict(run.peak_rss <= GOAL_MEMORY))
    print()
    print(f"ingest is publish and land at once: {ingest:.1f} s of wall time for {publish + land:.1f} s of both")
    print(f"after ingest (validation, trace, export): {later:.1f} s, {_ratio(later, ingest):.2f}x ingest; "
          f"goal run/ingest <= {GOAL_RUN_OVER_INGEST:.2f}: {_verdict(run_ratio <= GOAL_RUN_OVER_INGEST)}")
    print(f"ratio run/ingest: {run_ratio:.2f}")


# --- main --------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--people", type=int, default=GOAL_PEOPLE)
    arguments.add_argument("--date", type=parse_day, default=date(2021, 8, 10), help="local day D, YYYY-MM-DD")
    arguments.add_argument("--seed", type=int, default=7)
    arguments.add_argument("--days", type=int, default=1, help="simulated days up to D")
    arguments.add_argument("--engine", choices=("spark", "duckdb"), default=Settings().trace_engine,
                           help="what traces the day (default: TRACELAKE_TRACE_ENGINE, else the project's default)")
    arguments.add_argument("--workdir", type=Path, help="an empty or new directory (default: a temporary one)")
    arguments.add_argument("--keep", action="store_true", help="keep the events, the lake and the vault")
    return arguments


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if options.workdir is not None and options.workdir.exists() and any(options.workdir.iterdir()):
        raise SystemExit(f"--workdir {options.workdir} is not empty: the benchmark removes it when done")
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="tracelake-bench-run-"))
    workdir.mkdir(parents=True, exist_ok=True)
    day: date = options.date
    events, lake_root, scratch = workdir / "events", workdir / "lake", workdir / "scratch"
    scratch.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "TRACELAKE_BOOTSTRAP_SERVERS"}
    env.update(WIDE_CONSOLE, TRACELAKE_TRACE_ENGINE=options.engine)
    tracelake = [sys.executable, "-m", "tracelake"]
    load = os.getloadavg()[0]
    print(f"{options.people:,} people, {options.days} day(s) up to {day}, seed {options.seed}, engine "
          f"{options.engine}; {os.cpu_count()} CPUs, load average {load:.1f}", flush=True)
    try:
        simulated = measure([*tracelake, "simulate", "--out", str(events), "--people", str(options.people),
                             "--date", day.isoformat(), "--days", str(options.days), "--seed", str(options.seed)], env)
        counts: dict[str, int] = json.loads((events / "simulation.json").read_text())["events"]
        print(f"simulate: {simulated.seconds:.1f} s, peak tree memory {simulated.peak()} "
              f"(not part of the run); {sum(counts.values()):,} events: "
              + ", ".join(f"{topic} {count:,}" for topic, count in counts.items()), flush=True)

        bare_s, sent = bare_publish(events, Settings().topic_partitions)
        print(f"bare producer: {sent:,} events in {bare_s:.1f} s ({sent / bare_s:,.0f} events/s)", flush=True)

        print("tracelake run ...", flush=True)
        run = measure([*tracelake, "run", "--events", str(events), "--lake", str(lake_root), "--date",
                       day.isoformat()], env)
        stages = stage_times(run.stdout)
        lake = Lake(str(lake_root))
        manifest = json.loads(Path(lake.manifest("trace", day)).read_text())
        print(f"tracelake run: {run.seconds:.1f} s, peak tree memory {run.peak()}; trace by its "
              "manifest: " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in manifest["timings"].items()))

        scans = validation_scans(lake, day)
        write_s, rows = exposures_write(lake, day, scratch)
        print(f"DuckDB scans of the validated columns: raw {scans[0]:.2f} s, outputs {scans[1]:.2f} s; "
              f"exposures write: {rows:,} rows in {write_s:.2f} s")
    finally:
        if options.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report(options.people, stages, run, bare_s, scans, write_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
