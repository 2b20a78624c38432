"""The engine-independent parts of the trace job: params, input plan, re-identification, the writer."""

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from jobs.publication import begin
from jobs.trace.curate import minutes
from jobs.trace.parameters import TraceParams, micros, midnights
from jobs.trace.plan import plan_inputs
from jobs.trace.reidentify import MissingIdentityError, pseudonyms_named, reidentify
from jobs.trace.write import DayDirectory, stage_directories
from schemas.lake import EXPOSURES_CURATED, VAULT
from tests.jobs.tracing import rules_with
from tracelake.core.lake import Lake
from tracelake.core.rules import load_rules
from tracelake.core.vault import read_identities, write_identities


def test_params_are_exact_microseconds_of_the_rules() -> None:
    params = TraceParams.from_rules(load_rules(), date(2021, 8, 3))
    assert params.range_start_us == micros(datetime(2021, 7, 19, 17, 0, tzinfo=UTC))
    assert params.end_of_day_us == micros(datetime(2021, 8, 3, 17, 0, tzinfo=UTC))
    assert (params.linger_us, params.min_overlap_us, params.merge_gap_us) == (1_800_000_000, 900_000_000, 360_000_000)
    assert ("ios", "android", -88) in params.rssi_thresholds
    assert ("android", "ios", -69) in params.rssi_thresholds


def test_calendar_days_follow_the_zone_across_dst() -> None:
    params = TraceParams.from_rules(rules_with(timezone="Europe/Berlin", lookback_days=2), date(2021, 3, 29))
    calendar = {row["day"]: row for row in params.calendar().to_pylist()}
    switch = calendar[date(2021, 3, 28)]
    assert switch["day_end_us"] - switch["day_start_us"] == 23 * 3_600_000_000
    assert switch["day_start_us"] == micros(datetime(2021, 3, 27, 23, 0, tzinfo=UTC))
    assert sorted(calendar) == [date(2021, 3, day) for day in range(26, 31)]
    starts = midnights([date(2021, 3, 26), date(2021, 3, 30)], params.zone).to_pylist()
    assert [row["midnight_us"] for row in starts] == [
        micros(datetime(2021, 3, 25, 23, 0, tzinfo=UTC)),
        micros(datetime(2021, 3, 29, 22, 0, tzinfo=UTC)),
    ]


def test_minutes_are_exact_microseconds_over_sixty_million() -> None:
    assert minutes(pa.array([1, 900_000_000, 899_999_999])).to_pylist() == [1 / 60e6, 15.0, 899_999_999 / 60e6]


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def test_the_plan_reads_sightings_with_a_margin_and_everything_else_up_to_the_next_day(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    for day in ("2021-07-18", "2021-07-19", "2021-08-04", "2021-08-05"):
        _touch(raw / "proximity" / f"date={day}" / "proximity+0+00000000000000000000.parquet")
        _touch(raw / "checkins" / f"date={day}" / "checkins+0+00000000000000000000.parquet")
    _touch(raw / "checkins" / "date=2021-08-03" / ".checkins+1+00000000000000000000.parquet")
    _touch(raw / "checkins" / "date=2021-08-03" / "_checkins+1+00000000000000000000.parquet")
    _touch(raw / "checkins" / "not-a-partition" / "checkins+2+00000000000000000000.parquet")
    plan = plan_inputs(Lake(str(tmp_path)), date(2021, 8, 3), 14)
    assert plan.relative("proximity") == [
        "raw/proximity/date=2021-07-19/proximity+0+00000000000000000000.parquet",
        "raw/proximity/date=2021-08-04/proximity+0+00000000000000000000.parquet",
    ]
    assert plan.relative("checkins") == [
        "raw/checkins/date=2021-07-18/checkins+0+00000000000000000000.parquet",
        "raw/checkins/date=2021-07-19/checkins+0+00000000000000000000.parquet",
        "raw/checkins/date=2021-08-04/checkins+0+00000000000000000000.parquet",
    ]
    assert plan.files["case_reports"] == ()


def _curated(rows: list[dict[str, object]]) -> pa.Table:
    at = datetime(2021, 8, 3, 3, 0, tzinfo=UTC)
    defaults = {"tier": "F1", "first_exposure_at": at, "last_exposure_at": at, "exposure_minutes": 1.0,
                "channels": ["venue"], "venue_ids": [], "rules_version": "v"}
    return pa.Table.from_pylist([{**defaults, **row} for row in rows], schema=EXPOSURES_CURATED)


def test_reidentification_sorts_lists_by_person_id_and_rows_by_tier_then_person() -> None:
    identities = pa.table(
        {"pseudonym": ["a", "b", "c", "d"], "person_id": ["+849", "+841", "+845", "+843"]}, schema=VAULT
    )
    curated = _curated([
        {"person_pseudonym": "a", "tier": "F2", "source_pseudonyms": ["b"], "case_pseudonyms": ["c", "b"]},
        {"person_pseudonym": "d", "source_pseudonyms": ["b", "c"], "case_pseudonyms": ["c", "b"]},
        {"person_pseudonym": "c", "source_pseudonyms": [], "case_pseudonyms": []},
    ])
    rows = reidentify(curated, identities).to_pylist()
    assert [(row["tier"], row["person_id"]) for row in rows] == [("F1", "+843"), ("F1", "+845"), ("F2", "+849")]
    assert rows[0]["source_ids"] == ["+841", "+845"]
    assert rows[2]["case_ids"] == ["+841", "+845"]
    assert rows[1]["source_ids"] == []


def test_the_export_reads_only_the_vault_pairs_it_names(tmp_path: Path) -> None:
    vault = str(tmp_path / "vault")
    write_identities(vault, "one", pa.table({"pseudonym": ["a", "b", "x"], "person_id": ["+849", "+841", "+840"]}))
    write_identities(vault, "two", pa.table({"pseudonym": ["b", "c", "y"], "person_id": ["+841", "+845", "+842"]}))
    curated = _curated([
        {"person_pseudonym": "a", "source_pseudonyms": ["b"], "case_pseudonyms": ["c"]},
        {"person_pseudonym": "b", "source_pseudonyms": ["c"], "case_pseudonyms": ["c"]},
    ])
    named = read_identities(vault, pseudonyms_named(curated))
    assert sorted(named.to_pylist(), key=str) == sorted(
        [{"pseudonym": "a", "person_id": "+849"}, {"pseudonym": "b", "person_id": "+841"},
         {"pseudonym": "c", "person_id": "+845"}], key=str)
    assert reidentify(curated, named) == reidentify(curated, read_identities(vault))
    stranger = _curated([{"person_pseudonym": "a", "source_pseudonyms": ["zz"], "case_pseudonyms": []}])
    with pytest.raises(MissingIdentityError, match="zz"):
        reidentify(stranger, read_identities(vault, pseudonyms_named(stranger)))


def test_reidentification_refuses_an_unknown_pseudonym() -> None:
    identities = pa.table({"pseudonym": ["a"], "person_id": ["+849"]}, schema=VAULT)
    curated = _curated([{"person_pseudonym": "a", "source_pseudonyms": ["zz"], "case_pseudonyms": ["zz"]}])
    with pytest.raises(MissingIdentityError, match="zz"):
        reidentify(curated, identities)


def test_replacing_a_day_swaps_whole_directories_and_cleans_a_crashed_attempt(tmp_path: Path) -> None:
    day = tmp_path / "curated" / "contacts" / "date=2021-08-03"
    other = tmp_path / "curated" / "contacts" / "date=2021-08-02"
    _touch(day / "stale-file.parquet")
    _touch(other / "part-00000.parquet")
    crashed = begin(str(tmp_path), date(2021, 8, 3), directories=[str(day)])
    _touch(Path(crashed.target(str(day))) / "half-written.parquet")
    publication = begin(str(tmp_path), date(2021, 8, 3), directories=[str(day)])
    table = pa.table({"x": [1, 2]})
    stage_directories(publication, [DayDirectory(str(day), {"part-00000.parquet": table, "note.json": b"{}"})])
    publication.publish()
    assert sorted(path.name for path in day.iterdir()) == ["note.json", "part-00000.parquet"]
    assert (other / "part-00000.parquet").exists()
    assert [path.name for path in day.parent.iterdir() if path.name.startswith(".")] == []
    assert [path.relative_to(tmp_path).as_posix() for path in (tmp_path / "_publish").rglob("*")] == [
        "_publish/2021-08-03", "_publish/2021-08-03/published.json"
    ]
