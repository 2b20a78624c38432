"""The suites run by Great Expectations over DuckDB views mean what they meant on pandas frames.

Patterns find the same strings as `re.search` (which pandas' `str.contains` is),
timestamps compare as instants against the day's bounds, the cross-table columns
the views derive by joins break on the same rows as the lookups they replace,
and each broken expectation is reported with its count of bad rows. The lake is
the hand-made story of tests/outputs_lake.py, corrupted one fact at a time.
"""

import hashlib
import json
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.validation import ValidationFailed, frames, validate_outputs, validate_raw
from jobs.validation.frames import DriftedSchema
from jobs.validation.regex import UntranslatableRegex, re2_search_pattern
from jobs.validation.suites import load_suite, suite_names
from tests import outputs_lake
from tracelake.core.days import day_bounds
from tracelake.core.rules import load_rules
from tracelake.core.settings import Settings

DAY = outputs_lake.DAY
PATTERNS = sorted({
    expectation["kwargs"]["regex"]
    for name in suite_names()
    for expectation in load_suite(name)["expectations"]
    if "regex" in expectation["kwargs"]
})
TRICKY = [
    "+84912345678", "0912 345 678", "84-912-345-678", "0912.345.678", "079201000002", "ble|+84912345678",
    "caller +84912345678 said", "+849123456789", "+8491234567890", "0912345678\n", "+84912345678\n",
    "０９１２３４５６７８", "+84９１２３４５６７８", "0912\u00a0345\u3000678", "venue|ble\n", "venue|", "|venue",
    "a" * 16 + "\n", "0123456789abcdef", "0123456789ABCDEF", "", "\n", "venue\u2028", "(+84) 912 345 678",
]
TEXT = st.text(
    alphabet=st.sampled_from(list("0123456789abcdefF+84()-. |\n\t\u00a0\u3000\u2028\x1c０٣venueblx")),
    max_size=24,
)


def _hex_pseudonym(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:32]


CONNECTION = duckdb.connect()


def _duckdb_search(pattern: str, texts: list[str]) -> list[bool]:
    """What `text ~ pattern` (the operator GX emits on DuckDB) says of each text, the pattern rewritten for RE2."""
    rows = CONNECTION.execute(
        "SELECT text ~ ? FROM unnest(?::VARCHAR[]) WITH ORDINALITY AS listed(text, position) ORDER BY position",
        [re2_search_pattern(pattern), texts],
    ).fetchall()
    return [bool(found) for (found,) in rows]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_suite_pattern_finds_on_duckdb_what_re_search_finds(pattern: str) -> None:
    expected = [re.search(pattern, text) is not None for text in TRICKY]
    assert _duckdb_search(pattern, TRICKY) == expected


@settings(max_examples=100, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=50))
def test_generated_text_is_matched_alike_by_every_suite_pattern(texts: list[str]) -> None:
    for pattern in PATTERNS:
        assert _duckdb_search(pattern, texts) == [re.search(pattern, text) is not None for text in texts], pattern


def test_the_whitespace_class_is_every_character_re_counts_as_whitespace() -> None:
    spaces = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()]
    assert re.findall(r"\s", "".join(chr(code) for code in range(sys.maxunicode + 1))) == spaces
    assert _duckdb_search(r"^\s$", spaces) == [True] * len(spaces)
    assert _duckdb_search(r"\s", ["a", "\u200b", "x_y"]) == [False, False, False]


@pytest.mark.parametrize("pattern", [r"\bphone\b", r"(?<=\+)84", r"a$b", r"(?!x)y", r"(?i)abc", r"[\w]"])
def test_a_pattern_re2_would_read_differently_is_refused(pattern: str) -> None:
    with pytest.raises(UntranslatableRegex):
        re2_search_pattern(pattern)


@pytest.fixture
def story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setattr(outputs_lake, "pseudonym", _hex_pseudonym)
    return outputs_lake.build_lake(tmp_path / "story")


def _rewrite(directory: Path, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    path = max(directory.glob("*.parquet"), key=lambda candidate: pq.read_metadata(candidate).num_rows)
    table = pq.read_table(path)
    pq.write_table(pa.Table.from_pylist(change(table.to_pylist()), schema=table.schema), path)


def _bad_rows(error: ValidationFailed, table: str, expectation: str, column: str | None = None) -> int:
    matches = [
        failure.bad_rows
        for failure in error.report.failures
        if (failure.table, failure.expectation) == (table, expectation) and column in (None, failure.column)
    ]
    assert matches, f"expected {table}: {expectation}({column}) to fail; got:\n{error}"
    return matches[0]


def _outputs(lake: Path, vault: Path) -> None:
    validate_outputs(str(lake), DAY, Settings(lake=str(lake)), load_rules(), vault=str(vault))


def test_contacts_that_break_the_tiers_of_the_run_fail_with_their_counts(story: tuple[Path, Path]) -> None:
    lake, vault = story
    an = _hex_pseudonym("an")

    def corrupt(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        f2_edge = next(row for row in rows if row["target_tier"] == "F2")
        f2_edge["source_pseudonym"] = _hex_pseudonym("nobody")  # holds no tier in this run
        f1_edges = [row for row in rows if row["target_tier"] == "F1"]
        f1_edges[0]["target_pseudonym"] = an  # an F0 as an exposed target
        f1_edges[1]["target_tier"] = "F3"  # F0>F3 skips a tier
        venue_edges = [row for row in f1_edges[2:] if row["channel"] == "venue"]
        venue_edges[0]["venue_id"] = None
        venue_edges[1]["exposure_minutes"] = 1.0
        return rows

    _rewrite(lake / "curated" / "contacts" / f"date={DAY.isoformat()}", corrupt)
    with pytest.raises(ValidationFailed) as failed:
        _outputs(lake, vault)
    error = failed.value
    table = "curated_contacts"
    assert _bad_rows(error, table, "expect_column_pair_values_to_be_equal", "source_tier, source_tier_in_run") == 1
    assert _bad_rows(error, table, "expect_column_values_to_be_in_set", "target_is_case") == 1
    assert _bad_rows(error, table, "expect_column_values_to_be_in_set", "tier_step") == 1
    assert _bad_rows(error, table, "expect_column_values_to_not_be_null", "venue_id") == 1
    assert _bad_rows(error, table, "expect_column_values_to_be_between", "exposure_minutes") == 1


def test_an_f0_in_the_export_and_a_phone_in_a_list_fail_without_the_ids_in_any_file(
    story: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, vault = story
    an_id = outputs_lake.PEOPLE["an"]
    leak = "+84987654321"

    def export(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[0]["person_id"] = an_id
        return rows

    def curated(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[0]["venue_ids"] = [*rows[0]["venue_ids"], leak]
        return rows

    _rewrite(lake / "exports" / "exposures" / f"date={DAY.isoformat()}", export)
    _rewrite(lake / "curated" / "exposures" / f"date={DAY.isoformat()}", curated)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(ValidationFailed) as failed:
        _outputs(lake, vault)
    error = failed.value
    assert _bad_rows(error, "exports_exposures", "expect_column_values_to_be_in_set", "is_case") == 1
    assert _bad_rows(error, "curated_exposures", "expect_column_values_to_not_match_regex", "venue_ids") == 1
    assert list(scratch.iterdir()) == [], "the session's scratch directory is gone"
    docs = lake / "validation" / f"date={DAY.isoformat()}"
    for secret in (an_id, leak):
        assert secret not in str(error)
        assert not [path for path in docs.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]


def test_events_at_the_day_bounds_compare_as_instants(story: tuple[Path, Path]) -> None:
    lake, _ = story
    start, end = day_bounds(DAY, load_rules().zone)

    def corrupt(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows[0]["checkin_at"], rows[0]["checkout_at"] = start, None  # the first instant of D: inside
        rows[1]["checkin_at"], rows[1]["checkout_at"] = end, None  # the first instant of D + 1: outside
        rows[2]["checkin_at"], rows[2]["checkout_at"] = end - timedelta(microseconds=1), None
        return rows

    _rewrite(lake / "raw" / "checkins" / f"date={DAY.isoformat()}", corrupt)
    with pytest.raises(ValidationFailed) as failed:
        validate_raw(str(lake), DAY, Settings(lake=str(lake)))
    assert _bad_rows(failed.value, "raw_checkins", "expect_column_values_to_be_between", "checkin_at") == 1


def test_a_missing_partition_is_an_empty_table_and_a_drifted_file_fails_loudly(story: tuple[Path, Path]) -> None:
    lake, _ = story
    reports = lake / "raw" / "case_reports" / f"date={DAY.isoformat()}"
    for path in reports.glob("*.parquet"):
        path.unlink()
    report = validate_raw(str(lake), DAY, Settings(lake=str(lake)), raise_on_failure=False)
    assert report.rows["raw_case_reports"] == 0
    assert not [failure for failure in report.failures if failure.table == "raw_case_reports"], report.message()

    proximity = lake / "raw" / "proximity" / f"date={DAY.isoformat()}"
    path = next(proximity.glob("*.parquet"))
    table = pq.read_table(path)
    pq.write_table(table.set_column(table.schema.get_field_index("rssi"), "rssi",
                                    table["rssi"].cast(pa.string())), path)
    with pytest.raises(DriftedSchema, match="rssi"):
        validate_raw(str(lake), DAY, Settings(lake=str(lake)))


def test_every_run_of_the_day_is_listed_in_its_data_docs(story: tuple[Path, Path]) -> None:
    lake, vault = story
    for _ in range(2):
        validate_raw(str(lake), DAY, Settings(lake=str(lake)), raise_on_failure=False)  # the story's segments
        _outputs(lake, vault)  # are not whole: it was written, not landed
    docs = lake / "validation" / f"date={DAY.isoformat()}"
    results = docs / "results"
    runs = {(path.parent.parent.name, path.parent.name) for path in results.rglob("*.json")}
    assert sorted(name for name, _ in runs) == ["outputs-2021-08-03"] * 2 + ["raw-2021-08-03"] * 2, runs
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert all(suite in index for suite in ("raw_checkins", "landing", "curated_contacts", "exports_exposures"))
    for path in results.rglob("*.json"):
        for result in json.loads(path.read_text())["results"]:
            assert result["result"].get("partial_unexpected_list", []) == []


def test_an_object_store_lake_is_read_as_arrow_datasets_with_the_same_outcome(
    story: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, vault = story
    _rewrite(lake / "curated" / "exposures" / f"date={DAY.isoformat()}", lambda rows: [
        {**row, "tier": "F9"} if index == 0 else row for index, row in enumerate(rows)
    ])
    local = validate_outputs(str(lake), DAY, Settings(lake=str(lake)), load_rules(), vault=str(vault),
                             raise_on_failure=False)

    def remote(uri: str) -> tuple[pafs.FileSystem, str]:
        """The same files behind a filesystem DuckDB cannot read itself, as an object store's would be."""
        return pafs.SubTreeFileSystem("/", pafs.LocalFileSystem()), uri.lstrip("/")

    monkeypatch.setattr(frames, "filesystem", remote)
    other = validate_outputs(str(lake), DAY, Settings(lake=str(lake)), load_rules(), vault=str(vault),
                             raise_on_failure=False)
    assert other.rows == local.rows
    assert other.failures == local.failures
    assert {"tier", "has_upstream_source"} <= {failure.column for failure in local.failures}
