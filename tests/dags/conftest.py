"""Airflow for the DAG tests: a throw-away AIRFLOW_HOME, migrated once per session.

The environment is set when pytest loads this file, before any test module
imports airflow; the user's own AIRFLOW_HOME is never touched.
"""

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dags.airflow_env import airflow_env, airflow_home, use_test_airflow
from tests.dags.province import Province, landed_province

use_test_airflow()


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """`airflow db migrate` once, in a subprocess with the test environment (SQLite in the temp home)."""
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env={**os.environ, **airflow_env()},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    yield airflow_home()


@pytest.fixture(scope="session")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Province]:
    """One landed province for the session; tests that change its lake work on a copy."""
    with landed_province(tmp_path_factory.mktemp("province")) as landed:
        yield landed
    if "pyspark" in sys.modules:
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()
        if session is not None:
            session.stop()
        logging.getLogger("py4j").setLevel(logging.WARNING)  # its goodbye comes after pytest closed the streams
