"""One SparkSession per process, sized for a small host when it runs locally.

Session start costs seconds; the trace job, tests and the benchmark reuse the
active session and report its start apart from the job's own stages. A
cluster master keeps the cluster's own sizing: only what the job's results
and logs depend on is set there.
"""

import sys
import time
from pathlib import Path

from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
PYTHON = "spark.pyspark.python"

SESSION_CONF: dict[str, str] = {
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.parallelismFirst": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "4096",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}",
}
"""Every session started here, on any master. Times are handled as epoch microseconds, so the session
zone is UTC and never matters. A day reads a few hundred segment files: listing them on the driver is
quicker than a Spark job to list them."""

DRIVER_MEMORY = "spark.driver.memory"
DEFAULT_DRIVER_MEMORY = "2g"
"""A local session's heap unless the caller hands down `Settings.spark_driver_memory`."""
LOCAL_SIZING: dict[str, str] = {
    "spark.sql.shuffle.partitions": "8",
    "spark.default.parallelism": "4",
    "spark.sql.autoBroadcastJoinThreshold": str(64 * 1024 * 1024),
    "spark.ui.enabled": "false",
}
"""A local master's sizing for a 2-core host, besides its heap (handed down from
`Settings.spark_driver_memory`): a cluster's own defaults know its machines."""


def is_local(master: str) -> bool:
    """`local` or `local[...]`: Spark in this process, on this host's cores."""
    return master == "local" or master.startswith("local[")


def session_conf(master: str, driver_memory: str = DEFAULT_DRIVER_MEMORY) -> dict[str, str]:
    """What a session this process starts on `master` is configured with.

    Local Python workers must be this interpreter (the project's venv), not
    whatever `python3` is on PATH; a cluster's workers run their own.
    """
    if not is_local(master):
        return dict(SESSION_CONF)
    sizing = {**LOCAL_SIZING, DRIVER_MEMORY: driver_memory}
    return {**SESSION_CONF, **sizing, PYTHON: sys.executable}


def spark_session(
    master: str | None = None, *, driver_memory: str = DEFAULT_DRIVER_MEMORY, submitted: bool = False
) -> tuple[SparkSession, float]:
    """The active session, or a new one on `master`; also the seconds spent starting it.

    Under spark-submit (`submitted`), the master and sizing come from its
    command line and are left alone.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, 0.0
    started = time.perf_counter()
    builder = SparkSession.builder.appName("tracelake-trace")
    conf: dict[str, str] = {}
    if not submitted:
        chosen = master or DEFAULT_MASTER
        conf = session_conf(chosen, driver_memory)
        builder = builder.master(chosen)
        for key, value in conf.items():
            builder = builder.config(key, value)
    session = builder.getOrCreate()
    if PYTHON in conf:
        # PySpark started in-process takes its workers' interpreter from PYSPARK_PYTHON only; the conf is the
        # one source here, so the context is told what it says instead of the environment being changed.
        session.sparkContext.pythonExec = conf[PYTHON]
    session.sparkContext.setLogLevel("ERROR")
    return session, time.perf_counter() - started
