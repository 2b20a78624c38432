"""One SparkSession per process, sized for a 2-core, 24 GiB machine unless a cluster is given.

Session start costs seconds; the trace job, tests and the benchmark reuse the
active session and report its start apart from the job's own stages.
"""

import os
import sys
import time
from pathlib import Path

from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")

LOCAL_CONF: dict[str, str] = {
    "spark.driver.memory": "6g",
    "spark.sql.shuffle.partitions": "8",
    "spark.default.parallelism": "4",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.parallelismFirst": "false",
    "spark.sql.autoBroadcastJoinThreshold": str(64 * 1024 * 1024),
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "4096",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}",
}
"""Times are handled as epoch microseconds, so the session zone is UTC and never matters. A day reads
a few hundred segment files: listing them on the driver is quicker than a Spark job to list them."""


def spark_session(master: str | None = None, *, submitted: bool = False) -> tuple[SparkSession, float]:
    """The active session, or a new one on `master`; also the seconds spent starting it.

    Under spark-submit (`submitted`), the master and sizing come from its
    command line and are left alone.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, 0.0
    started = time.perf_counter()
    builder = SparkSession.builder.appName("tracelake-trace")
    if not submitted:
        chosen = master or DEFAULT_MASTER
        if chosen.startswith("local"):
            # Local Python workers must be this interpreter (the project's venv), not whatever `python3` is on PATH.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = builder.master(chosen)
        for key, value in LOCAL_CONF.items():
            builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session, time.perf_counter() - started
