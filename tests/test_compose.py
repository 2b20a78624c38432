"""docker-compose.yml and the Dockerfile, read as data: no Docker engine runs on the build machines.

The checks are the mistakes that would only show on the first `docker compose
up`: a missing service or health check, a dependency that waits on nothing,
a setting not passed, a secret with a default, the vault mounted where it has
no business.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ("checkins", "proximity", "case_reports", "venues")
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
ONE_SHOT = ("kafka-init", "airflow-init")
NO_DEFAULT = re.compile(r"^\$\{(?P<name>[A-Z_]+):\?[^}]+\}$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {str(key): str(value) for key, value in environment.items()}


def _volume_sources(service: dict[str, Any]) -> dict[str, str]:
    """Named volume → mount target (with `:ro` kept on the target)."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, _, target = str(entry).partition(":")
        mounts[source] = target
    return mounts


def _command(service: dict[str, Any]) -> str:
    parts = []
    for key in ("entrypoint", "command"):
        value = service.get(key, [])
        parts.extend(value if isinstance(value, list) else [value])
    return " ".join(str(part) for part in parts)


def test_every_part_of_the_stack_is_a_service(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= {
        "kafka", "kafka-init", "lander", "spark-master", "spark-worker", "postgres", *AIRFLOW_SERVICES, "airflow-init",
    }
    assert not [name for name in services if "zookeeper" in name]


def test_kafka_runs_in_kraft_mode_from_the_official_image(services: dict[str, dict[str, Any]]) -> None:
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = _environment(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert "CONTROLLER://:9093" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert env["CLUSTER_ID"]
    assert not [name for name in env if "ZOOKEEPER" in name]
    assert "kafka-topics.sh" in " ".join(kafka["healthcheck"]["test"])
    assert _volume_sources(kafka)["kafka-data"] == env["KAFKA_LOG_DIRS"]


def test_topics_are_created_once_with_venues_compacted(services: dict[str, dict[str, Any]]) -> None:
    init = services["kafka-init"]
    assert init["image"] == services["kafka"]["image"]
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert init["restart"] == "no"
    script = _command(init)
    for topic in TOPICS:
        assert re.search(rf"\b{topic}\b", script), topic
    assert re.search(r"--topic venues[^\n]*\\\n[^\n]*\\\n\s*--config cleanup.policy=compact", script)
    assert script.count('--partitions "$${TRACELAKE_TOPIC_PARTITIONS}"') == 2
    assert _environment(init)["TRACELAKE_TOPIC_PARTITIONS"].startswith("${TRACELAKE_TOPIC_PARTITIONS")


def test_spark_master_and_worker_from_the_official_image(services: dict[str, dict[str, Any]]) -> None:
    master, worker = services["spark-master"], services["spark-worker"]
    assert master["image"].startswith("apache/spark:") and worker["image"] == master["image"]
    assert _command(master) == "/opt/spark/bin/spark-class org.apache.spark.deploy.master.Master"
    assert _command(worker) == (
        "/opt/spark/bin/spark-class org.apache.spark.deploy.worker.Worker spark://spark-master:7077"
    )
    assert worker["depends_on"]["spark-master"]["condition"] == "service_healthy"
    assert _volume_sources(worker)["lake"] == "/lake:ro"
    assert "container_name" not in worker and "ports" not in worker  # --scale spark-worker=N must work


def test_airflow_follows_the_official_pattern_on_our_image(services: dict[str, dict[str, Any]]) -> None:
    commands = {name: _command(services[name]) for name in AIRFLOW_SERVICES}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
    }
    for name in (*AIRFLOW_SERVICES, "airflow-init"):
        service = services[name]
        assert service["build"]["dockerfile"] == "Dockerfile", name
        env = _environment(service)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert re.fullmatch(r"postgresql\+psycopg2://airflow:\$\{AIRFLOW_POSTGRES_PASSWORD:\?[^}]+\}@postgres/airflow",
                            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        connection = json.loads(env["AIRFLOW_CONN_KAFKA_DEFAULT"])
        assert connection["conn_type"] == "kafka"
        assert connection["extra"]["bootstrap.servers"] == "kafka:9092"
        assert connection["extra"]["group.id"] != env["TRACELAKE_CONSUMER_GROUP"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    init = _environment(services["airflow-init"])
    assert init["_AIRFLOW_DB_MIGRATE"] == "true" and init["_AIRFLOW_WWW_USER_CREATE"] == "true"
    for name in AIRFLOW_SERVICES:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    assert services["airflow-scheduler"]["hostname"] == "airflow-scheduler"
    assert _environment(services["airflow-scheduler"])["SPARK_LOCAL_HOSTNAME"] == "airflow-scheduler"


def test_the_lander_is_a_long_running_service(services: dict[str, dict[str, Any]]) -> None:
    lander = services["lander"]
    assert _command(lander).endswith("tracelake land")
    assert lander["restart"] == "unless-stopped"
    assert lander["build"]["dockerfile"] == "Dockerfile"
    assert lander["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert lander["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
    assert "container_name" not in lander and "ports" not in lander  # --scale lander=N must work


@pytest.mark.parametrize("name", ["lander", *AIRFLOW_SERVICES])
def test_tracelake_settings_are_passed(services: dict[str, dict[str, Any]], name: str) -> None:
    env = _environment(services[name])
    assert env["TRACELAKE_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["TRACELAKE_LAKE"] == "/lake"
    assert env["TRACELAKE_VAULT"] == "/vault"
    assert env["TRACELAKE_SPARK_MASTER"] == "spark://spark-master:7077"
    assert _volume_sources(services[name])["lake"] == "/lake"


def test_the_key_has_no_default_and_only_reaches_who_needs_it(services: dict[str, dict[str, Any]]) -> None:
    holders = {name for name, service in services.items() if "TRACELAKE_PSEUDONYMIZATION_KEY" in _environment(service)}
    assert holders == {"lander", "airflow-scheduler"}
    for name in holders:
        value = _environment(services[name])["TRACELAKE_PSEUDONYMIZATION_KEY"]
        match = NO_DEFAULT.fullmatch(value)
        assert match and match["name"] == "TRACELAKE_PSEUDONYMIZATION_KEY", value
    vault_mounts = {name for name, service in services.items() if "vault" in _volume_sources(service)}
    assert vault_mounts == {"lander", "airflow-scheduler", "airflow-init"}


def test_no_secret_is_written_in_the_file(services: dict[str, dict[str, Any]]) -> None:
    secret_name = re.compile(r"PASSWORD|SECRET|FERNET|PSEUDONYMIZATION_KEY")
    for name, service in services.items():
        for key, value in _environment(service).items():
            if secret_name.search(key):
                assert NO_DEFAULT.fullmatch(value), f"{name}: {key} must come from .env without a default"


def test_health_checks_and_what_waits_for_them(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name not in ONE_SHOT:
            assert "healthcheck" in service, f"{name} has no health check"
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            condition = rule["condition"]
            if dependency in ONE_SHOT:
                assert condition == "service_completed_successfully", (name, dependency)
            else:
                assert condition == "service_healthy", (name, dependency)
                assert "healthcheck" in services[dependency]


def test_volumes_are_named_and_declared(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    declared = set(compose["volumes"])
    assert {"lake", "vault"} <= declared
    for name, service in services.items():
        for source in _volume_sources(service):
            assert source in declared, f"{name} mounts {source}, not a named volume"


def test_published_ports_do_not_collide(services: dict[str, dict[str, Any]]) -> None:
    host_ports = [str(port).split(":")[0] for service in services.values() for port in service.get("ports", [])]
    assert len(host_ports) == len(set(host_ports))


def test_the_dockerfile_extends_airflow_with_java_and_the_project() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11" in dockerfile
    assert "FROM ${AIRFLOW_IMAGE}" in dockerfile
    assert re.search(r"apt-get install[^\n]*(openjdk-\d+-jre-headless|default-jre-headless)", dockerfile)
    assert "JAVA_HOME=" in dockerfile
    assert re.search(r'pip install[^\n]*"apache-airflow==\$\{AIRFLOW_VERSION\}"[^\n]*/opt/tracelake', dockerfile)
    assert "AIRFLOW__CORE__DAGS_FOLDER=/opt/tracelake/dags" in dockerfile
    assert dockerfile.index("USER airflow") < dockerfile.index("pip install")
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv", "lake", "lake-vault", ".git"} <= set(ignored)
