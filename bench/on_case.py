"""A new F0's contacts, from the report landed in the lake to the tracers' worklist, as Airflow runs it.

Issue #17 asks that a new F0's F1 and F2 be in the tracers' worklist within
60 s of their confirmed report being landed, on a 1,000,000-person lake. This
benchmark measures that path end to end:

1. `tracelake simulate` writes day D (not measured), `streams.publisher`
   publishes it to an embedded broker and the lander lands it; then D is
   traced and exported once, as the daily run leaves it (not measured).
2. The lander keeps running as a service (`streams.lander.Lander.run`, in a
   thread), the on-case DAG's own `AssetWatcher` trigger (the Kafka
   provider's message-queue trigger with `case_decision` as its filter) runs
   in another, and a watcher polls D's published worklists.
3. Per run, a confirmed report for a person who was no F0 (among the people
   with the most check-ins and sightings of D) is sent to `case_reports`.
   The lander lands it (its commit is the start of the clock); the trigger
   fires; its event is registered as the triggerer does (`AssetManager.
   register_asset_change` with `from_trigger` and the payload) and consumed by
   the run, as the scheduler links an asset-triggered run to its events; the
   DAG runs with `dag.test()`: `wait_for_reports` (which waits for that
   report's offset to be committed), `trace`, `validate_outputs`, `publish_lists` (D's new tables with the
   worklists made from them), `export` (the rest of D).
   The clock stops when D's published worklist files change and then hold
   every F1 of the new F0 (the export's rows with tier F1 and the F0 among
   their sources), in a worklist or a notification list.

The simulated day is in the past, so the run's `run_after` is set to D's
evening: the DAG traces "today" as of that moment, as it would have on D.
`dag.test()` runs the tasks in this process, so the Spark session of the
baseline trace is reused (a worker process would start its own); the
session's start is reported apart.

Per run it prints each stage's seconds (landed → trigger fired, → run
started, each task's time by Airflow's own task-instance clocks, → worklists
written) and `seconds report→worklist: X`; the last lines sum up all runs
(goal: at most 60 s at 1,000,000 people).

    .venv/bin/python bench/on_case.py [--people 1000000] [--runs 3] [--engine spark|duckdb]
                                      [--date 2021-08-10] [--seed 7] [--days 1] [--workdir DIR] [--keep]
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH_KEY = "bench-on-case-key-0123456789"
TRIGGER_GROUP = "tracelake-case-trigger-bench"
TRIGGER_WARM_UP_S = 30.0
"""How long the trigger gets to join its group before the report is sent: a triggerer is always running.
Joining takes about 24 s on the embedded broker (FINDINGS.md); with 15 s, the rest of the join was counted
as the trigger's reaction (7.5 s of 169.6 s at 1,000,000 people)."""
WATCH_EVERY_S = 0.05
END_QUIET_S = 3.0
"""How long `case_reports` must stay silent to be read to its end."""
GOAL_S = 60.0


@dataclass
class Moments:
    """Wall-clock instants (time.time()) of one run, filled by the threads that see them."""

    sent: float = 0.0
    landed: float | None = None
    fired: float | None = None
    registered: float | None = None
    worklists: list[float] = field(default_factory=list)
    """Every change of D's published worklist files seen after `sent`."""


class LandingClock:
    """The lander's progress callback: the moments its commits of `case_reports` rows went through."""

    def __init__(self) -> None:
        self.commits: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, topic: str, events: int) -> None:
        if topic == "case_reports":
            with self._lock:
                self.commits.append(time.time())

    def first_after(self, moment: float) -> float | None:
        with self._lock:
            return next((commit for commit in self.commits if commit >= moment), None)


class WorklistWatcher:
    """Polls D's published worklist files and records when they change (a publication moved new ones in)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.changes: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="worklist-watcher", daemon=True)

    def _signature(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        try:
            for district in os.scandir(self.directory):
                path = os.path.join(district.path, "worklist.csv")
                with_stat = os.stat(path) if os.path.exists(path) else None
                if with_stat is not None:
                    found.append((path, with_stat.st_ino, with_stat.st_mtime_ns))
        except FileNotFoundError:
            return ()
        return tuple(sorted(found))

    def _watch(self) -> None:
        last = self._signature()
        while not self._stop.wait(WATCH_EVERY_S):
            now = self._signature()
            if now and now != last:
                self.changes.append(time.time())
            last = now

    def __enter__(self) -> "WorklistWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- the lake -------------------------------------------------------------------------


def airflow_environment(home: Path) -> dict[str, str]:
    """Airflow's own variables for a throw-away home over the repo's dags/ (set before Airflow is imported)."""
    from tracelake.airflow.launcher import dags_folder

    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }


def candidates(events: Path, day: date, count: int) -> list[str]:
    """Normalized ids of people with no case report, the most check-ins and sightings on D first."""
    from tracelake.core.identity import normalize_person_id

    reported = set()
    with (events / "case_reports.jsonl").open("rb") as lines:
        for line in lines:
            report = _object(line)
            with_id = report.get("person_id")
            if isinstance(with_id, str):
                reported.add(normalize_person_id(with_id))
    seen: Counter[str] = Counter()
    prefix = day.isoformat()
    for topic, fields, at in (("checkins", ("person_id",), "checkin_at"),
                              ("proximity", ("reporter_id", "contact_id"), "observed_at")):
        with (events / f"{topic}.jsonl").open("rb") as lines:
            for line in lines:
                event = _object(line)
                if not str(event.get(at, "")).startswith(prefix):
                    continue
                for name in fields:
                    raw = event.get(name)
                    person = normalize_person_id(raw) if isinstance(raw, str) else None
                    if person is not None and person not in reported:
                        seen[person] += 1 if topic == "proximity" else 20
    return [person for person, _ in seen.most_common(count)]


def _object(line: bytes) -> dict[str, Any]:
    """One simulated event, or nothing for the simulator's deliberately malformed lines."""
    import orjson

    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
    return event if isinstance(event, dict) else {}


def build_lake(work: Path, people: int, day: date, days: int, seed: int, bootstrap: str) -> dict[str, float]:
    """Simulate (unless `work/events` holds a simulation already), publish, land until idle: the lake the
    on-case runs start from; seconds per step."""
    from pydantic import SecretStr

    from simulator.simulate import simulate
    from streams.lander import land
    from streams.publisher import publish_events
    from tracelake.core.settings import Settings

    seconds = {}
    if not (work / "events" / "case_reports.jsonl").is_file():
        clock = time.perf_counter()
        simulate(people, day, days=days, seed=seed, out=work / "events")
        seconds["simulate"] = time.perf_counter() - clock
    clock = time.perf_counter()
    publish_events(work / "events", bootstrap)
    seconds["publish"] = time.perf_counter() - clock
    clock = time.perf_counter()
    settings = Settings(lake=str(work / "lake"), vault=str(work / "vault"), bootstrap_servers=bootstrap,
                        pseudonymization_key=SecretStr(BENCH_KEY))
    land(settings, BENCH_KEY.encode(), until_idle=True)
    seconds["land"] = time.perf_counter() - clock
    return seconds


def trace_and_export(work: Path, day: date, engine: str) -> tuple[float, float]:
    """D as the daily run publishes it, before any new report: the state each on-case run changes.
    Seconds of the trace and of the export."""
    from jobs.publish.day import export_day
    from jobs.trace.day import begin_day, trace_day
    from tracelake.core.rules import load_rules

    rules = load_rules(None)
    clock = time.perf_counter()
    publication = begin_day(str(work / "lake"), day)
    trace_day(str(work / "lake"), day, rules, vault=str(work / "vault"), engine=engine,  # type: ignore[arg-type]
              spark_master="local[2]", into=publication)
    traced = time.perf_counter() - clock
    export_day(str(work / "lake"), day, rules, vault=str(work / "vault"), publication=publication)
    return traced, time.perf_counter() - clock - traced


def start_trigger_group_at_end(bootstrap: str) -> None:
    """Commit the trigger group's offsets at the end of `case_reports` before each run: it reacts to the new
    report only, as a triggerer that has been running all along and has fired on every earlier one.

    Each partition's end is found by reading it to the last record: the embedded broker's ListOffsets does not
    answer the log end (FINDINGS.md), so `end_offsets` would send the trigger back over every earlier report.
    """
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=TRIGGER_GROUP, enable_auto_commit=False)
    try:
        partitions = [TopicPartition("case_reports", number)
                      for number in sorted(consumer.partitions_for_topic("case_reports") or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = dict.fromkeys(partitions, 0)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < END_QUIET_S:
            batches = consumer.poll(timeout_ms=500)
            for partition, records in batches.items():
                ends[partition] = max(ends[partition], records[-1].offset + 1)
            if batches:
                quiet_since = time.monotonic()
        consumer.commit({partition: OffsetAndMetadata(end, "", -1) for partition, end in ends.items()})
    finally:
        consumer.close()


# --- one run ----------------------------------------------------------------------------


class TriggerThread:
    """The DAG's AssetWatcher trigger, run like the triggerer runs it, until it fires on the bench's report.

    An event for any other report (one sent while a slow broker had not yet
    taken the trigger group's offsets) is counted and the trigger runs again.
    """

    def __init__(self, trigger: Any, moments: Moments) -> None:
        self.trigger = trigger
        self.moments = moments
        self.payload: dict[str, Any] | None = None
        self.other_reports = 0
        self.error: BaseException | None = None
        self._target: tuple[int, int] | None = None
        self._aimed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="case-trigger", daemon=True)

    def aim(self, partition: int, offset: int) -> None:
        """The report to wait for, once the broker has acknowledged it."""
        self._target = (partition, offset)
        self._aimed.set()

    async def _next_event(self) -> Any:
        try:
            async for event in self.trigger.run():
                return event
        finally:
            await self.trigger.trigger.cleanup()
        return None

    async def _until_ours(self) -> None:
        while True:
            event = await self._next_event()
            fired = time.time()
            await asyncio.to_thread(self._aimed.wait, 120)
            if (event.payload.get("partition"), event.payload.get("offset")) == self._target:
                self.moments.fired = fired
                self.payload = event.payload
                return
            self.other_reports += 1

    def _run(self) -> None:
        try:
            asyncio.run(asyncio.wait_for(self._until_ours(), timeout=600))
        except BaseException as problem:  # the main thread reports it
            self.error = problem

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        if self.error is not None:
            raise RuntimeError(f"the case-report trigger failed: {self.error!r}") from self.error
        if self.payload is None:
            raise RuntimeError(f"the case-report trigger did not fire within {timeout:.0f} s")


def send_report(bootstrap: str, person: str, day: date, zone: Any, number: int) -> tuple[int, int]:
    """One confirmed report, sampled the day before D, reported on D's evening (within D, so D traces it);
    returns where it sits in Kafka (partition, offset)."""
    from kafka import KafkaProducer

    from streams.publisher import message_key

    reported = datetime.combine(day, clock_time(21, number % 60), tzinfo=zone)
    event = {
        "event_id": f"cr-bench-on-case-{number}", "person_id": person, "kind": "confirmed",
        "reported_at": reported.isoformat(), "sample_date": (day - timedelta(days=1)).isoformat(),
    }
    value = json.dumps(event).encode()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        sent = producer.send("case_reports", key=message_key("case_reports", value), value=value).get(timeout=60)
        return sent.partition, sent.offset
    finally:
        producer.close()


def register_trigger_event(asset: Any, payload: dict[str, Any]) -> int:
    """What the triggerer does with a trigger's event (`Trigger.submit_event`): an asset event of the watcher's
    asset, with `from_trigger` and the payload as its extra. Returns the event's id."""
    from airflow.assets.manager import AssetManager
    from airflow.serialization.definitions.assets import SerializedAssetUniqueKey
    from airflow.utils.session import create_session

    with create_session() as session:
        event = AssetManager.register_asset_change(
            asset=SerializedAssetUniqueKey(name=asset.name, uri=asset.uri),
            extra={"from_trigger": True, "payload": payload}, session=session,
        )
        if event is None:
            raise RuntimeError(f"Airflow knows no asset {asset.name!r}: was the DAG synced?")
        session.flush()
        return int(event.id)


@contextmanager
def consuming(event_id: int) -> Iterator[None]:
    """Have `dag.test()`'s run consume the asset event, as the scheduler links an asset-triggered run to the
    events that queued it (`DagRun.consumed_asset_events`): the tasks see it as `triggering_asset_events`."""
    import airflow.models.dagrun as dagrun_module
    from airflow.models.asset import AssetEvent

    original = dagrun_module.get_or_create_dagrun

    def create(**kwargs: Any) -> Any:
        run = original(**kwargs)
        session = kwargs["session"]
        run.consumed_asset_events.append(session.get(AssetEvent, event_id))
        session.commit()
        return run

    with mock.patch.object(dagrun_module, "get_or_create_dagrun", create):
        yield


def sync_dags() -> None:
    """Write the DAGs and their assets into Airflow's database, as the DAG processor does before any trigger."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.utils.session import create_session

    manager = DagBundlesManager()
    with create_session() as session:
        manager.sync_bundles_to_db(session=session)
    for bundle in manager.get_all_dag_bundles():
        if not bundle.is_initialized:
            bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        sync_bag_to_db(bag, bundle.name, bundle.version)


def listed_people(worklists: Path, notifications: Path) -> set[str]:
    """Everyone in D's worklists (to call) and notification lists (over the districts' capacity)."""
    import csv

    people: set[str] = set()
    for path in worklists.glob("district=*/worklist.csv"):
        with path.open(encoding="utf-8-sig", newline="") as rows:
            people.update(row["phone_or_citizen_id"] for row in csv.DictReader(rows))
    for path in notifications.glob("district=*/notify.csv"):
        with path.open(encoding="utf-8-sig", newline="") as rows:
            for row in csv.DictReader(rows):
                people.update(value for value in (row.get("number"), row.get("citizen_id")) if value)
    return people


def contacts_of(lake: Path, day: date, person: str) -> tuple[set[str], set[str]]:
    """The new F0's F1s (the export's F1 rows with the F0 among their sources) and their F2s."""
    import pyarrow.dataset as ds

    table = ds.dataset(lake / "exports" / "exposures" / f"date={day.isoformat()}", format="parquet").to_table(
        columns=["person_id", "tier", "source_ids"])
    rows = table.to_pylist()
    f1 = {row["person_id"] for row in rows if row["tier"] == "F1" and person in (row["source_ids"] or [])}
    f2 = {row["person_id"] for row in rows if row["tier"] == "F2" and f1 & set(row["source_ids"] or [])}
    return f1, f2


@dataclass
class RunResult:
    person: str
    seconds: float | None
    stages: dict[str, float]
    f1: int
    f2: int
    missing: int
    dag_state: str
    tasks: dict[str, str]


def one_run(number: int, person: str, module: Any, work: Path, day: date, bootstrap: str,
            landing: LandingClock, log: Callable[[str], None]) -> RunResult:
    """Send one report and follow it through the lander, the trigger and the DAG to the worklists."""
    zone = module.RULES.zone
    start_trigger_group_at_end(bootstrap)
    moments = Moments()
    (watcher,) = module.CASE_DECISIONS.watchers
    trigger = TriggerThread(watcher.trigger, moments)
    trigger.start()
    time.sleep(TRIGGER_WARM_UP_S)
    published = work / "lake" / "exports" / "worklists" / f"date={day.isoformat()}"
    with WorklistWatcher(published) as worklists:
        moments.sent = time.time()
        partition, offset = send_report(bootstrap, person, day, zone, number)
        trigger.aim(partition, offset)
        trigger.join(timeout=600)
        event_id = register_trigger_event(module.CASE_DECISIONS, trigger.payload or {})
        moments.registered = time.time()
        run_after = datetime.combine(day, clock_time(23, 30, number % 60), tzinfo=zone)  # one run id each
        with consuming(event_id):
            run = module.DAG.test(run_after=run_after)
        finished = time.time()
    moments.landed = landing.first_after(moments.sent)
    moments.worklists = [moment for moment in worklists.changes if moment >= moments.sent]
    instances = {ti.task_id: ti for ti in run.get_task_instances()}
    tasks = {task: str(ti.state) for task, ti in instances.items()}
    f1, f2 = contacts_of(work / "lake", day, person)
    listed = listed_people(published, work / "lake" / "exports" / "notifications" / f"date={day.isoformat()}")
    missing = len((f1 | f2) - listed)
    written = moments.worklists[0] if moments.worklists else None
    seconds = None if written is None or moments.landed is None or missing else written - moments.landed
    base = moments.landed or moments.sent
    stages = {"report sent → landed (lander's commit)": (moments.landed or finished) - moments.sent,
              "landed → trigger fired": (moments.fired or finished) - base,
              "trigger fired → asset event registered": (moments.registered or finished) - (moments.fired or base)}
    previous = moments.registered or base
    for task in ("wait_for_reports", "trace", "validate_outputs", "publish_lists", "export"):
        ti = instances.get(task)
        if ti is None or ti.start_date is None or ti.end_date is None:
            continue
        stages[f"→ {task} started (Airflow)"] = ti.start_date.timestamp() - previous
        stages[f"{task}"] = (ti.end_date - ti.start_date).total_seconds()
        previous = ti.end_date.timestamp()
    lists = instances.get("publish_lists")
    if written is not None and lists is not None and lists.start_date is not None:
        stages["publish_lists started → worklists published"] = written - lists.start_date.timestamp()
    log(f"run {number}: report at case_reports {partition}:{offset} ({trigger.other_reports} other report(s) fired "
        f"first); DAG {run.state}, tasks {tasks}; F1 {len(f1)}, F2 {len(f2)}, not listed {missing}")
    return RunResult(person, seconds, stages, len(f1), len(f2), missing, str(run.state), tasks)


def trace_timings(lake: Path, day: date) -> dict[str, float]:
    """The last trace's own split of its time (the trace manifest's `timings`)."""
    manifest = lake / "manifests" / "trace" / f"date={day.isoformat()}" / "manifest.json"
    try:
        return dict(json.loads(manifest.read_text()).get("timings", {}))
    except (OSError, ValueError):
        return {}


# --- main -----------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    parsed = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parsed.add_argument("--people", type=int, default=1_000_000)
    parsed.add_argument("--runs", type=int, default=3)
    parsed.add_argument("--engine", choices=["spark", "duckdb"], default="spark")
    parsed.add_argument("--date", type=date.fromisoformat, default=date(2021, 8, 10))
    parsed.add_argument("--seed", type=int, default=7)
    parsed.add_argument("--days", type=int, default=1)
    parsed.add_argument("--workdir", type=Path, default=None,
                        help="work directory; a simulation already in its events/ is reused")
    parsed.add_argument("--keep", action="store_true", help="keep the work directory")
    return parsed


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    work = arguments.workdir or Path(tempfile.mkdtemp(prefix="tracelake-bench-on-case-"))
    work.mkdir(parents=True, exist_ok=True)
    day: date = arguments.date

    def log(line: str) -> None:
        print(line, flush=True)

    os.environ.update(airflow_environment(work / "airflow-home"))
    try:
        return _bench(arguments, work, day, log)
    finally:
        if not arguments.keep:
            shutil.rmtree(work, ignore_errors=True)


def _bench(arguments: argparse.Namespace, work: Path, day: date, log: Callable[[str], None]) -> int:
    from pydantic import SecretStr

    from streams.broker import EmbeddedBroker
    from streams.lander import Lander
    from tracelake.airflow.launcher import AirflowSettings, kafka_connection

    migrated = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=dict(os.environ),
                              capture_output=True, text=True, timeout=600, check=False)
    if migrated.returncode != 0:
        log(f"airflow db migrate failed:\n{migrated.stderr[-3000:]}")
        return 1
    with EmbeddedBroker(partitions=4) as broker:
        log(f"{arguments.people:,} people, {arguments.days} day(s) up to {day}, engine {arguments.engine}")
        built = build_lake(work, arguments.people, day, arguments.days, arguments.seed, broker.bootstrap)
        log("lake: " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in built.items()))
        people = candidates(work / "events", day, arguments.runs)
        traced, exported = trace_and_export(work, day, arguments.engine)
        log(f"baseline of {day} (D as the daily run published it): trace {traced:.1f} s, export {exported:.1f} s")
        settings = AirflowSettings(
            lake=str(work / "lake"), vault=str(work / "vault"), bootstrap_servers=broker.bootstrap,
            pseudonymization_key=SecretStr(BENCH_KEY), trace_engine=arguments.engine, spark_master="local[2]",
            case_trigger_group=TRIGGER_GROUP,
        )
        os.environ.update({
            "TRACELAKE_LAKE": settings.lake, "TRACELAKE_VAULT": settings.vault_location,
            "TRACELAKE_BOOTSTRAP_SERVERS": broker.bootstrap, "TRACELAKE_PSEUDONYMIZATION_KEY": BENCH_KEY,
            "TRACELAKE_TRACE_ENGINE": arguments.engine, "TRACELAKE_SPARK_MASTER": "local[2]",
            "TRACELAKE_CASE_TRIGGER_GROUP": TRIGGER_GROUP,
            "AIRFLOW_CONN_KAFKA_DEFAULT": kafka_connection(settings) or "",
        })
        module = _dag_module()
        sync_dags()
        landing = LandingClock()
        stop = threading.Event()
        lander = threading.Thread(
            target=Lander(settings, BENCH_KEY.encode()).run, kwargs={"until_idle": False, "stop_event": stop,
                                                                     "progress": landing},
            name="lander", daemon=True,
        )
        lander.start()
        results = []
        try:
            for number, person in enumerate(people, start=1):
                result = one_run(number, person, module, work, day, broker.bootstrap, landing, log)
                results.append(result)
                for stage, seconds in result.stages.items():
                    log(f"  {stage:<45} {seconds:7.1f} s")
                split = ", ".join(f"{name} {seconds:.1f}" for name, seconds in trace_timings(work / "lake",
                                                                                            day).items())
                log(f"  trace's own split (s): {split}")
                shown = "n/a" if result.seconds is None else f"{result.seconds:.1f}"
                log(f"seconds report→worklist: {shown}")
        finally:
            stop.set()
            lander.join(timeout=60)
    figures = [result.seconds for result in results if result.seconds is not None]
    log(f"runs: {', '.join('n/a' if r.seconds is None else f'{r.seconds:.1f}' for r in results)} s "
        f"at {arguments.people:,} people (goal <= {GOAL_S:.0f} s at 1,000,000)")
    if not figures:
        log("seconds report→worklist: n/a")
        return 1
    log(f"seconds report→worklist: {max(figures):.1f}")
    return 0 if len(figures) == len(results) else 1


def _dag_module() -> Any:
    """`dags/tracelake_on_case.py` imported as the DAG processor does (its settings read from the environment)."""
    import importlib.util

    from tracelake.airflow.launcher import dags_folder

    if str(dags_folder()) not in sys.path:
        sys.path.insert(0, str(dags_folder()))
    spec = importlib.util.spec_from_file_location("tracelake_on_case", dags_folder() / "tracelake_on_case.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    raise SystemExit(main())
