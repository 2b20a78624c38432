"""`retention_days`: how long personal data is kept, checked against what a run still has to read."""

from pathlib import Path

import pytest
import yaml

from schemas import default_rules_path
from tracelake.core.rules import RulesError, load_rules


def _rules_file(tmp_path: Path, **changes: object) -> Path:
    document = yaml.safe_load(default_rules_path().read_text())
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_the_shipped_rules_keep_21_days() -> None:
    assert load_rules().retention_days == 21


def test_a_file_without_the_key_keeps_21_days_or_the_lookback_plus_two(tmp_path: Path) -> None:
    assert load_rules(_rules_file(tmp_path, retention_days=None)).retention_days == 21
    assert load_rules(_rules_file(tmp_path, retention_days=None, lookback_days=30)).retention_days == 32


def test_the_window_may_end_exactly_where_the_lookback_does(tmp_path: Path) -> None:
    assert load_rules(_rules_file(tmp_path, retention_days=16)).retention_days == 16
    assert load_rules(_rules_file(tmp_path, retention_days=3650)).retention_days == 3650


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (15, "retention_days: Value error, must be at least lookback_days + 2 = 16"),
        (0, "retention_days: Input should be greater than or equal to 3"),
        (3651, "retention_days: Input should be less than or equal to 3650"),
        (21.5, "retention_days: Input should be a valid integer"),
        ("21", "retention_days: Input should be a valid integer"),
        (True, "retention_days: a number is expected here, not true/false"),
    ],
)
def test_a_bad_retention_names_the_key(tmp_path: Path, value: object, message: str) -> None:
    with pytest.raises(RulesError, match=message.replace(".", r"\.").replace("+", r"\+")):
        load_rules(_rules_file(tmp_path, retention_days=value))
