"""A Spark standalone cluster on this machine: one master and its workers, from the pyspark package's own launcher.

`--master spark://…` takes paths local mode never does: executors in JVMs of
their own, started by workers, reaching the driver over the network, reading
the lake by path. The cluster is the one a province would run (the compose
file's `spark-master` and `spark-worker`), minus Docker: `bin/spark-class` of
the installed pyspark, so its version is pyspark's by construction.

Everything listens on the loopback address, on ports chosen free at start;
each process writes its log, and each worker its executors' directories,
under the given directory, where a failure can be read.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyspark

SPARK_HOME = Path(pyspark.__file__).parent
SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"
LOOPBACK = "127.0.0.1"
LOG_TAIL_CHARS = 3000


@dataclass(frozen=True)
class StandaloneCluster:
    master: str
    """The master URL a driver is given: `spark://127.0.0.1:<port>`."""
    status_url: str
    """The master web UI's JSON status: workers, cores, running and completed applications."""
    driver_environment: Mapping[str, str]
    """What a driver of this cluster adds to its environment: the loopback address the executors reach it on."""
    directory: Path

    def status(self) -> dict[str, object]:
        with urllib.request.urlopen(self.status_url, timeout=5) as response:
            status: dict[str, object] = json.load(response)
        return status


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _tail(log: Path) -> str:
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    return f"--- {log.name} ---\n{text[-LOG_TAIL_CHARS:]}"


@dataclass
class _Daemon:
    name: str
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Terminate (a worker then kills its executors), kill what does not exit in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def _start(stack: ExitStack, name: str, directory: Path, launch_class: str, *arguments: str) -> _Daemon:
    """One Spark daemon with this test's Python for its Python workers; stopped when `stack` closes."""
    directory.mkdir(parents=True)
    environment = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_CONF_DIR": str(directory),
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_DAEMON_MEMORY": "512m",
        "SPARK_WORKER_DIR": str(directory / "work"),
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        "PYSPARK_PYTHON": sys.executable,
    }
    log = directory / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(SPARK_CLASS), launch_class, *arguments],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=environment, cwd=directory,
        )
    daemon = _Daemon(name, log, process)
    stack.callback(daemon.stop)
    return daemon


def _wait_for_workers(cluster: StandaloneCluster, daemons: list[_Daemon], workers: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    alive: object = None
    while time.monotonic() < deadline:
        exited = [daemon for daemon in daemons if daemon.process.poll() is not None]
        if exited:
            raise RuntimeError(
                f"Spark {', '.join(daemon.name for daemon in exited)} exited before the cluster was up\n"
                + "\n".join(_tail(daemon.log) for daemon in daemons)
            )
        try:
            alive = cluster.status().get("aliveworkers")
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            alive = None
        if alive == workers:
            return
        time.sleep(0.5)
    raise RuntimeError(
        f"{alive} of {workers} Spark workers registered with {cluster.master} after {timeout:.0f}s\n"
        + "\n".join(_tail(daemon.log) for daemon in daemons)
    )


@contextmanager
def standalone_cluster(
    directory: Path, *, workers: int = 2, cores: int = 1, memory: str = "1g", timeout: float = 120.0
) -> Iterator[StandaloneCluster]:
    """A master and `workers` workers of `cores` and `memory` each, all registered; stopped on exit."""
    port, ui_port = _free_port(), _free_port()
    cluster = StandaloneCluster(
        master=f"spark://{LOOPBACK}:{port}",
        status_url=f"http://{LOOPBACK}:{ui_port}/json/",
        driver_environment={"SPARK_LOCAL_IP": LOOPBACK},
        directory=directory,
    )
    with ExitStack() as stack:
        daemons = [
            _start(
                stack, "master", directory / "master", "org.apache.spark.deploy.master.Master",
                "--host", LOOPBACK, "--port", str(port), "--webui-port", str(ui_port),
            )
        ]
        for number in range(1, workers + 1):
            daemons.append(
                _start(
                    stack, f"worker-{number}", directory / f"worker-{number}", "org.apache.spark.deploy.worker.Worker",
                    cluster.master, "--host", LOOPBACK, "--cores", str(cores), "--memory", memory,
                    "--webui-port", str(_free_port()),
                )
            )
        _wait_for_workers(cluster, daemons, workers, timeout)
        yield cluster
