"""Benchmark of the trace job: Spark (local mode) against its DuckDB twin on a province day, at 1x and 2x.

A vectorized generator writes the raw lake straight to Parquet (the lander's
layout and schemas, pseudonyms already applied) and fills the vault:
1,000,000 people at 1x and 40,000 venues, one check-in per person and day
for three days, Bluetooth encounters among the 30% who run Bluezone spread over the
14-day lookback, 0.05% confirmed cases (some discarded, some isolated), and a
few resends. Then both engines trace the same lake through `trace_day`, the
same call the CLI and Airflow make; then everything again with twice the data.

Spark's session start and a JIT warm-up on a tiny lake are reported apart:
the ratios compare the tracing work. Peak RSS is sampled every 100 ms: the
driver's (this Python process) and the whole process tree's (with Spark's
JVM), per program as bench/run.py counts it.

Each engine is also set against its own floor, measured right after its trace
in the same run: the read floor is one pass of that engine over every value of
the columns tracing reads (`TRACED_COLUMNS`) in the files the trace's own plan
lists (`plan_inputs`); the write floor is one write of the rows the trace just
produced (curated contacts, exposures, cases), held in the engine beforehand:
Spark's DataFrame writer, DuckDB's COPY ... TO parquet. Each floor is the best
of two runs. The last line is the worst trace/(read + write) over both engines
and sizes (goal <= 2.0).

With `--floors`, it then measures on the 1x lake what Spark pays before it
traces anything: one scan of the columns tracing reads (any plan reads them),
and the count of copies per event_id hash (the cheapest exact start of finding
resends measured, and the job's own first step), each the best of two warm
runs and printed as a share of the DuckDB twin's whole 1x time.

    .venv/bin/python bench/trace.py [--people 1000000] [--workdir DIR] [--keep] [--floors]
"""

import argparse
import dataclasses
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import GIB, _tree_rss
from jobs.trace.day import TraceResult, trace_day
from jobs.trace.plan import TRACED_TOPICS, InputPlan, plan_inputs
from jobs.trace.spark.raw_events import event_hash, read_raw
from jobs.trace.spark.session import spark_session
from jobs.trace.usable import CHECKS
from schemas.lake import RAW, VAULT
from tracelake.core.days import local_midnight
from tracelake.core.lake import Lake, segment_file_name
from tracelake.core.rules import Rules, load_rules
from tracelake.core.vault import IDENTITIES

DAY = date(2021, 8, 3)
PARTITIONS = 4
MINUTE_US = 60_000_000
DAY_US = 86_400_000_000
_GOLDEN = 0x9E3779B97F4A7C15
"""Scrambles person numbers into pseudonym-like hex strings."""


# --- the province generator --------------------------------------------------------


class Province:
    """Raw events of a province for day D, as numpy columns, written like the lander would."""

    def __init__(self, people: int, rules: Rules, seed: int) -> None:
        self.people = people
        self.rules = rules
        self.rng = np.random.default_rng(seed)
        self.pseudonyms = np.array([f"{(index * _GOLDEN) % 2**64:016x}{index:016x}" for index in range(people)])
        self.venues = np.array([f"venue-{index:06d}" for index in range(max(1, people // 25))])

    def _midnight_us(self, day: date) -> int:
        return int(local_midnight(day, self.rules.zone).timestamp() * 1_000_000)

    def _local_days(self, instants_us: np.ndarray) -> np.ndarray:
        """Local day index (days since the epoch) of each instant, for a zone without DST changes in the span."""
        offset = self.rules.zone.utcoffset(datetime(DAY.year, DAY.month, DAY.day))
        assert offset is not None
        return (instants_us + int(offset.total_seconds()) * 1_000_000) // DAY_US

    def checkins(self) -> pa.Table:
        rng = self.rng
        parts = []
        for back in range(3):
            count = self.people
            start = self._midnight_us(DAY - timedelta(days=back)) + rng.integers(6 * 3600, 22 * 3600, count) * 1_000_000
            start += rng.integers(0, 1_000_000, count)
            minutes = np.clip(rng.lognormal(np.log(25), 0.8, count), 3, 600)
            end = start + (minutes * MINUTE_US).astype(np.int64)
            weights = rng.lognormal(0.0, 0.7, self.venues.size)
            venue = rng.choice(self.venues.size, count, p=weights / weights.sum())
            parts.append((rng.integers(0, self.people, count), venue, start, end, rng.random(count) < 0.25))
        person, venue, start, end, open_ended = (np.concatenate(column) for column in zip(*parts, strict=True))
        columns = {
            "event_id": np.char.add("c-", np.arange(person.size).astype(str)),
            "person_pseudonym": self.pseudonyms[person],
            "venue_id": self.venues[venue],
            "checkin_at": start,
            "checkout_at": np.ma.masked_array(end, mask=open_ended),
            "source": np.full(person.size, "qr_venue"),
        }
        return self._table("checkins", columns, start, person % PARTITIONS)

    def sightings(self) -> pa.Table:
        rng = self.rng
        users = rng.choice(self.people, int(0.3 * self.people), replace=False)
        encounters = self.people
        first, second = rng.choice(users, encounters), rng.choice(users, encounters)
        keep = first != second
        first, second = first[keep], second[keep]
        range_start = self._midnight_us(DAY - timedelta(days=self.rules.lookback_days))
        range_end = self._midnight_us(DAY + timedelta(days=1))
        start = rng.integers(range_start, range_end - 3600 * 1_000_000, first.size)
        per_encounter = np.minimum(rng.geometric(0.2, first.size), 24)
        owner = np.repeat(np.arange(first.size), per_encounter)
        gaps = np.array([1, 3, 5, 5, 5, 6, 7, 12]) * MINUTE_US
        step = rng.choice(gaps, owner.size) + rng.integers(0, 1000, owner.size)
        first_rows = np.cumsum(per_encounter) - per_encounter
        within = np.arange(owner.size) - np.repeat(first_rows, per_encounter)
        running = np.where(within == 0, 0, step).cumsum()
        observed = start[owner] + running - running[first_rows][owner]
        flip = rng.random(owner.size) < 0.4
        reporter = np.where(flip, second[owner], first[owner])
        contact = np.where(flip, first[owner], second[owner])
        systems = np.array(["android", "ios"])
        os_of = rng.random(self.people) < 0.3
        rssi = np.clip(rng.normal(-76, 9, owner.size), -127, 20).astype(np.int32)
        columns = {
            "event_id": np.char.add("s-", np.arange(owner.size).astype(str)),
            "reporter_pseudonym": self.pseudonyms[reporter],
            "contact_pseudonym": self.pseudonyms[contact],
            "rssi": rssi,
            "reporter_os": systems[os_of[reporter].astype(int)],
            "contact_os": systems[os_of[contact].astype(int)],
            "observed_at": observed,
            "tx_power": np.full(owner.size, -59, dtype=np.int32),
        }
        inside = observed < range_end
        return self._table("proximity", {name: values[inside] for name, values in columns.items()},
                           observed[inside], reporter[inside] % PARTITIONS)

    def case_reports(self) -> pa.Table:
        rng = self.rng
        confirmed = rng.choice(self.people, max(1, self.people // 2000), replace=False)
        earliest = self._midnight_us(DAY - timedelta(days=2)) + 8 * 3600 * 1_000_000
        latest = self._midnight_us(DAY) + 20 * 3600 * 1_000_000
        reported = rng.integers(earliest, latest, confirmed.size)
        reported_day = self._local_days(reported)
        sample = reported_day - rng.integers(0, 3, confirmed.size)
        onset = np.ma.masked_array(sample - rng.integers(0, 4, confirmed.size), mask=rng.random(confirmed.size) < 0.5)
        discarded = rng.random(confirmed.size) < 0.05
        isolated = rng.random(confirmed.size) < 0.6
        persons = np.concatenate([confirmed, confirmed[discarded], confirmed[isolated]])
        kinds = np.concatenate(
            [np.full(confirmed.size, "confirmed"), np.full(discarded.sum(), "discarded"),
             np.full(isolated.sum(), "isolated")]
        )
        at = np.concatenate([
            reported, reported[discarded] + 6 * 3600 * 1_000_000, reported[isolated] + 3600 * 1_000_000
        ])
        isolated_at = reported[isolated] + rng.integers(-24 * 3600, 24 * 3600, isolated.sum()) * 1_000_000
        count = persons.size
        no_date = np.ma.masked_all(count - confirmed.size, dtype=np.int64)
        columns = {
            "event_id": np.char.add("r-", np.arange(count).astype(str)),
            "person_pseudonym": self.pseudonyms[persons],
            "kind": kinds,
            "reported_at": at,
            "sample_date": np.ma.concatenate([np.ma.masked_array(sample), no_date]),
            "onset_date": np.ma.concatenate([onset, no_date]),
            "isolated_at": np.ma.concatenate([
                np.ma.masked_all(confirmed.size + discarded.sum(), dtype=np.int64), np.ma.masked_array(isolated_at)
            ]),
        }
        return self._table("case_reports", columns, at, persons % PARTITIONS)

    def _table(self, topic: str, columns: dict[str, Any], landed_us: np.ndarray, partition: np.ndarray) -> pa.Table:
        """Add Kafka metadata, landed when sent, and a few resends (0.3%: same event, another partition, later)."""
        resent = np.flatnonzero(self.rng.random(landed_us.size) < 0.003)
        order = np.concatenate([np.arange(landed_us.size), resent])
        partitions = np.concatenate([partition, (partition[resent] + 1) % PARTITIONS]).astype(np.int32)
        schema = RAW[topic]
        arrays = {}
        for field in schema:
            if field.name in columns:
                arrays[field.name] = _arrow_column(columns[field.name], order, field.type)
        arrays["kafka_topic"] = pa.array(np.full(order.size, topic))
        arrays["kafka_partition"] = pa.array(partitions)
        arrays["kafka_offset"] = pa.array(np.zeros(order.size, dtype=np.int64))
        arrays["kafka_timestamp"] = pa.array(landed_us[order]).cast(pa.timestamp("us", tz="UTC"))
        arrays["landed_at"] = arrays["kafka_timestamp"]
        table = pa.table(arrays).select(schema.names).cast(schema)
        return table.append_column("_local_day", pa.array(self._local_days(landed_us[order])))

    def write(self, lake: Lake, vault: str) -> dict[str, int]:
        rows: dict[str, int] = {}
        for topic, table in (("checkins", self.checkins()), ("proximity", self.sightings()),
                             ("case_reports", self.case_reports())):
            rows[topic] = table.num_rows
            _land(lake, topic, table)
        identities = pa.table(
            {"pseudonym": self.pseudonyms, "person_id": np.char.add("+849", np.arange(self.people).astype(str))},
            schema=VAULT,
        )
        Path(vault, IDENTITIES).mkdir(parents=True, exist_ok=True)
        pq.write_table(identities, Path(vault, IDENTITIES, "bench.parquet"))
        return rows


def _arrow_column(values: Any, order: np.ndarray, kind: pa.DataType) -> pa.Array:
    picked = values[order]
    mask = np.ma.getmaskarray(picked) if np.ma.isMaskedArray(picked) else None
    data = np.ma.getdata(picked)
    if pa.types.is_timestamp(kind):
        return pa.array(data.astype(np.int64), mask=mask).cast(kind)
    if pa.types.is_date32(kind):
        return pa.array(data.astype(np.int32), mask=mask).cast(kind)
    return pa.array(data, mask=mask).cast(kind)


def _land(lake: Lake, topic: str, table: pa.Table) -> None:
    """One segment per (local day, partition), offsets in landing order, like the lander's files."""
    days = table.column("_local_day").to_numpy()
    partitions = table.column("kafka_partition").to_numpy()
    landed = table.column("kafka_timestamp").cast(pa.int64()).to_numpy()
    table = table.drop_columns(["_local_day"])
    for day_index in np.unique(days):
        day = date(1970, 1, 1) + timedelta(days=int(day_index))
        directory = Path(lake.raw_day(topic, day))
        directory.mkdir(parents=True, exist_ok=True)
        for partition in range(PARTITIONS):
            rows = np.flatnonzero((days == day_index) & (partitions == partition))
            if rows.size == 0:
                continue
            rows = rows[np.argsort(landed[rows], kind="stable")]
            offsets = pa.array(np.arange(rows.size, dtype=np.int64))
            segment = table.take(rows).set_column(table.schema.get_field_index("kafka_offset"), "kafka_offset", offsets)
            pq.write_table(segment, directory / segment_file_name(topic, partition, "bench", 0))


# --- measuring ------------------------------------------------------------------------


class PeakRss:
    """Peak resident memory of the driver (this process) and of its whole tree (Spark's JVM too), every 100 ms.

    The tree is summed per program by bench/run.py's `_tree_rss`, so both benchmarks count memory alike.
    """

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.driver = 0
        self.tree: dict[str, int] = {}
        self._stop = threading.Event()

    def _sample(self) -> None:
        with suppress(psutil.Error):
            self.driver = max(self.driver, self.process.memory_info().rss)
        now = _tree_rss(self.process)
        if sum(now.values()) > sum(self.tree.values()):
            self.tree = now

    def peak(self) -> str:
        """`driver 0.31 GiB, tree 2.40 GiB (java 2.09, python 0.31)`."""
        shares = sorted(self.tree.items(), key=lambda item: -item[1])
        return (f"driver {_gib(self.driver)}, tree {_gib(sum(self.tree.values()))} ("
                + ", ".join(f"{name} {rss / GIB:.2f}" for name, rss in shares) + ")")

    @contextmanager
    def watch(self) -> Iterator["PeakRss"]:
        self.driver = 0
        self.tree = {}
        self._sample()
        self._stop.clear()

        def sample() -> None:
            while not self._stop.wait(0.1):
                self._sample()

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            yield self
        finally:
            self._stop.set()
            sampler.join()
            self._sample()


def _timed(run: Callable[[], TraceResult], rss: PeakRss) -> tuple[float, TraceResult, str]:
    with rss.watch():
        started = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - started
    return seconds, result, rss.peak()


def _gib(size: int) -> str:
    return f"{size / GIB:.2f} GiB"


DEDUPLICATION_COLUMNS = ("event_id", "kafka_partition", "kafka_offset", "landed_at")
"""What finding resends reads of every topic: the copies of one event_id are ordered by landing, then position."""
KEPT_COLUMNS = {
    "checkins": ("person_pseudonym", "venue_id", "checkin_at", "checkout_at"),
    "proximity": ("reporter_pseudonym", "contact_pseudonym", "observed_at", "rssi", "reporter_os", "contact_os"),
    "case_reports": ("person_pseudonym", "kind", "reported_at", "sample_date", "onset_date", "isolated_at"),
}
"""What each topic's kept rows select (the `_Keep` readers of jobs/trace/spark/raw_events.py, the temp tables of
jobs/trace/duckdb/raw_events.py): both engines read the same columns."""


def _traced_columns(topic: str) -> tuple[str, ...]:
    """The raw columns tracing reads of `topic`, in the lake's order: those its usability checks name, its
    deduplication and its kept rows (a check's column-valued fields are those naming a raw column)."""
    names = RAW[topic].names
    named = {*DEDUPLICATION_COLUMNS, *KEPT_COLUMNS[topic]}
    for check in CHECKS[topic]:
        named.update(value for field in dataclasses.fields(check)
                     if isinstance(value := getattr(check, field.name), str) and value in names)
    return tuple(name for name in names if name in named)


TRACED_COLUMNS = {topic: _traced_columns(topic) for topic in TRACED_TOPICS}


def _best_of_two(run: Callable[[], None]) -> float:
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        run()
        runs.append(time.perf_counter() - started)
    return min(runs)


def _floors(spark: SparkSession, lake: Lake, rules: Rules, duckdb_seconds: float) -> None:
    """Spark's cost of reading the traced columns once and of counting copies per hash, against DuckDB's job."""
    files = plan_inputs(lake, DAY, rules.lookback_days).files
    large = ("checkins", "proximity")

    def scan() -> None:
        for topic in large:
            spark.read.parquet(*files[topic]).select(*TRACED_COLUMNS[topic]).write.format("noop").mode(
                "overwrite").save()

    def count_copies() -> None:
        for topic in large:
            spark.read.parquet(*files[topic]).groupBy(event_hash()).count().filter("count > 1").count()

    for label, run in (("one scan of the traced columns", scan), ("copies counted per event_id hash", count_copies)):
        seconds = _best_of_two(run)
        print(f"[1x] spark floor, {label}: {seconds:.1f} s = {seconds / duckdb_seconds:.2f} of DuckDB's whole job",
              flush=True)


# --- each engine's own floor ---------------------------------------------------------------

CURATED = ("contacts", "exposures", "cases")
"""The day's tables the trace writes, as `TraceResult.outputs` names them."""


@dataclass(frozen=True)
class Floor:
    """One engine's least cost of the trace's input and output: one read of the traced values, one write."""

    read: float
    write: float

    @property
    def total(self) -> float:
        return self.read + self.write


def _part_files(directory: str) -> list[str]:
    return sorted(str(path) for path in Path(directory).glob("*.parquet") if not path.name.startswith((".", "_")))


def _spark_floor(spark: SparkSession, plan: InputPlan, outputs: dict[str, str], scratch: Path) -> Floor:
    """Spark reading the traced columns with the job's own reader, and Spark's writer writing the cached outputs."""

    def read() -> None:
        for topic, columns in TRACED_COLUMNS.items():
            if plan.files[topic]:
                read_raw(spark, topic, plan.files[topic]).select(*columns).write.format("noop").mode(
                    "overwrite").save()

    frames = {table: spark.read.parquet(*_part_files(outputs[table])).cache() for table in CURATED}
    for frame in frames.values():
        frame.count()

    def write() -> None:
        for table, frame in frames.items():
            frame.write.mode("overwrite").parquet(str(scratch / "spark" / table))

    floor = Floor(_best_of_two(read), _best_of_two(write))
    for frame in frames.values():
        frame.unpersist()
    return floor


def _duckdb_floor(plan: InputPlan, outputs: dict[str, str], scratch: Path) -> Floor:
    """DuckDB aggregating every traced value once, and COPY ... TO parquet of the outputs held in tables."""
    connection = duckdb.connect()

    def read() -> None:
        for topic, columns in TRACED_COLUMNS.items():
            if plan.files[topic]:
                aggregates = ", ".join(f'min("{column}")' for column in columns)
                connection.execute(f"SELECT count(*), {aggregates} FROM read_parquet($files, union_by_name = true)",
                                   {"files": list(plan.files[topic])}).fetchall()

    for table in CURATED:
        connection.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet($files)",
                           {"files": _part_files(outputs[table])})
    (scratch / "duckdb").mkdir(parents=True, exist_ok=True)

    def write() -> None:
        for table in CURATED:
            connection.execute(f"COPY {table} TO '{scratch / 'duckdb' / table}.parquet' (FORMAT parquet)")

    floor = Floor(_best_of_two(read), _best_of_two(write))
    connection.close()
    return floor


@dataclass(frozen=True)
class Measured:
    """One size's trace time per engine, its floor per engine, and the bytes the trace's plan reads."""

    times: dict[str, float]
    floors: dict[str, Floor]
    input_bytes: int

    def over_floor(self, engine: str) -> float:
        return self.times[engine] / self.floors[engine].total


def _scale(label: str, people: int, workdir: Path, rules: Rules, rss: PeakRss, spark: SparkSession) -> Measured:
    root = workdir / label
    lake, vault = Lake(str(root / "lake")), str(root / "vault")
    started = time.perf_counter()
    rows = Province(people, rules, seed=len(label)).write(lake, vault)
    plan = plan_inputs(Lake(str(Path(lake.root).resolve())), DAY, rules.lookback_days)
    print(f"[{label}] {people:,} people: {rows['checkins']:,} check-ins, {rows['proximity']:,} sightings, "
          f"{rows['case_reports']:,} case reports; generated in {time.perf_counter() - started:.1f} s; "
          f"the trace reads {plan.total_bytes / 2**20:,.1f} MiB", flush=True)
    times: dict[str, float] = {}
    floors: dict[str, Floor] = {}
    exports = {}
    for engine in ("spark", "duckdb"):
        seconds, result, peak = _timed(partial(trace_day, lake.root, DAY, rules, vault=vault, engine=engine), rss)
        times[engine] = seconds
        exports[engine] = pq.read_table(Path(result.outputs["export"]) / "part-00000.parquet")
        stages = ", ".join(f"{stage} {value:.1f}" for stage, value in result.timings.items())
        tiers = ", ".join(f"{tier} {count:,}" for tier, count in result.tier_counts.items())
        print(f"[{label}] {engine:6s} {seconds:6.1f} s  peak RSS {peak}  ({stages})  tiers: {tiers}", flush=True)
        scratch = root / "floors"
        outputs = dict(result.outputs)
        floors[engine] = (_spark_floor(spark, plan, outputs, scratch) if engine == "spark"
                          else _duckdb_floor(plan, outputs, scratch))
        floor = floors[engine]
        print(f"[{label}] {engine:6s} trace {seconds:.1f} s, floor read {floor.read:.2f} s + write "
              f"{floor.write:.2f} s = {floor.total:.2f} s, trace/floor {seconds / floor.total:.2f}", flush=True)
    agree = exports["spark"].equals(exports["duckdb"])
    print(f"[{label}] exports identical: {'yes' if agree else 'NO'}", flush=True)
    return Measured(times, floors, plan.total_bytes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the generated lakes")
    parser.add_argument("--floors", action="store_true", help="also measure Spark's floors on the 1x lake")
    arguments = parser.parse_args(argv)
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="tracelake-bench-"))
    rules = load_rules()
    rss = PeakRss()
    try:
        started = time.perf_counter()
        spark, _ = spark_session()
        print(f"spark session start: {time.perf_counter() - started:.1f} s", flush=True)
        warm = workdir / "warmup"
        Province(2_000, rules, seed=0).write(Lake(str(warm / "lake")), str(warm / "vault"))
        started = time.perf_counter()
        trace_day(str(warm / "lake"), DAY, rules, vault=str(warm / "vault"), engine="spark")
        print(f"spark JIT warm-up on 2,000 people: {time.perf_counter() - started:.1f} s", flush=True)
        single = _scale("1x", arguments.people, workdir, rules, rss, spark)
        if arguments.floors:
            _floors(spark, Lake(str(workdir / "1x" / "lake")), rules, single.times["duckdb"])
        double = _scale("2x", 2 * arguments.people, workdir, rules, rss, spark)
        spark.stop()
    finally:
        if not arguments.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"data 2x/1x: {double.input_bytes / single.input_bytes:.2f} (bytes the trace's plan reads)")
    for engine in ("spark", "duckdb"):
        print(f"ratio {engine} 2x/1x: {double.times[engine] / single.times[engine]:.2f} (goal <= 2.2)")
    one, two = single.times, double.times
    print(f"ratio spark/duckdb at 1x: {one['spark'] / one['duckdb']:.2f}, "
          f"at 2x: {two['spark'] / two['duckdb']:.2f} (goal <= 1.5)")
    print(f"ratio spark/duckdb: {(one['spark'] + two['spark']) / (one['duckdb'] + two['duckdb']):.2f}")
    for engine in ("spark", "duckdb"):
        print(f"trace/floor {engine}: 1x {single.over_floor(engine):.2f}, 2x {double.over_floor(engine):.2f}")
    worst = max(measured.over_floor(engine) for measured in (single, double) for engine in ("spark", "duckdb"))
    print(f"worst trace/floor: {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
