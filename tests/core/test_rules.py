from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from schemas import default_rules_path
from tracelake.core.rules import RulesError, load_rules


def test_default_rules_reproduce_the_contract() -> None:
    rules = load_rules()
    assert rules.version == "vn-moh-2021"
    assert rules.timezone == "Asia/Ho_Chi_Minh"
    assert rules.lookback_days == 14
    assert rules.infectious_window.days_before_onset == 2
    assert rules.infectious_window.days_before_sample == 2
    assert rules.default_stay == timedelta(minutes=60)
    assert rules.linger == timedelta(minutes=30)
    assert rules.min_overlap == timedelta(minutes=15)
    assert rules.ble.rssi_threshold_dbm == {
        "android-android": -86, "android-ios": -69, "ios-android": -88, "ios-ios": -74}
    assert rules.merge_gap == timedelta(minutes=6)
    assert rules.min_cumulative == timedelta(minutes=15)
    assert rules.tiers.max_depth == 2


def _write(tmp_path: Path, change: dict[str, object]) -> Path:
    document = yaml.safe_load(default_rules_path().read_text())
    for dotted, value in change.items():
        node = document
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lookback_days": -1}, "lookback_days"),
        ({"venue.linger_minutes": None}, "venue.linger_minutes: missing key"),
        ({"ble.rssi_threshold_dbm": {"android-android": -80}}, "ble.rssi_threshold_dbm"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"tiers.max_depth": 0}, "tiers.max_depth"),
        ({"venue.typo_minutes": 3}, "venue.typo_minutes: unknown key"),
        ({"version": ""}, "version"),
        ({"lookback_days": 0}, "lookback_days: Input should be greater than or equal to 1"),
        ({"lookback_days": 61}, "lookback_days: Input should be less than or equal to 60"),
        ({"lookback_days": 10**30}, "lookback_days: Input should be less than or equal to 60"),
        ({"lookback_days": True}, "lookback_days: a number is expected here, not true/false"),
        ({"lookback_days": 14.5}, "lookback_days: Input should be a valid integer"),
        ({"tiers.max_depth": 6}, "tiers.max_depth: Input should be less than or equal to 5"),
        ({"venue.linger_minutes": float("inf")}, "venue.linger_minutes: Input should be a finite number"),
        ({"venue.linger_minutes": float("nan")}, "venue.linger_minutes: Input should be a finite number"),
        ({"venue.linger_minutes": -1}, "venue.linger_minutes: Input should be greater than or equal to 0"),
        ({"venue.linger_minutes": 1441}, "venue.linger_minutes: Input should be less than or equal to 1440"),
        ({"venue.linger_minutes": "30"}, "venue.linger_minutes: Input should be a valid number"),
        ({"venue.default_stay_minutes": 0}, "venue.default_stay_minutes: Input should be greater than 0"),
        ({"venue.default_stay_minutes": 1e308}, "venue.default_stay_minutes: Input should be less than or equal"),
        ({"venue.min_overlap_minutes": False}, "venue.min_overlap_minutes: a number is expected here"),
        ({"ble.merge_gap_minutes": -0.5}, "ble.merge_gap_minutes: Input should be greater than or equal to 0"),
        ({"ble.min_cumulative_minutes": 2000}, "ble.min_cumulative_minutes: Input should be less than or equal"),
        ({"ble.rssi_threshold_dbm.ios-ios": 21}, "ble.rssi_threshold_dbm.ios-ios: Input should be less than or equal"),
        ({"ble.rssi_threshold_dbm.ios-ios": -128}, "ble.rssi_threshold_dbm.ios-ios: Input should be greater than"),
        ({"infectious_window.days_before_onset": 61}, "infectious_window.days_before_onset: Input should be less"),
        ({"infectious_window.days_before_sample": -1}, "infectious_window.days_before_sample: Input should be greater"),
    ],
)
def test_a_bad_rules_file_names_the_key_and_the_problem(tmp_path: Path, change: dict[str, object],
                                                       message: str) -> None:
    with pytest.raises(RulesError, match=message.replace(".", r"\.")):
        load_rules(_write(tmp_path, change))


def test_unreadable_and_non_yaml_files_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read rules file"):
        load_rules(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [unclosed")
    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules(bad)
    bad.write_text("- a list")
    with pytest.raises(RulesError, match="must be a mapping"):
        load_rules(bad)


def test_newer_rules_load_with_their_own_version(tmp_path: Path) -> None:
    rules = load_rules(_write(tmp_path, {"version": "vn-moh-2022", "venue.min_overlap_minutes": 10}))
    assert rules.version == "vn-moh-2022"
    assert rules.min_overlap == timedelta(minutes=10)


def test_bounds_are_inclusive_where_the_rules_say_so(tmp_path: Path) -> None:
    rules = load_rules(_write(tmp_path, {
        "lookback_days": 60, "retention_days": 62, "tiers.max_depth": 5, "venue.default_stay_minutes": 1440,
        "venue.linger_minutes": 0,
        "ble.rssi_threshold_dbm.ios-ios": 20, "ble.rssi_threshold_dbm.android-android": -127,
        "infectious_window.days_before_onset": 60, "infectious_window.days_before_sample": 0,
    }))
    assert (rules.lookback_days, rules.tiers.max_depth) == (60, 5)
    assert rules.default_stay == timedelta(days=1)
    assert rules.linger == timedelta(0)
    assert rules.ble.rssi_threshold_dbm["ios-ios"] == 20


def test_yaml_spellings_of_infinity_and_nan_are_refused(tmp_path: Path) -> None:
    text = default_rules_path().read_text()
    for spelling in (".inf", "-.inf", ".nan", ".NaN"):
        path = tmp_path / "rules.yaml"
        path.write_text(text.replace("linger_minutes: 30", f"linger_minutes: {spelling}"))
        with pytest.raises(RulesError, match=r"venue\.linger_minutes"):
            load_rules(path)
