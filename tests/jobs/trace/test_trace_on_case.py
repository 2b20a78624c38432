"""The on-case trace gives D exactly the tables a full re-trace of the same lake gives (issue #17).

Random seeded provinces are traced whole and published; then confirmed
reports land for people the trace tiered as F1 or F2, for two people who
were at one venue together, or for no one D counts; the on-case trace
(`jobs.trace.on_case`) merges its rows into D's published tables, and every
table, row for row, and the manifest's counts must be a full re-trace's.
A change that is not only new F0s (a retraction) makes it trace D whole.
"""

import itertools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from jobs.trace.day import trace_day
from jobs.trace.on_case import FULL, INCREMENTAL, OnCaseTrace, trace_on_case
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.random_province import build_province
from tests.jobs.tracing import DAY, read_table, rules_with
from tracelake.core.lake import Lake
from tracelake.core.rules import Rules, load_rules

SEEDS = [11, 12, 13]
PEOPLE = 300
TABLES = ("contacts", "exposures", "cases", "export")
COUNTED = ("inputs", "outputs", "tier_counts", "rules_version", "range")


def _rows(table: pa.Table) -> list[tuple[str, ...]]:
    """Rows in a fixed order; floats to 9 places, as summing in another order may move the last bit."""
    return sorted(tuple(str(round(v, 9) if isinstance(v, float) else v) for v in row.values())
                  for row in table.to_pylist())


def _published(builder: LakeBuilder) -> dict[str, Any]:
    lake = Lake(str(builder.root.resolve()))
    directories = {
        "contacts": lake.curated_day("contacts", DAY), "exposures": lake.curated_day("exposures", DAY),
        "cases": lake.curated_day("cases", DAY), "export": lake.export_day("exposures", DAY),
    }
    found: dict[str, Any] = {name: read_table(path) for name, path in directories.items()}
    document = json.loads(Path(lake.manifest("trace", DAY)).read_text())
    found["manifest"] = {key: document[key] for key in COUNTED}
    found["on_case"] = document.get("on_case")
    return found


def _full(builder: LakeBuilder, rules: Rules | None = None) -> None:
    trace_day(str(builder.root), DAY, rules or load_rules(), vault=str(builder.vault), engine="duckdb")


def _on_case(builder: LakeBuilder, rules: Rules | None = None) -> OnCaseTrace:
    return trace_on_case(str(builder.root), DAY, rules or load_rules(), vault=str(builder.vault), engine="duckdb")


def _province(tmp_path: Path, seed: int) -> tuple[LakeBuilder, list[str]]:
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    build_province(builder, seed, people=PEOPLE)
    builder.write()
    _full(builder)
    return builder, [f"094{seed % 10}{index:06d}" for index in range(PEOPLE)]


def _tiers(builder: LakeBuilder, phones: list[str]) -> dict[str, str]:
    """phone → F0/F1/F2 as published."""
    published = _published(builder)
    by_pseudonym = {builder.pseudonym(phone): phone for phone in phones}
    tiers = {by_pseudonym[row["person_pseudonym"]]: row["tier"] for row in published["exposures"].to_pylist()}
    for row in published["cases"].to_pylist():
        if row["status"] == "confirmed":
            tiers[by_pseudonym[row["person_pseudonym"]]] = "F0"
    return tiers


def _confirm(builder: LakeBuilder, phone: str, days_before: int = 1) -> None:
    reported = builder.at(f"{DAY.isoformat()} 20:00")
    builder.case(phone, "confirmed", reported, sample_date=DAY - timedelta(days=days_before), partition=1)


def _agree(builder: LakeBuilder, rules: Rules | None = None) -> dict[str, Any]:
    """The on-case trace's published D, checked against a full re-trace of the same lake."""
    incremental = _published(builder)
    _full(builder, rules)
    full = _published(builder)
    for name in TABLES:
        assert _rows(incremental[name]) == _rows(full[name]), name
    assert incremental["manifest"] == full["manifest"]
    return incremental


def _shared_venue(builder: LakeBuilder, phones: list[str], tiers: dict[str, str]) -> tuple[str, str]:
    """Two people no one traced whose stays at one venue on D-1 overlap by an hour or more."""
    segments = sorted(Path(builder.lake.raw_day("checkins", DAY - timedelta(days=1))).glob("*.parquet"))
    stays = pa.concat_tables([pq.read_table(segment) for segment in segments]).to_pylist()
    by_pseudonym = {builder.pseudonym(phone): phone for phone in phones}
    untraced = [row for row in stays if by_pseudonym[row["person_pseudonym"]] not in tiers]
    for first, second in itertools.combinations(sorted(untraced, key=lambda row: row["event_id"]), 2):
        if first["venue_id"] != second["venue_id"] or first["person_pseudonym"] == second["person_pseudonym"]:
            continue
        ends = [row["checkout_at"] or row["checkin_at"] + timedelta(hours=1) for row in (first, second)]
        if min(ends) - max(first["checkin_at"], second["checkin_at"]) >= timedelta(hours=1):
            return by_pseudonym[first["person_pseudonym"]], by_pseudonym[second["person_pseudonym"]]
    raise AssertionError("no two untraced people met at a venue")


@pytest.mark.parametrize("seed", SEEDS)
def test_new_f0s_already_f1_or_f2_agree_with_a_full_retrace(tmp_path: Path, seed: int) -> None:
    builder, phones = _province(tmp_path, seed)
    tiers = _tiers(builder, phones)
    f1 = sorted(phone for phone, tier in tiers.items() if tier == "F1")[0]
    f2 = sorted(phone for phone, tier in tiers.items() if tier == "F2")[0]
    _confirm(builder, f1)
    _confirm(builder, f2, days_before=3)
    builder.write()
    traced = _on_case(builder)
    assert traced.mode == INCREMENTAL, traced.reason
    published = _agree(builder)
    assert published["on_case"]["new_f0"] == 2
    assert published["on_case"]["exposures_judged"] > 0
    now = _tiers(builder, phones)
    assert now[f1] == "F0" and now[f2] == "F0"


@pytest.mark.parametrize("seed", SEEDS)
def test_two_new_f0s_sharing_a_venue_agree_with_a_full_retrace(tmp_path: Path, seed: int) -> None:
    builder, phones = _province(tmp_path, seed)
    before = _tiers(builder, phones)
    first, second = _shared_venue(builder, phones, before)
    _confirm(builder, first)
    _confirm(builder, second, days_before=2)
    builder.write()
    traced = _on_case(builder)
    assert traced.mode == INCREMENTAL, traced.reason
    published = _agree(builder)
    assert published["on_case"]["new_f0"] == 2 and published["on_case"]["exposures_judged"] > 0
    assert published["manifest"]["tier_counts"]["F0"] == sum(1 for tier in before.values() if tier == "F0") + 2


def test_three_tiers_agree_with_a_full_retrace(tmp_path: Path) -> None:
    """Beyond two tiers someone may leave a tier before a later round: then D is traced whole; either way,
    the same tables."""
    rules = rules_with(**{"tiers.max_depth": 3})
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    build_province(builder, SEEDS[2], people=PEOPLE)
    builder.write()
    _full(builder, rules)
    phones = [f"094{SEEDS[2] % 10}{index:06d}" for index in range(PEOPLE)]
    tiers = _tiers(builder, phones)
    for tier in ("F1", "F2", "F3"):
        _confirm(builder, sorted(phone for phone, named in tiers.items() if named == tier)[0])
    builder.write()
    traced = _on_case(builder, rules)
    published = _agree(builder, rules)
    assert published["on_case"]["mode"] == traced.mode
    assert published["manifest"]["tier_counts"]["F3"] > 0


def test_a_report_that_changes_nothing_keeps_the_published_files(tmp_path: Path) -> None:
    builder, phones = _province(tmp_path, SEEDS[0])
    contacts = Lake(str(builder.root.resolve())).curated_day("contacts", DAY)
    before = {path.name: path.read_bytes() for path in Path(contacts).glob("part-*.parquet")}
    untraced = next(phone for phone in phones if phone not in _tiers(builder, phones))
    builder.case(untraced, "confirmed", builder.at(f"{(DAY + timedelta(days=1)).isoformat()} 09:00"),
                 sample_date=DAY, partition=2)
    builder.write()
    traced = _on_case(builder)
    assert traced.mode == INCREMENTAL, traced.reason
    assert {path.name: path.read_bytes() for path in Path(contacts).glob("part-*.parquet")} == before
    published = _agree(builder)
    assert published["on_case"]["new_f0"] == 0 and published["on_case"]["people_touched"] == 0


def test_a_retraction_traces_the_day_whole(tmp_path: Path) -> None:
    builder, phones = _province(tmp_path, SEEDS[1])
    f0 = sorted(phone for phone, tier in _tiers(builder, phones).items() if tier == "F0")[0]
    builder.case(f0, "discarded", builder.at(f"{DAY.isoformat()} 21:00"), partition=3)
    builder.write()
    traced = _on_case(builder)
    assert traced.mode == FULL
    assert "other than by becoming F0" in traced.reason
    published = _published(builder)
    assert published["on_case"] == {"mode": FULL, "reason": traced.reason}
    assert builder.pseudonym(f0) not in pc.unique(published["contacts"]["source_pseudonym"]).to_pylist()


@pytest.mark.slow
def test_new_f0s_merged_into_a_day_spark_traced_agree_with_a_full_retrace(tmp_path: Path) -> None:
    """D published by the Spark job; the on-case trace builds on its tables as on the DuckDB twin's."""
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    build_province(builder, SEEDS[0], people=PEOPLE)
    builder.write()
    trace_day(str(builder.root), DAY, load_rules(), vault=str(builder.vault), engine="spark")
    phones = [f"094{SEEDS[0] % 10}{index:06d}" for index in range(PEOPLE)]
    tiers = _tiers(builder, phones)
    _confirm(builder, sorted(phone for phone, tier in tiers.items() if tier == "F1")[0])
    _confirm(builder, sorted(phone for phone, tier in tiers.items() if tier == "F2")[0], days_before=3)
    builder.write()
    traced = _on_case(builder)
    assert traced.mode == INCREMENTAL, traced.reason
    published = _agree(builder)
    assert published["on_case"]["published_engine"] == "spark"
    assert published["on_case"]["new_f0"] == 2
