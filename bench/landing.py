"""Landing throughput against a bare kafka-python consume loop over the same topic, in the same run.

Publishes simulated-looking sightings to an embedded broker, then times (a) a
bare consume loop with the lander's own consumer and GC settings (CRC checks on) and
(b) the lander landing the same topic into a scratch lake, in a subprocess
whose peak RSS is measured. Both are timed from the moment the consumer group
hands them partitions to the last record (bare) or last commit (lander), so
Tansu's fixed ~3 s group-join delay counts for neither.

    python bench/landing.py [--events 1000000] [--members N]

The bare loop and the lander group run `--repeat` times each (default 2) and
the best run of each counts: a 2-core machine shared with the broker varies
by several percent from run to run. The last line is `ratio landing/bare:
X.XX` (goal: at least 0.8; peak RSS under 1 GiB per lander process).
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from kafka import ConsumerRebalanceListener, KafkaConsumer

from streams.broker import EmbeddedBroker
from streams.gc_tuning import tune_for_streaming
from streams.kafka_config import consumer_settings
from streams.publisher import publish_events

TOPIC = "proximity"
GIB = 1024**3
BENCH_KEY = "bench-key-0123456789abcdef"


def person_spellings(rng: random.Random, people: int) -> list[str]:
    """Phone numbers and citizen ids written the ways the contract allows (0912 345 678, +84..., 84-...)."""
    spellings = []
    for _ in range(people):
        digits = f"{rng.choice(['90', '91', '93', '94', '96', '97', '98', '32', '33', '86'])}{rng.randrange(10**7):07d}"
        form = rng.random()
        if form < 0.4:
            spellings.append(f"0{digits[:3]} {digits[3:6]} {digits[6:]}")
        elif form < 0.7:
            spellings.append(f"+84{digits}")
        elif form < 0.85:
            spellings.append(f"84-{digits[:3]}-{digits[3:6]}-{digits[6:]}")
        else:
            spellings.append(f"0{rng.randrange(10**11):011d}")
    return spellings


def write_sightings(path: Path, events: int, people: int, seed: int = 7) -> None:
    """`events` JSON lines of about 250 bytes, 0.5 % of them malformed, in a Bluezone-like shape."""
    rng = random.Random(seed)
    ids = person_spellings(rng, people)
    oses = ("android", "ios")
    start = 1_627_948_800  # 2021-08-03 00:00 +07:00
    with path.open("w", encoding="utf-8") as out:
        for number in range(events):
            reporter, contact = rng.sample(ids, 2)
            seconds = start + rng.randrange(86_400)
            hour, minute, second = (seconds // 3600) % 24, (seconds // 60) % 60, seconds % 60
            rssi = rng.randrange(-100, -40)
            if number % 200 == 199:
                rssi = 55  # out of range: quarantined
            out.write(
                f'{{"event_id":"px-{number:010d}-{rng.getrandbits(32):08x}","reporter_id":"{reporter}",'
                f'"contact_id":"{contact}","rssi":{rssi},"reporter_os":"{rng.choice(oses)}",'
                f'"contact_os":"{rng.choice(oses)}","observed_at":"2021-08-03T{hour:02d}:{minute:02d}:{second:02d}+07:00",'
                f'"tx_power":{rng.choice((-12, -8, -4))},"app_version":"4.3.{rng.randrange(9)}",'
                f'"device_model":"SM-A{rng.randrange(100, 999)}F"}}\n'
            )


class _Joined(ConsumerRebalanceListener):
    def __init__(self) -> None:
        self.at: float | None = None

    def on_partitions_assigned(self, assigned: Any) -> None:
        if self.at is None and assigned:
            self.at = time.monotonic()

    def on_partitions_revoked(self, revoked: Any) -> None:
        pass


def bare_consume(bootstrap: str, events: int, group: str = "bench-bare") -> dict[str, float]:
    """The baseline: read every record and touch its value, nothing else (with the lander's GC settings)."""
    tune_for_streaming()
    cpu_started = time.process_time()
    consumer = KafkaConsumer(**consumer_settings(bootstrap, group))
    joined = _Joined()
    started = time.monotonic()
    consumer.subscribe([TOPIC], listener=joined)
    seen = 0
    value_bytes = 0
    while seen < events:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                value_bytes += len(record.value)
            seen += len(records)
    finished = time.monotonic()
    cpu = time.process_time() - cpu_started
    consumer.close()
    assert joined.at is not None
    return {"seconds": finished - joined.at, "joining_s": joined.at - started, "records": seen, "cpu_s": cpu}


class _BrokerCpu:
    """CPU seconds the broker process spent between laps: serving reads is part of every rate."""

    def __init__(self, broker: EmbeddedBroker) -> None:
        self._process = psutil.Process(broker.pid) if broker.pid else None
        self._last = self._total()

    def _total(self) -> float:
        if self._process is None:
            return float("nan")
        times = self._process.cpu_times()
        return times.user + times.system

    def lap(self) -> float:
        total = self._total()
        spent, self._last = total - self._last, total
        return spent


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and its descendants (Linux /proc), 0 where unavailable."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def run_lander(bootstrap: str, members: int, group: str) -> dict[str, float]:
    """Land the topic from scratch in a subprocess; its counts, timings and peak memory."""
    scratch = tempfile.mkdtemp(prefix="tracelake-bench-")
    env = dict(
        os.environ,
        TRACELAKE_BOOTSTRAP_SERVERS=bootstrap,
        TRACELAKE_LAKE=f"{scratch}/lake",
        TRACELAKE_PSEUDONYMIZATION_KEY=BENCH_KEY,
        TRACELAKE_CONSUMER_GROUP=group,
    )
    child = subprocess.Popen(
        [sys.executable, __file__, "--lander-child", str(members)], env=env, stdout=subprocess.PIPE, text=True
    )
    peak_tree = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not done.wait(0.2):
            peak_tree = max(peak_tree, _tree_rss(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)  # this child's own usage: ru_maxrss covers its processes
    child.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"the lander failed with exit code {child.returncode}")
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    result["peak_process_rss"] = usage.ru_maxrss * 1024
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["peak_tree_rss"] = peak_tree
    subprocess.run(["rm", "-rf", scratch], check=False)
    return result


def lander_child(members: int) -> None:
    """Inside the subprocess: land until idle and print the counts as JSON."""
    from streams.fleet import land_in_parallel
    from streams.lander import land
    from tracelake.core.settings import Settings

    settings = Settings()
    key = BENCH_KEY.encode()
    if members == 1:
        counts = land(settings, key, until_idle=True)
    else:
        counts = land_in_parallel(settings, key, until_idle=True, members=members)
    print(json.dumps({
        "landed": counts.total_landed, "quarantined": counts.total_quarantined, "files": counts.total_files,
        "seconds": counts.landing_s, "joining_s": counts.joining_s or 0.0,
    }))


def _report_bare(bare: dict[str, float], sent: int) -> None:
    print(
        f"bare consume loop: {sent / bare['seconds']:,.0f} events/s (group join {bare['joining_s']:.1f} s); "
        f"CPU {bare['cpu_s'] / sent * 1e6:.1f} µs/event, broker {bare['broker_cpu_s'] / sent * 1e6:.1f} µs/event"
    )


def _report_lander(members: int, landed: dict[str, float], rate: float, sent: int, bare_rate: float) -> None:
    print(
        f"lander, {members} process{'es' if members > 1 else ''}: {rate:,.0f} events/s "
        f"({landed['landed']:,.0f} landed, {landed['quarantined']:,.0f} quarantined, {landed['files']:.0f} files; "
        f"group join {landed['joining_s']:.1f} s); peak RSS {landed['peak_process_rss'] / GIB:.2f} GiB "
        f"per process, {landed['peak_tree_rss'] / GIB:.2f} GiB all processes; "
        f"CPU {landed['cpu_s'] / sent * 1e6:.1f} µs/event (with interpreter start), "
        f"broker {landed['broker_cpu_s'] / sent * 1e6:.1f} µs/event; ratio {rate / bare_rate:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=min(os.cpu_count() or 1, 4), help="lander processes")
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of the bare loop and of the lander group; the best of each counts"
    )
    parser.add_argument("--lander-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.lander_child:
        lander_child(args.lander_child)
        return

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.events:,} events, {args.people:,} people, {os.cpu_count()} CPUs, load average {load:.1f}")
    with tempfile.TemporaryDirectory(prefix="tracelake-bench-events-") as events_dir:
        started = time.monotonic()
        write_sightings(Path(events_dir) / f"{TOPIC}.jsonl", args.events, args.people)
        size = (Path(events_dir) / f"{TOPIC}.jsonl").stat().st_size
        print(f"generated in {time.monotonic() - started:.1f} s, {size / args.events:.0f} bytes per event")
        with EmbeddedBroker(partitions=4) as broker:
            started = time.monotonic()
            sent = publish_events(events_dir, broker.bootstrap)[TOPIC]
            publish_s = time.monotonic() - started
            print(f"publish (kafka-python, idempotent, acks=all): {sent / publish_s:,.0f} events/s")

            broker_cpu = _BrokerCpu(broker)
            bare_rate = 0.0
            for run in range(args.repeat):
                bare = bare_consume(broker.bootstrap, sent, group=f"bench-bare-{run}")
                bare["broker_cpu_s"] = broker_cpu.lap()
                bare_rate = max(bare_rate, sent / bare["seconds"])
                _report_bare(bare, sent)

            rates: dict[int, float] = {}
            for members in sorted({1, args.members}):
                for run in range(args.repeat if members == args.members else 1):
                    broker_cpu.lap()
                    landed = run_lander(broker.bootstrap, members, group=f"bench-lander-{members}-{run}")
                    landed["broker_cpu_s"] = broker_cpu.lap()
                    total = landed["landed"] + landed["quarantined"]
                    if total != sent:
                        raise SystemExit(f"the lander accounted for {total} of {sent} events")
                    rate = total / landed["seconds"]
                    rates[members] = max(rates.get(members, 0.0), rate)
                    _report_lander(members, landed, rate, sent, bare_rate)
    print(f"best of {args.repeat}: bare {bare_rate:,.0f} events/s, lander ({args.members} processes) "
          f"{rates[args.members]:,.0f} events/s")
    print(f"ratio landing/bare: {rates[args.members] / bare_rate:.2f}")


if __name__ == "__main__":
    main()
