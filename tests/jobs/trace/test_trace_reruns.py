"""Runs and re-runs of a day: retraction, idempotence, empty days, the manifest, a vault that lags."""

import json
import os
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs.trace.day import EngineName
from jobs.trace.reidentify import MissingIdentityError
from schemas.lake import CASES, CONTACTS, EXPOSURES_CURATED, EXPOSURES_EXPORT
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import DAY, run_trace
from tracelake.core.vault import IDENTITIES

SOURCE, FIRST, SECOND = "0912000101", "0912000102", "0912000103"


def _outbreak(builder: LakeBuilder) -> None:
    builder.confirmed(SOURCE, "2021-08-02 09:00", "2021-08-02")
    builder.checkin(SOURCE, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin(FIRST, "V", "2021-08-03 10:00", "2021-08-03 11:00")
    builder.checkin(FIRST, "W", "2021-08-03 12:00", "2021-08-03 13:00")
    builder.checkin(SECOND, "W", "2021-08-03 12:00", "2021-08-03 13:00")


def _day_files(root: Path, day_text: str) -> dict[str, tuple[bytes, int]]:
    """Every file under a `date=<day>` directory: content and modification time."""
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file() and f"date={day_text}" in path.parts[-2] and "raw" not in path.parts
    }


def test_a_discarded_report_retracts_the_f0_and_everything_derived(builder: LakeBuilder, engine: EngineName) -> None:
    _outbreak(builder)
    before = run_trace(builder, engine)
    assert set(before.tiers().values()) == {"F1", "F2"}

    builder.case(SOURCE, "discarded", "2021-08-03 18:00")
    after = run_trace(builder, engine)
    assert after.export.num_rows == 0
    assert after.contacts.num_rows == 0
    assert after.case(SOURCE)["status"] == "discarded"
    assert after.result.tier_counts == {"F0": 0, "F1": 0, "F2": 0}


def test_rerunning_a_day_gives_the_same_files_and_leaves_other_days_alone(
    builder: LakeBuilder, engine: EngineName
) -> None:
    _outbreak(builder)
    builder.write()
    yesterday = DAY - timedelta(days=1)
    run_trace(builder, engine, day=yesterday, write=False)
    untouched = _day_files(builder.root, yesterday.isoformat())
    assert untouched, "the day before has outputs of its own"

    first = run_trace(builder, engine, write=False)
    first_files = {name: content for name, (content, _) in _day_files(builder.root, DAY.isoformat()).items()}
    second = run_trace(builder, engine, write=False)
    second_files = {name: content for name, (content, _) in _day_files(builder.root, DAY.isoformat()).items()}

    manifest = "manifests/trace/date=2021-08-03/manifest.json"
    assert {name for name in first_files} == {
        "curated/contacts/date=2021-08-03/part-00000.parquet",
        "curated/exposures/date=2021-08-03/part-00000.parquet",
        "curated/cases/date=2021-08-03/part-00000.parquet",
        "exports/exposures/date=2021-08-03/part-00000.parquet",
        manifest,
    }
    for name in first_files:
        if name != manifest:
            assert first_files[name] == second_files[name], name
    documents = [json.loads(files[manifest]) for files in (first_files, second_files)]
    for document in documents:
        document.pop("timings")
    assert documents[0] == documents[1]
    assert first.tiers() == second.tiers()
    assert _day_files(builder.root, yesterday.isoformat()) == untouched
    leftovers = [path.name for path in builder.root.rglob(".*")]
    assert leftovers == []


def test_an_empty_lake_writes_empty_typed_tables(tmp_path: Path, engine: EngineName) -> None:
    builder = LakeBuilder(tmp_path / "lake", tmp_path / "vault")
    traced = run_trace(builder, engine)
    expected = {"contacts": CONTACTS, "exposures": EXPOSURES_CURATED, "cases": CASES, "export": EXPOSURES_EXPORT}
    for name, schema in expected.items():
        table = pq.read_table(Path(traced.result.outputs[name]) / "part-00000.parquet")
        assert table.num_rows == 0
        assert table.schema.remove_metadata() == schema, name
    assert traced.result.tier_counts == {"F0": 0, "F1": 0, "F2": 0}
    assert json.loads(Path(traced.result.manifest).read_text())["inputs"]["proximity"]["files"] == []


def test_the_manifest_records_rules_engine_inputs_and_outputs(builder: LakeBuilder, engine: EngineName) -> None:
    _outbreak(builder)
    builder.checkin(SECOND, "X", "2021-08-03 20:00", event_id="twice")
    builder.checkin(SECOND, "X", "2021-08-03 20:00", event_id="twice", partition=3)
    builder.checkin(SECOND, "X", "2021-07-01 20:00")  # read (a stay may be long), then dropped: ended long ago
    traced = run_trace(builder, engine)
    document = json.loads(Path(traced.result.manifest).read_text())
    assert document["engine"] == engine
    assert document["rules_version"] == "vn-moh-2021"
    assert document["rules"]["venue"]["linger_minutes"] == 30
    assert document["day"] == "2021-08-03"
    assert document["range"] == {"start": "2021-07-20T00:00:00+07:00", "end": "2021-08-04T00:00:00+07:00"}
    checkins = document["inputs"]["checkins"]
    assert checkins["rows_read"] == 7
    assert checkins["duplicates_dropped"] == 1
    assert checkins["rows_kept"] == 5
    assert sorted(checkins["files"]) == [
        "raw/checkins/date=2021-07-01/checkins+0+lakebuilder+00000000000000000005.parquet",
        "raw/checkins/date=2021-08-03/checkins+0+lakebuilder+00000000000000000000.parquet",
        "raw/checkins/date=2021-08-03/checkins+3+lakebuilder+00000000000000000000.parquet",
    ]
    assert document["outputs"]["export"] == {"path": "exports/exposures/date=2021-08-03", "rows": 2}
    assert document["tier_counts"] == {"F0": 1, "F1": 1, "F2": 1}
    assert set(document["timings"]) >= {"read", "cases", "tiers", "curate"}
    assert traced.result.input_counts["checkins"].duplicates_dropped == 1


def test_a_pseudonym_missing_from_the_vault_fails_loudly_and_writes_nothing(builder: LakeBuilder) -> None:
    """Re-identification is shared by both engines: one engine is enough here."""
    engine: EngineName = "duckdb"
    _outbreak(builder)
    builder.write()
    for identities in (builder.vault / IDENTITIES).iterdir():
        os.remove(identities)
    with pytest.raises(MissingIdentityError, match="not in the identity vault"):
        run_trace(builder, engine, write=False)
    assert not (builder.root / "exports").exists()
    assert not (builder.root / "curated").exists()
