"""The DAG tests' Airflow environment, shared by the conftest and the tests (import it, never the conftest).

Airflow reads its configuration when first imported, so `use_test_airflow()`
runs when pytest loads tests/dags/conftest.py, before any test imports
airflow. The home is chosen once per process (remembered in the environment),
so importing this module twice cannot point Airflow somewhere else midway.
"""

import atexit
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
TEST_KEY = "tracelake-dag-tests-key-0123456789"
_HOME_VARIABLE = "TRACELAKE_TEST_AIRFLOW_HOME"


def airflow_home() -> Path:
    """Made once per process and removed when it exits (Airflow may still write its logs until then)."""
    if _HOME_VARIABLE not in os.environ:
        home = tempfile.mkdtemp(prefix="tracelake-airflow-tests-")
        os.environ[_HOME_VARIABLE] = home
        atexit.register(shutil.rmtree, home, True)
    return Path(os.environ[_HOME_VARIABLE])


def airflow_env() -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(airflow_home()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }


def use_test_airflow() -> None:
    """Point this process's Airflow at the throw-away home, and put dags/ on the path like the DAG processor."""
    os.environ.update(airflow_env())
    if str(DAGS) not in sys.path:
        sys.path.insert(0, str(DAGS))


def load_dag_module(name: str) -> ModuleType:
    """Import `dags/<name>.py` afresh, as the DAG processor would."""
    spec = importlib.util.spec_from_file_location(name, DAGS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
