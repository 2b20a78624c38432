"""Retention: 30 landed days, `retention_days: 21`, a purge before day 10; day 30 traces as before.

Day n is D - (30 - n), D = 2021-08-03 (Asia/Ho_Chi_Minh). The people whose
data is old but still matters:

- A, confirmed on day 3 (an earlier discard on day 2), exposes B at a venue on
  day 29: A's old report must be carried forward.
- C, confirmed on day 12 but isolated since day 8 (a later isolation on day
  9): C's window is empty, so E, with C at a venue on day 28, is no F1.
- G checks in on day 8 and out on day 20: H, an F0 from day 19, meets G in
  that stay, so the old check-in must be carried forward.
- K, confirmed on day 2, sits 20 minutes next to L on day 28 (L is F1), and
  L meets M on day 29 (M is F2).
- N's check-in of day 5 was resent with the same event_id and another time on
  day 29, next to A: the first copy counts, so N is no F1.
- Every day, people of their own: a lone sighting, a check-in, a discarded
  report, a quarantined event, a rejected payload, a worklist and the
  validation's results.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.retention.purge import CARRIED_FILE, purge
from jobs.trace.day import EngineName, trace_day
from schemas.lake import QUARANTINE
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import rules_with
from tracelake.core.lake import segment_file_name
from tracelake.core.purge_mark import purge_mark
from tracelake.core.rules import Rules
from tracelake.core.vault import read_identities

pytestmark = pytest.mark.slow

D = date(2021, 8, 3)
RETENTION_DAYS = 21
BEFORE = D - timedelta(days=RETENTION_DAYS - 1)
PEOPLE = {label: f"0912{index:06d}" for index, label in enumerate("ABCEGHKLMN", start=1)}


def day(n: int) -> date:
    return D - timedelta(days=30 - n)


def at(n: int, clock: str) -> str:
    return f"{day(n).isoformat()} {clock}"


def background(n: int, role: str) -> str:
    """A person of day n only."""
    return f"0913{n:02d}{'pqrs'.index(role):04d}"


def _filler(field: pa.Field, n: int) -> Any:
    if pa.types.is_string(field.type):
        return "checkins" if field.name == "kafka_topic" else "malformed_json"
    if pa.types.is_integer(field.type):
        return n
    if pa.types.is_timestamp(field.type):
        return datetime.fromisoformat(f"{day(n).isoformat()}T12:00:00+07:00")
    return None


def _land(builder: LakeBuilder) -> None:
    for label in ("V1", "V2", "V4", "V5", "V9"):
        builder.venue(label, f"Venue {label}", "001", "79")
    person = PEOPLE
    builder.case(person["A"], "discarded", at(2, "09:00"))
    builder.confirmed(person["A"], at(3, "09:00"), sample_date=day(3))
    builder.checkin(person["A"], "V1", at(29, "10:00"), at(29, "11:00"))
    builder.checkin(person["B"], "V1", at(29, "10:15"), at(29, "11:00"))
    builder.case(person["C"], "isolated", at(8, "09:00"), isolated_at=at(8, "08:00"))
    builder.case(person["C"], "isolated", at(9, "09:00"), isolated_at=at(9, "08:00"))
    builder.confirmed(person["C"], at(12, "10:00"), sample_date=day(12))
    builder.checkin(person["C"], "V4", at(28, "10:00"), at(28, "11:00"))
    builder.checkin(person["E"], "V4", at(28, "10:00"), at(28, "11:00"))
    builder.checkin(person["G"], "V2", at(8, "08:00"), at(20, "20:00"))
    builder.confirmed(person["H"], at(20, "18:00"), sample_date=day(19))
    builder.checkin(person["H"], "V2", at(19, "10:00"), at(19, "12:00"))
    builder.confirmed(person["K"], at(2, "10:00"), sample_date=day(1))
    for minute in range(21):
        builder.sighting(person["K"], person["L"], at(28, f"10:{minute:02d}"))
    builder.checkin(person["L"], "V5", at(29, "14:00"), at(29, "15:00"))
    builder.checkin(person["M"], "V5", at(29, "14:00"), at(29, "15:00"))
    builder.checkin(person["N"], "V1", at(5, "10:00"), at(5, "11:00"), event_id="resent-1")
    builder.checkin(person["N"], "V1", at(29, "10:00"), at(29, "11:00"), event_id="resent-1")
    for n in range(1, 31):
        builder.sighting(background(n, "p"), background(n, "q"), at(n, "12:00"))
        builder.checkin(background(n, "r"), "V9", at(n, "12:00"))
        builder.case(background(n, "s"), "discarded", at(n, "12:00"))
    builder.write()
    vault = builder.vault
    for n in range(1, 31):
        quarantine = builder.root / "quarantine" / "checkins" / f"date={day(n).isoformat()}"
        quarantine.mkdir(parents=True)
        row = {field.name: _filler(field, n) for field in QUARANTINE}
        name = segment_file_name("checkins", 0, builder.incarnation, n)
        pq.write_table(pa.Table.from_pylist([row], schema=QUARANTINE), quarantine / name)
        rejected = vault / "rejected" / "checkins" / f"date={day(n).isoformat()}"
        rejected.mkdir(parents=True)
        payload = pa.table({"kafka_offset": [n], "raw_value": [f'{{"person_id": "{background(n, "p")}"'.encode()]})
        pq.write_table(payload, rejected / name)
        validation = builder.root / "validation" / f"date={day(n).isoformat()}"
        validation.mkdir(parents=True)
        (validation / "results.json").write_text("{}")


def _published(builder: LakeBuilder) -> None:
    """A worklist, public notices and a report per day, written after the traces (a trace replaces its day's)."""
    for n in range(1, 31):
        worklist = builder.root / "exports" / "worklists" / f"date={day(n).isoformat()}" / "district=001"
        worklist.mkdir(parents=True, exist_ok=True)
        (worklist / "worklist.csv").write_text(f"person_id\n{background(n, 'r')}\n")
        for kept in ("public/notices", "reports"):
            (builder.root / kept / f"date={day(n).isoformat()}").mkdir(parents=True, exist_ok=True)
            (builder.root / kept / f"date={day(n).isoformat()}" / "index.html").write_text("<p>&lt;10</p>")


@dataclass(frozen=True)
class Traced:
    tiers: dict[str, str]
    export: list[dict[str, Any]]
    cases: list[dict[str, Any]]


def _trace(builder: LakeBuilder, rules: Rules, engine: EngineName, on: date = D) -> Traced:
    result = trace_day(str(builder.root), on, rules, vault=str(builder.vault), engine=engine)
    export = pq.read_table(Path(result.outputs["export"]) / "part-00000.parquet")
    cases = pq.read_table(Path(result.outputs["cases"]) / "part-00000.parquet")
    return Traced(
        tiers={row["person_id"]: row["tier"] for row in export.to_pylist()},
        export=sorted(export.to_pylist(), key=lambda row: row["person_id"]),
        cases=sorted(cases.to_pylist(), key=lambda row: row["person_pseudonym"]),
    )


@dataclass(frozen=True)
class Purged:
    builder: LakeBuilder
    rules: Rules
    before: dict[str, Traced]
    after: dict[str, Traced]
    result: Any
    vault_before: set[str]
    days_left: dict[str, set[date]]
    """The `date=` days of each table right after the purge."""


DATED_TABLES = (
    "raw/checkins", "raw/proximity", "raw/case_reports", "raw/venues", "quarantine/checkins", "exports/worklists",
    "exports/exposures", "curated/cases", "validation", "public/notices", "reports", "manifests/trace",
)


def _days(directory: Path) -> set[date]:
    return {date.fromisoformat(entry.name[5:]) for entry in directory.iterdir() if entry.name.startswith("date=")}


def _tree(*roots: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path): (path.stat().st_size, path.stat().st_mtime_ns)
        for root in roots
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def purged(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Purged]:
    request.getfixturevalue("spark")
    root = tmp_path_factory.mktemp("retention")
    builder = LakeBuilder(root / "lake", root / "vault")
    _land(builder)
    rules = rules_with(retention_days=RETENTION_DAYS)
    for older in (day(5), day(9), day(10)):
        _trace(builder, rules, "duckdb", older)
    before = {engine: _trace(builder, rules, engine) for engine in ("duckdb", "spark")}
    _published(builder)
    vault_before = set(read_identities(str(builder.vault))["pseudonym"].to_pylist())
    purged_at = datetime.fromisoformat("2021-08-04T01:00Z")
    result = purge(str(builder.root), str(builder.vault), BEFORE, rules, now=purged_at)
    days_left = {table: _days(builder.root / table) for table in DATED_TABLES}
    days_left["vault:rejected/checkins"] = _days(builder.vault / "rejected" / "checkins")
    after = {engine: _trace(builder, rules, engine) for engine in ("duckdb", "spark")}
    yield Purged(builder, rules, before, after, result, vault_before, days_left)


def test_the_story_traces_as_told_before_the_purge(purged: Purged) -> None:
    person_id = purged.builder.person_id
    expected = {person_id(PEOPLE["B"]): "F1", person_id(PEOPLE["G"]): "F1", person_id(PEOPLE["L"]): "F1",
                person_id(PEOPLE["M"]): "F2"}
    assert purged.before["duckdb"].tiers == expected
    assert purged.before["spark"].tiers == expected


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_day_30_traces_the_same_after_the_purge(purged: Purged, engine: str) -> None:
    assert purged.after[engine].tiers == purged.before[engine].tiers
    assert purged.after[engine].export == purged.before[engine].export
    assert purged.after[engine].cases == purged.before[engine].cases


def test_only_days_10_to_30_are_left_of_raw_quarantine_and_exports(purged: Purged) -> None:
    window = {day(n) for n in range(10, 31)}
    left = purged.days_left
    for topic in ("checkins", "proximity", "case_reports"):
        assert left[f"raw/{topic}"] == window, topic
    assert left["quarantine/checkins"] == window
    assert left["vault:rejected/checkins"] == window
    assert left["exports/worklists"] == window
    assert left["exports/exposures"] == {day(10), D}
    assert left["curated/cases"] == {day(10), D}
    assert left["validation"] == window
    assert left["public/notices"] == left["reports"] == {day(n) for n in range(1, 31)}
    assert left["manifests/trace"] == {day(5), day(9), day(10), D}
    assert left["raw/venues"], "venues name no person: kept"


def test_what_the_window_needs_is_carried_into_its_first_day(purged: Purged) -> None:
    first_day = purged.builder.root / "raw"
    checkins = pq.read_table(first_day / "checkins" / f"date={BEFORE}" / CARRIED_FILE).to_pylist()
    reports = pq.read_table(first_day / "case_reports" / f"date={BEFORE}" / CARRIED_FILE).to_pylist()
    pseudonym = purged.builder.pseudonym
    assert sorted(row["person_pseudonym"] for row in checkins) == sorted(pseudonym(PEOPLE[label]) for label in "GN")
    assert [row["event_id"] for row in checkins if row["person_pseudonym"] == pseudonym(PEOPLE["N"])] == ["resent-1"]
    carried = {(row["person_pseudonym"], row["kind"]) for row in reports}
    assert {(pseudonym(PEOPLE[f0]), "confirmed") for f0 in "AK"} | {(pseudonym(PEOPLE["C"]), "isolated")} <= carried
    assert (pseudonym(PEOPLE["A"]), "discarded") not in carried, "outranked by A's later confirmation"
    isolations = [row["isolated_at"] for row in reports if row["person_pseudonym"] == pseudonym(PEOPLE["C"])]
    assert isolations == [purged.builder.at(at(8, "08:00"))], "only the earliest isolation decides"
    assert len(reports) == 3 + 9, "the old F0s and C's isolation, and each discarded person's verdict"


def test_the_vault_keeps_only_the_people_kept_rows_name(purged: Purged) -> None:
    vault = set(read_identities(str(purged.builder.vault))["pseudonym"].to_pylist())
    pseudonym = purged.builder.pseudonym
    gone = {pseudonym(background(n, role)) for n in range(1, 10) for role in "pqr"}
    assert gone <= purged.vault_before
    assert not gone & vault
    assert {pseudonym(person) for person in PEOPLE.values()} <= vault
    assert {pseudonym(background(n, "s")) for n in range(1, 31)} <= vault, "their verdicts are still carried"
    assert {pseudonym(background(n, role)) for n in range(10, 31) for role in "pqr"} <= vault
    assert purged.result.identities.pairs_removed == len(gone)
    assert purge_mark(str(purged.builder.vault)) is not None


def test_the_record_has_counts_and_days_never_an_id(purged: Purged) -> None:
    record_path = Path(purged.result.record)
    assert record_path == purged.builder.root / "manifests" / "purge" / f"date={BEFORE}" / "purge.json"
    text = record_path.read_text()
    document = json.loads(text)
    (run,) = document["runs"]
    tables = {(table["area"], table["table"]): table for table in run["tables"]}
    old_days = [day(n).isoformat() for n in range(1, 10)]
    assert tables[("analyst", "raw/proximity")] == {
        "area": "analyst", "table": "raw/proximity", "days": old_days, "files": 9, "rows": 9, "rows_carried": 0}
    assert tables[("analyst", "raw/checkins")]["rows_carried"] == 2
    assert tables[("analyst", "raw/case_reports")]["rows_carried"] == 12
    assert tables[("analyst", "quarantine/checkins")]["rows"] == 9
    assert tables[("identity", "rejected/checkins")]["days"] == old_days
    assert tables[("tracer", "exports/exposures")]["days"] == [day(5).isoformat(), day(9).isoformat()]
    assert tables[("tracer", "exports/worklists")]["files"] == 9
    assert run["retention_days"] == RETENTION_DAYS
    builder = purged.builder
    everyone = [*PEOPLE.values(), *(background(n, role) for n in range(1, 31) for role in "pqrs")]
    for person in everyone:
        assert builder.person_id(person) not in text and builder.pseudonym(person) not in text
        assert person not in text
    assert "resent-1" not in text and "checkins-0" not in text


def test_a_second_purge_changes_nothing(purged: Purged) -> None:
    roots = (purged.builder.root, purged.builder.vault)
    files = _tree(*roots)
    again = purge(str(purged.builder.root), str(purged.builder.vault), BEFORE, purged.rules)
    assert again.record is None and not again.purged_anything
    assert _tree(*roots) == files
