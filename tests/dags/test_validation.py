"""The expectation suites and their runner, on the hand-made lake of tests/outputs_lake.py.

That lake's story has right answers that can be read off its page, so a suite
that fails on it is wrong, and each corruption below must fail exactly the
expectation that guards it, with the count of rows it broke.
"""

import hashlib
import json
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.validation import (
    ValidationFailed,
    validate_outputs,
    validate_raw,
    withhold_export,
)
from jobs.validation.suites import load_suite, parameters_of, suite_names
from schemas.lake import CASES, CONTACTS, EXPOSURES_CURATED, RAW
from tests import outputs_lake
from tests.dags.province import DAY as PROVINCE_DAY
from tests.dags.province import Province
from tracelake.core.rules import load_rules
from tracelake.core.settings import Settings

DAY = outputs_lake.DAY
assert DAY == PROVINCE_DAY, "the hand-made story and the simulated province share day D"
PII_TYPE = "expect_column_values_to_not_match_regex"


def _hex_pseudonym(name: str) -> str:
    """What tracelake.core.identity.Pseudonymizer produces: 32 lowercase hex characters."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


@pytest.fixture
def story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setattr(outputs_lake, "pseudonym", _hex_pseudonym)
    return outputs_lake.build_lake(tmp_path / "story")


@pytest.fixture
def landed_lake(province: Province, tmp_path: Path) -> Path:
    """A copy of the session's landed province (raw, quarantine and vault), free to corrupt."""
    lake = tmp_path / "landed" / "lake"
    shutil.copytree(province.lake / "raw", lake / "raw")
    shutil.copytree(province.lake / "quarantine", lake / "quarantine")
    return lake


def _landed(lake: Path, day: date) -> dict[str, int]:
    """What the lander's status reports for the day."""
    from streams.status import day_status

    return {status.topic: status.landed for status in day_status(Settings(lake=str(lake))) if status.day == day}


def _largest(directory: Path) -> Path:
    return max(directory.glob("*.parquet"), key=lambda path: pq.read_metadata(path).num_rows)


def _rewrite(directory: Path, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    path = _largest(directory)
    table = pq.read_table(path)
    pq.write_table(pa.Table.from_pylist(change(table.to_pylist()), schema=table.schema), path)


def _failure(error: ValidationFailed, table: str, expectation: str, column: str | None = None) -> int:
    matches = [
        failure
        for failure in error.report.failures
        if (failure.table, failure.expectation) == (table, expectation) and column in (None, failure.column)
    ]
    assert matches, f"expected {table}: {expectation}({column}) to fail; got:\n{error}"
    return matches[0].bad_rows


def test_every_suite_is_loadable_and_names_its_table() -> None:
    names = suite_names()
    assert set(names) >= {
        "raw_checkins", "raw_proximity", "raw_case_reports", "landing",
        "curated_contacts", "curated_exposures", "curated_cases", "exports_exposures",
    }
    for name in names:
        document = load_suite(name)
        assert document["expectations"], name
        for expectation in document["expectations"]:
            assert expectation["type"].startswith("expect_"), (name, expectation)
            assert expectation.get("meta", {}).get("notes"), f"{name}: {expectation['type']} says not why"
    assert parameters_of(load_suite("raw_checkins")) == {"day_start", "day_end", "landed_rows"}


@pytest.mark.parametrize(
    ("suite", "schema"),
    [
        ("raw_checkins", RAW["checkins"]),
        ("raw_proximity", RAW["proximity"]),
        ("raw_case_reports", RAW["case_reports"]),
        ("curated_contacts", CONTACTS),
        ("curated_exposures", EXPOSURES_CURATED),
        ("curated_cases", CASES),
    ],
)
def test_every_string_column_of_an_analyst_table_is_checked_for_phone_and_cccd(suite: str, schema: pa.Schema) -> None:
    def textual(kind: pa.DataType) -> bool:
        return pa.types.is_string(kind) or (pa.types.is_list(kind) and pa.types.is_string(kind.value_type))

    text_columns = {field.name for field in schema if textual(field.type)}
    checked = {e["kwargs"]["column"] for e in load_suite(suite)["expectations"] if e["type"] == PII_TYPE}
    assert text_columns <= checked, f"{suite}: no phone/CCCD check on {sorted(text_columns - checked)}"


def test_the_pii_pattern_catches_ids_and_spares_pseudonyms_and_event_ids() -> None:
    import re

    pattern = re.compile(next(e for e in load_suite("raw_checkins")["expectations"] if e["type"] == PII_TYPE)
                         ["kwargs"]["regex"])
    leaks = ["+84912345678", "0912 345 678", "84-912-345-678", "0912.345.678", "079201000002",
             "ble|+84912345678", "caller +84912345678 said"]
    fine = [_hex_pseudonym("x"), "ck-2021-08-03-0000001", "760-MKT-00012", "123e4567-e89b-12d3-a456-426614174000",
            "venue|ble", "Chợ Bến Thành", "case_reports"]
    assert [text for text in leaks if not pattern.search(text)] == []
    assert [text for text in fine if pattern.search(text)] == []


def test_a_landed_day_and_the_story_pass_every_suite_and_leave_data_docs(
    landed_lake: Path, story: tuple[Path, Path]
) -> None:
    raw = validate_raw(str(landed_lake), DAY, Settings(lake=str(landed_lake)), landed=_landed(landed_lake, DAY))
    assert raw.success, raw.message()
    assert raw.rows["landing_segments"] >= 3
    lake, vault = story
    outputs = validate_outputs(str(lake), DAY, Settings(lake=str(lake)), load_rules(), vault=str(vault))
    assert outputs.success, outputs.message()
    assert outputs.rows["curated_exposures"] == outputs_lake.EXPECTED.f1 + outputs_lake.EXPECTED.f2
    for root, tables in ((landed_lake, ("raw_checkins", "landing")), (lake, ("curated_exposures",))):
        docs = root / "validation" / f"date={DAY.isoformat()}"
        index = (docs / "index.html").read_text(encoding="utf-8")
        assert all(table in index for table in tables)
    summary = json.loads((lake / "validation" / f"date={DAY.isoformat()}" / "summary-outputs.json").read_text())
    assert summary["success"] is True and summary["failures"] == []


def test_a_checkout_before_checkin_and_an_event_outside_the_day_fail_raw(landed_lake: Path) -> None:
    def corrupt(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[0]["checkout_at"] = rows[0]["checkin_at"] - timedelta(hours=1)
        rows[1]["checkin_at"] += timedelta(days=3)
        rows[1]["checkout_at"] = None
        return rows

    _rewrite(landed_lake / "raw" / "checkins" / f"date={DAY.isoformat()}", corrupt)
    with pytest.raises(ValidationFailed) as failed:
        validate_raw(str(landed_lake), DAY, Settings(lake=str(landed_lake)), landed=_landed(landed_lake, DAY))
    assert _failure(failed.value, "raw_checkins", "expect_column_pair_values_a_to_be_greater_than_b") == 1
    assert _failure(failed.value, "raw_checkins", "expect_column_values_to_be_between", "checkin_at") == 1
    message = str(failed.value)
    assert "expect_column_pair_values_a_to_be_greater_than_b(checkout_at, checkin_at) failed on 1 bad row(s)" in message
    assert "Data Docs:" in message


def test_sightings_out_of_range_fail_raw(landed_lake: Path) -> None:
    def corrupt(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for row in rows[:3]:
            row["rssi"] = 40
        return rows

    _rewrite(landed_lake / "raw" / "proximity" / f"date={DAY.isoformat()}", corrupt)
    with pytest.raises(ValidationFailed) as failed:
        validate_raw(str(landed_lake), DAY, Settings(lake=str(landed_lake)), landed=_landed(landed_lake, DAY))
    assert _failure(failed.value, "raw_proximity", "expect_column_values_to_be_between", "rssi") == 3


def test_counts_that_disagree_with_the_lander_and_a_high_quarantine_share_fail(landed_lake: Path) -> None:
    landed = _landed(landed_lake, DAY)
    landed["checkins"] += 2
    with pytest.raises(ValidationFailed) as failed:
        validate_raw(str(landed_lake), DAY, Settings(lake=str(landed_lake), quarantine_ceiling=0.0), landed=landed)
    assert _failure(failed.value, "raw_checkins", "expect_table_row_count_to_equal") == 2
    assert _failure(failed.value, "landing", "expect_column_pair_values_to_be_equal", "rows_in_files, rows_landed") == 1
    assert _failure(failed.value, "landing", "expect_column_values_to_be_between", "quarantine_share") >= 1


def test_a_lost_row_breaks_its_segment(landed_lake: Path) -> None:
    _rewrite(landed_lake / "raw" / "proximity" / f"date={DAY.isoformat()}", lambda rows: rows[:5] + rows[6:])
    with pytest.raises(ValidationFailed) as failed:
        validate_raw(str(landed_lake), DAY, Settings(lake=str(landed_lake)), landed=_landed(landed_lake, DAY))
    assert _failure(failed.value, "landing_segments", "expect_column_values_to_be_in_set", "offsets_contiguous") == 1


def test_a_raw_phone_number_in_a_pseudonym_column_fails(landed_lake: Path) -> None:
    def leak(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[0]["person_pseudonym"] = "+84912345678"
        return rows

    _rewrite(landed_lake / "raw" / "checkins" / f"date={DAY.isoformat()}", leak)
    with pytest.raises(ValidationFailed) as failed:
        validate_raw(str(landed_lake), DAY, Settings(lake=str(landed_lake)), landed=_landed(landed_lake, DAY))
    assert _failure(failed.value, "raw_checkins", PII_TYPE, "person_pseudonym") == 1
    assert "+84912345678" not in str(failed.value)
    docs = landed_lake / "validation" / f"date={DAY.isoformat()}"
    assert not [path for path in docs.rglob("*") if path.is_file() and b"84912345678" in path.read_bytes()]


def test_an_f0_among_the_exposed_and_an_f2_without_an_f1_source_fail(story: tuple[Path, Path]) -> None:
    lake, vault = story
    f0, other_f0 = _hex_pseudonym("an"), _hex_pseudonym("binh")

    def corrupt(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        f1 = next(row for row in rows if row["tier"] == "F1")
        f1["person_pseudonym"] = f0
        f2 = next(row for row in rows if row["tier"] == "F2")
        f2["source_pseudonyms"] = [other_f0]
        f2["tier"] = "F3"
        return rows

    _rewrite(lake / "curated" / "exposures" / f"date={DAY.isoformat()}", corrupt)
    with pytest.raises(ValidationFailed) as failed:
        validate_outputs(str(lake), DAY, Settings(lake=str(lake)), load_rules(), vault=str(vault))
    assert _failure(failed.value, "curated_exposures", "expect_column_values_to_be_in_set", "is_case") == 1
    assert _failure(failed.value, "curated_exposures", "expect_column_values_to_be_in_set", "tier") == 1
    assert _failure(failed.value, "curated_exposures", "expect_column_values_to_be_in_set", "has_upstream_source") == 1


def test_an_export_out_of_step_with_the_curated_table_fails_and_can_be_withheld(story: tuple[Path, Path]) -> None:
    lake, vault = story
    _rewrite(lake / "exports" / "exposures" / f"date={DAY.isoformat()}", lambda rows: rows[1:])
    with pytest.raises(ValidationFailed) as failed:
        validate_outputs(str(lake), DAY, Settings(lake=str(lake)), load_rules(), vault=str(vault))
    assert _failure(failed.value, "exports_exposures", "expect_table_row_count_to_equal") == 1
    assert withhold_export(str(lake), DAY) == ["exposures"]
    assert not (lake / "exports" / "exposures" / f"date={DAY.isoformat()}").exists()
    assert (lake / "exports" / "exposures" / f".date={DAY.isoformat()}.withheld").is_dir()
    assert (lake / "exports" / "exposures" / f"date={outputs_lake.LATER_DAY.isoformat()}").is_dir()
    assert withhold_export(str(lake), DAY) == []


def test_outputs_that_were_never_written_are_a_failure_not_an_empty_success(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no outputs for 2021-08-03"):
        validate_outputs(str(tmp_path / "lake"), DAY, Settings(lake=str(tmp_path / "lake")), load_rules(),
                         vault=str(tmp_path / "vault"))
