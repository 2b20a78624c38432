"""The contract as files: JSON Schemas per topic, the lake's Arrow schemas, the default rules."""

from importlib.resources import files
from pathlib import Path

CASE_REPORTS_TOPIC = "case_reports"
TOPICS: tuple[str, ...] = ("checkins", "proximity", CASE_REPORTS_TOPIC, "venues")


def schema_dir() -> Path:
    return Path(str(files(__package__)))


def topic_json_schema_path(topic: str) -> Path:
    return schema_dir() / "topics" / f"{topic}.schema.json"


def default_rules_path() -> Path:
    return schema_dir() / "rules" / "vn-moh-2021.yaml"
