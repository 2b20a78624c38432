"""The launcher's environment for `airflow standalone`: ours on top, theirs untouched, and no key, no start."""

import json
from pathlib import Path

import pytest

from tracelake.airflow.launcher import (
    AirflowSettings,
    airflow_environment,
    airflow_settings,
    dags_folder,
    run_standalone,
)
from tracelake.core.settings import Settings
from tracelake.core.vault import MissingKeyError


def test_airflow_runs_our_dags_with_our_settings(tmp_path: Path) -> None:
    settings = AirflowSettings(
        lake=str(tmp_path / "lake"), airflow_home=str(tmp_path / "home"), bootstrap_servers="kafka:9092",
        pseudonymization_key="a-key-of-at-least-16-chars", airflow_catchup=True,
    )
    environment = airflow_environment(settings, base={"PATH": "/usr/bin", "AIRFLOW__CORE__DEFAULT_TIMEZONE": "UTC"})
    assert environment["PATH"] == "/usr/bin"
    assert environment["AIRFLOW_HOME"] == str(tmp_path / "home")
    assert environment["AIRFLOW__CORE__DAGS_FOLDER"] == str(dags_folder())
    assert (dags_folder() / "tracelake_daily.py").is_file()
    assert environment["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert environment["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "UTC", "an operator's own Airflow setting wins"
    assert environment["TRACELAKE_LAKE"] == str(tmp_path / "lake")
    assert environment["TRACELAKE_VAULT"] == str(tmp_path / "lake-vault")
    assert environment["TRACELAKE_PSEUDONYMIZATION_KEY"] == "a-key-of-at-least-16-chars"
    assert AirflowSettings.model_validate({}).airflow_catchup is False
    assert environment["TRACELAKE_AIRFLOW_CATCHUP"] == "True"
    connection = json.loads(environment["AIRFLOW_CONN_KAFKA_DEFAULT"])
    assert connection["extra"]["bootstrap.servers"] == "kafka:9092"
    assert connection["extra"]["group.id"] == "tracelake-case-trigger"


def test_settings_round_trip_through_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = AirflowSettings(lake=str(tmp_path / "lake"), airflow_home=str(tmp_path / "home"),
                               landing_timeout_minutes=5, pseudonymization_key="a-key-of-at-least-16-chars")
    for name, value in airflow_environment(settings, base={}).items():
        if name.startswith("TRACELAKE_"):
            monkeypatch.setenv(name, value)
    again = AirflowSettings()
    assert again.landing_timeout_minutes == 5
    assert again.airflow_start_date == settings.airflow_start_date
    assert again.vault_location == settings.vault_location


def test_airflow_does_not_start_without_a_pseudonymization_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACELAKE_PSEUDONYMIZATION_KEY", raising=False)
    settings = AirflowSettings(lake=str(tmp_path / "lake"), airflow_home=str(tmp_path / "home"))
    with pytest.raises(MissingKeyError, match="TRACELAKE_PSEUDONYMIZATION_KEY"):
        run_standalone(settings)
    with pytest.raises(MissingKeyError):
        run_standalone(Settings(lake=str(tmp_path / "lake")))
    assert not (tmp_path / "home").exists()


def test_the_shared_settings_carry_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACELAKE_LANDING_TIMEOUT_MINUTES", "7")
    settings = airflow_settings(Settings(lake=str(tmp_path / "lake"), spark_master="spark://x:7077"))
    assert settings.lake == str(tmp_path / "lake")
    assert settings.spark_master == "spark://x:7077"
    assert settings.landing_timeout_minutes == 7
