"""The rules' `risk` and `capacity` sections: shipped values, defaults for older files, bounds."""

from pathlib import Path

import pytest
import yaml

from schemas import default_rules_path
from tracelake.core.rules import CapacityRules, RiskRules, RulesError, load_rules


def _rules_file(tmp_path: Path, section: str, changes: dict[str, object] | None) -> Path:
    """The shipped rules with `section` dropped (None) or some of its keys replaced."""
    document = yaml.safe_load(default_rules_path().read_text())
    if changes is None:
        del document[section]
    else:
        document[section] = {**document[section], **changes}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_the_shipped_file_spells_out_every_default() -> None:
    document = yaml.safe_load(default_rules_path().read_text())
    assert document["risk"] == RiskRules().model_dump()
    assert document["capacity"] == CapacityRules().model_dump()
    assert load_rules().capacity.default_calls_per_day == 200


@pytest.mark.parametrize("section", ["risk", "capacity"])
def test_a_rules_file_from_before_the_section_still_loads(tmp_path: Path, section: str) -> None:
    rules = load_rules(_rules_file(tmp_path, section, None))
    assert rules.risk == RiskRules() and rules.capacity == CapacityRules()


def test_a_section_may_change_one_key(tmp_path: Path) -> None:
    rules = load_rules(_rules_file(tmp_path, "risk", {"imputed_checkout_weight": 0.25}))
    assert rules.risk.imputed_checkout_weight == 0.25
    assert rules.risk.recency_half_life_days == 7.0


@pytest.mark.parametrize(
    ("section", "change", "message"),
    [
        ("risk", {"dose_scale_minutes": 0}, "risk.dose_scale_minutes: Input should be greater than 0"),
        ("risk", {"dose_scale_minutes": 1441}, "risk.dose_scale_minutes: Input should be less than or equal"),
        ("risk", {"imputed_checkout_weight": 1.5}, "risk.imputed_checkout_weight: Input should be less than or"),
        ("risk", {"venue_weight": -0.1}, "risk.venue_weight: Input should be greater than or equal to 0"),
        ("risk", {"rssi_doubling_db": 0}, "risk.rssi_doubling_db: Input should be greater than 0"),
        ("risk", {"max_closeness": 0.5}, "risk.max_closeness: Input should be greater than or equal to 1"),
        ("risk", {"crowd_reference_people": 0}, "risk.crowd_reference_people: Input should be greater than"),
        ("risk", {"crowd_reference_people": 2.5}, "risk.crowd_reference_people: Input should be a valid integer"),
        ("risk", {"crowding_exponent": float("inf")}, "risk.crowding_exponent: Input should be a finite number"),
        ("risk", {"recency_half_life_days": 61}, "risk.recency_half_life_days: Input should be less than or"),
        ("risk", {"extra_case_weight": True}, "risk.extra_case_weight: a number is expected here"),
        ("risk", {"typo": 1}, "risk.typo: unknown key"),
        ("capacity", {"default_calls_per_day": -1}, "capacity.default_calls_per_day: Input should be greater"),
        ("capacity", {"default_calls_per_day": "200"}, "capacity.default_calls_per_day: Input should be a valid"),
    ],
)
def test_a_bad_value_names_the_key(tmp_path: Path, section: str, change: dict[str, object], message: str) -> None:
    with pytest.raises(RulesError, match=message.replace(".", r"\.")):
        load_rules(_rules_file(tmp_path, section, change))


def test_bounds_are_inclusive(tmp_path: Path) -> None:
    rules = load_rules(_rules_file(tmp_path, "risk", {
        "imputed_checkout_weight": 0, "venue_weight": 1, "max_closeness": 1, "crowding_exponent": 0,
        "recency_half_life_days": 60, "dose_scale_minutes": 1440,
    }))
    assert (rules.risk.imputed_checkout_weight, rules.risk.max_closeness) == (0, 1)
    assert load_rules(_rules_file(tmp_path, "capacity", {"default_calls_per_day": 0})).capacity == CapacityRules(
        default_calls_per_day=0
    )
