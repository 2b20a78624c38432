"""No raw phone number or citizen ID reaches the analyst and public area, in any spelling, after a real run.

A day with malformed events from known people (bad JSON, missing fields,
out-of-range times, unknown enums) and valid events of other known people
goes through `tracelake run` (embedded broker, DuckDB engine). Then every file
under the lake root except the tracers' `exports/` is read the way its reader
would (every Parquet value, every DuckDB table, view and macro, every text
file) and searched for each person's number with separators removed, so
`0913 579 246`, `+84-913-579-246` and `84913579246` are all one needle. The
same search must find them in the identity vault, or it proves nothing.
"""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

DAY = "2021-08-10"
KEY = "areas-test-key-0123456789abcdef"


@dataclass(frozen=True)
class Person:
    spelled: str
    """As the producer wrote it in the event."""
    needle: str
    """What stays of every spelling once separators are gone: the 9-digit national number, or the CCCD."""


CASE = Person("0912 345 678", "912345678")
VISITOR = Person("0987.654.321", "987654321")
CONTACT = Person("001099012345", "001099012345")
BAD_JSON = Person("0913 579 246", "913579246")
NO_VENUE = Person("+84 935 111 222", "935111222")
TOO_EARLY = Person("84-977-333-444", "977333444")
TOO_LATE = Person("0966 555 666", "966555666")
ODD_SOURCE = Person("0966.888.999", "966888999")
ODD_KIND = Person("079188012345", "079188012345")
LOUD_REPORTER = Person("0944 777 888", "944777888")
LOUD_CONTACT = Person("001099054321", "001099054321")
VALID_EVENT_ID = Person("0945 123 456", "945123456")
"""Not a person of the day: a producer's event_id spelled like a phone, on a valid check-in ..."""
MALFORMED_EVENT_ID = Person("001099077777", "001099077777")
"""... and one spelled like a CCCD, on a malformed one: the lake keeps their pseudonyms."""

VALID = (CASE, VISITOR, CONTACT)
MALFORMED = (BAD_JSON, NO_VENUE, TOO_EARLY, TOO_LATE, ODD_SOURCE, ODD_KIND, LOUD_REPORTER, LOUD_CONTACT)
SEPARATORS = re.compile(r"[\s.\-()\u00a0]")


def _events(directory: Path) -> int:
    """Write the day's topics; returns how many events are malformed."""
    topics: dict[str, list[dict[str, object] | str]] = {
        "venues": [{"event_id": "v1", "venue_id": "CAFE-1", "name": "Cà phê Sông Hàn", "district_code": "490",
                    "province_code": "48"}],
        "case_reports": [
            {"event_id": "r1", "person_id": CASE.spelled, "kind": "confirmed",
             "reported_at": "2021-08-10T09:00:00+07:00", "sample_date": "2021-08-09"},
            {"event_id": "r2", "person_id": ODD_KIND.spelled, "kind": "probably",
             "reported_at": "2021-08-10T09:30:00+07:00"},
        ],
        "checkins": [
            {"event_id": "c1", "person_id": "+84912345678", "venue_id": "CAFE-1",
             "checkin_at": "2021-08-08T08:00:00+07:00", "checkout_at": "2021-08-08T08:40:00+07:00"},
            {"event_id": VALID_EVENT_ID.spelled, "person_id": VISITOR.spelled, "venue_id": "CAFE-1",
             "checkin_at": "2021-08-08T08:50:00+07:00", "checkout_at": "2021-08-08T10:00:00+07:00"},
            '{"event_id": "m1", "person_id": "' + BAD_JSON.spelled + '", "venue_id": "CAFE-1", "checkin_at": ',
            {"event_id": "m2", "person_id": NO_VENUE.spelled, "checkin_at": "2021-08-10T08:00:00+07:00"},
            {"event_id": "m3", "person_id": TOO_EARLY.spelled, "venue_id": "CAFE-1",
             "checkin_at": "2019-12-31T08:00:00+07:00"},
            {"event_id": "m4", "person_id": TOO_LATE.spelled, "venue_id": "CAFE-1",
             "checkin_at": "2099-01-01T08:00:00+07:00"},
            {"event_id": MALFORMED_EVENT_ID.spelled, "person_id": ODD_SOURCE.spelled, "venue_id": "CAFE-1",
             "checkin_at": "2021-08-10T08:00:00+07:00", "source": "carrier_pigeon"},
        ],
        "proximity": [
            *({"event_id": f"p{minute}", "reporter_id": "84-987-654-321", "contact_id": CONTACT.spelled, "rssi": -60,
               "reporter_os": "ios", "contact_os": "ios", "observed_at": f"2021-08-09T12:{minute:02d}:00+07:00"}
              for minute in range(0, 25, 5)),
            {"event_id": "m6", "reporter_id": LOUD_REPORTER.spelled, "contact_id": LOUD_CONTACT.spelled, "rssi": 50,
             "reporter_os": "android", "contact_os": "ios", "observed_at": "2021-08-10T12:00:00+07:00"},
        ],
    }
    for topic, events in topics.items():
        lines = [event if isinstance(event, str) else json.dumps(event, ensure_ascii=False) for event in events]
        (directory / f"{topic}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 7


def _texts(value: object) -> Iterator[str]:
    """Every string inside a value read back from Parquet or DuckDB: nested lists, structs and maps included."""
    if value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes | bytearray | memoryview):
        yield bytes(value).decode("latin-1")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)
    else:
        yield str(value)


def _parquet_texts(path: Path) -> Iterator[str]:
    parquet = pq.ParquetFile(path)
    metadata = parquet.schema_arrow.metadata or {}
    yield from _texts(dict(metadata))
    for row in parquet.read().to_pylist():
        yield from _texts(row)


def _duckdb_texts(path: Path) -> Iterator[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        relations = con.execute(
            "SELECT database_name, schema_name, table_name FROM duckdb_tables() WHERE NOT internal "
            "UNION ALL SELECT database_name, schema_name, view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
        assert relations, f"{path} holds no table"
        for database, schema, name in relations:
            for row in con.execute(f'SELECT * FROM "{database}"."{schema}"."{name}"').fetchall():
                yield from _texts(row)
        for (sql,) in con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall():
            yield from _texts(sql)
        for (definition,) in con.execute(
            "SELECT macro_definition FROM duckdb_functions() WHERE NOT internal AND function_type LIKE '%macro%'"
        ).fetchall():
            yield from _texts(definition)
    finally:
        con.close()


def _file_texts(path: Path) -> Iterator[str]:
    data = path.read_bytes()
    if data[:4] == b"PAR1" and data[-4:] == b"PAR1":
        yield from _parquet_texts(path)
    elif path.suffix == ".duckdb":
        yield from _duckdb_texts(path)
    yield data.decode("utf-8", errors="replace")


def _found(texts: Iterator[str], people: tuple[Person, ...]) -> set[Person]:
    found: set[Person] = set()
    for text in texts:
        compact = SEPARATORS.sub("", text)
        found.update(person for person in people if person.needle in compact)
    return found


def _files(root: Path, *, skip: str | None = None) -> list[Path]:
    """Every file below `root`, hidden and half-written ones included; none below `root/skip`."""
    files = (path for path in root.rglob("*") if path.is_file())
    return sorted(path for path in files if not (skip and path.is_relative_to(root / skip)))


@pytest.mark.slow
def test_no_raw_id_in_any_spelling_reaches_the_analyst_and_public_area(tmp_path: Path) -> None:
    events, lake = tmp_path / "events", tmp_path / "lake"
    events.mkdir()
    malformed = _events(events)
    env = {name: value for name, value in os.environ.items() if not name.startswith("TRACELAKE_")}
    env |= {"TRACELAKE_PSEUDONYMIZATION_KEY": KEY, "TRACELAKE_TRACE_ENGINE": "duckdb", "COLUMNS": "200"}
    run = subprocess.run(
        [sys.executable, "-m", "tracelake", "run", "--events", str(events), "--lake", str(lake), "--date", DAY],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    quarantined = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{lake}/quarantine/*/date=*/*.parquet')"
    ).fetchall()[0][0]
    assert quarantined == malformed
    assert (lake / "tracelake.duckdb").is_file()

    everyone = (*VALID, *MALFORMED)
    leaks: dict[str, list[str]] = {}
    scanned = _files(lake, skip="exports")
    assert len(scanned) > 20
    for path in scanned:
        found = _found(_file_texts(path), (*everyone, VALID_EVENT_ID, MALFORMED_EVENT_ID))
        if found:
            leaks[str(path.relative_to(lake))] = sorted(person.spelled for person in found)
    for stream, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        found = _found(iter([text]), (*everyone, VALID_EVENT_ID, MALFORMED_EVENT_ID))
        if found:
            leaks[stream] = sorted(person.spelled for person in found)
    assert leaks == {}

    in_vault = set()
    for path in _files(tmp_path / "lake-vault"):
        in_vault |= _found(_file_texts(path), everyone)
    assert sorted(person.spelled for person in set(everyone) - in_vault) == []
    in_exports = set()
    for path in _files(lake / "exports"):
        in_exports |= _found(_file_texts(path), everyone)
    assert {VISITOR, CONTACT} <= in_exports
