"""The expectation suites as data: one JSON file per table in `schemas/expectations/`, beside the schemas.

A suite is Great Expectations' own JSON form (`name`, `meta`, `expectations`
of `type` + `kwargs` + `meta.notes`), so it can be read and reviewed without
running anything. Values that depend on the day or the run (day bounds, the
lander's counts, the rules' tiers) are `{"$PARAMETER": name}` placeholders that
the runner fills in.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from schemas import schema_dir

RAW_TABLES: dict[str, str] = {
    "checkins": "raw_checkins",
    "proximity": "raw_proximity",
    "case_reports": "raw_case_reports",
}
"""Topic → suite of its raw partition; venues carry no day and no person, so the daily check skips them."""

LANDING = "landing"
LANDING_SEGMENTS = "landing_segments"
CURATED_TABLES: dict[str, str] = {
    "contacts": "curated_contacts",
    "exposures": "curated_exposures",
    "cases": "curated_cases",
}
EXPORT_TABLES: dict[str, str] = {"exposures": "exports_exposures"}


def expectations_dir() -> Path:
    return schema_dir() / "expectations"


def suite_path(name: str) -> Path:
    return expectations_dir() / f"{name}.json"


@cache
def load_suite(name: str) -> dict[str, Any]:
    """The suite document for one table; a missing or broken file is a packaging bug, so it raises."""
    path = suite_path(name)
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if document.get("name") != name or not isinstance(document.get("expectations"), list):
        raise ValueError(f"{path} is not the expectation suite {name!r} (needs name and expectations)")
    return document


def suite_names() -> list[str]:
    return sorted(path.stem for path in expectations_dir().glob("*.json"))


def parameters_of(document: dict[str, Any]) -> set[str]:
    """Every `$PARAMETER` a suite needs, so the runner can refuse to run with one missing."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if set(value) == {"$PARAMETER"}:
                found.add(str(value["$PARAMETER"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk([expectation.get("kwargs", {}) for expectation in document["expectations"]])
    return found
