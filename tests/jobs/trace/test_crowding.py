"""People present during each venue exposure: Spark's and DuckDB's sorted counts and a plain reading agree.

The reference below is the definition read literally: the distinct people with
a stay at the venue meeting the exposure's interval, both ends included. Stays
reach crowding with their end already imputed (no check-out: the default
stay), so an imputed stay is an ordinary one here.
"""

from collections.abc import Iterable

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession

from jobs.trace.duckdb.crowding import count_venue_visitors
from jobs.trace.spark.crowding import with_venue_visitors

Stay = tuple[str, str, int, int]
"""person, venue_id, start_us, end_us"""
Interval = tuple[str, int, int]
"""venue_id, start_us, end_us"""

UNIT_US = 20 * 60 * 1_000_000
"""Twenty minutes: random stays cross hours, and a few units make a realistic day."""
ORIGIN_US = 1_627_750_800_000_000

_STAYS = pa.schema(
    [
        ("person", pa.string()),
        ("venue_id", pa.string()),
        ("start_us", pa.int64()),
        ("end_us", pa.int64()),
        ("imputed", pa.bool_()),
    ]
)
_CONTACTS = pa.schema(
    [
        ("source", pa.string()),
        ("channel", pa.string()),
        ("venue_id", pa.string()),
        ("start_us", pa.int64()),
        ("end_us", pa.int64()),
    ]
)


def _reference(stays: Iterable[Stay], venue: str, start: int, end: int) -> int | None:
    present = {person for person, at, s_start, s_end in stays if at == venue and s_start <= end and s_end >= start}
    return len(present) or None


def _tables(stays: list[Stay], intervals: list[Interval]) -> tuple[pa.Table, pa.Table]:
    stay_rows = [
        {"person": person, "venue_id": venue, "start_us": start, "end_us": end, "imputed": False}
        for person, venue, start, end in stays
    ]
    contact_rows = [
        {"source": f"e{index}", "channel": "venue", "venue_id": venue, "start_us": start, "end_us": end}
        for index, (venue, start, end) in enumerate(intervals)
    ]
    contact_rows.append(
        {"source": "ble", "channel": "ble", "venue_id": None, "start_us": ORIGIN_US, "end_us": ORIGIN_US + UNIT_US}
    )
    return pa.Table.from_pylist(stay_rows, schema=_STAYS), pa.Table.from_pylist(contact_rows, schema=_CONTACTS)


def _spark_counts(spark: SparkSession, stays: pa.Table, contacts: pa.Table) -> dict[str, int | None]:
    frame = with_venue_visitors(
        spark.createDataFrame(
            contacts.to_pylist(), "source string, channel string, venue_id string, start_us long, end_us long"
        ),
        spark.createDataFrame(
            stays.to_pylist(), "person string, venue_id string, start_us long, end_us long, imputed boolean"
        ),
    )
    return {row["source"]: row["venue_visitors"] for row in frame.collect()}


def _duckdb_counts(stays: pa.Table, contacts: pa.Table) -> dict[str, int | None]:
    con = duckdb.connect()
    con.register("stays_in", stays)
    con.register("contacts_in", contacts)
    con.execute("CREATE TEMP TABLE visitor_stays AS SELECT * FROM stays_in")
    con.execute("CREATE TEMP TABLE contacts AS SELECT * FROM contacts_in")
    count_venue_visitors(con)
    rows = con.execute("SELECT source, venue_visitors FROM contacts").fetchall()
    return dict(rows)


def _assert_counted(spark: SparkSession, stays: list[Stay], intervals: list[Interval]) -> None:
    expected: dict[str, int | None] = {
        f"e{index}": _reference(stays, venue, start, end) for index, (venue, start, end) in enumerate(intervals)
    }
    expected["ble"] = None
    stay_table, contact_table = _tables(stays, intervals)
    assert _duckdb_counts(stay_table, contact_table) == expected
    assert _spark_counts(spark, stay_table, contact_table) == expected


def _at(units: float) -> int:
    return ORIGIN_US + round(units * UNIT_US)


def test_each_person_counts_once_however_their_stays_lie(spark: SparkSession) -> None:
    stays = [
        ("ann", "v1", _at(0), _at(3)),
        ("ann", "v1", _at(1), _at(2)),  # nested in her own stay
        ("ann", "v1", _at(1), _at(2)),  # and again, a duplicate
        ("bob", "v1", _at(3), _at(5)),  # touches the end of [0, 3]
        ("cid", "v1", _at(0.5), _at(1)),  # away from 1 to 4: a gap inside [0, 6], around [2, 3.5]
        ("cid", "v1", _at(4), _at(6)),
        ("dan", "v1", _at(2), _at(2)),  # a check-out at the check-in: one instant
        ("eve", "v2", _at(0), _at(9)),  # another venue
    ]
    intervals = [
        ("v1", _at(0), _at(3)),
        ("v1", _at(0), _at(6)),
        ("v1", _at(2), _at(3.5)),
        ("v1", _at(2), _at(2)),
        ("v1", _at(5.5), _at(5.5)),
        ("v1", _at(7), _at(8)),  # nobody
        ("v2", _at(3), _at(4)),
    ]
    _assert_counted(spark, stays, intervals)


@st.composite
def venue_days(draw: st.DrawFn) -> tuple[list[Stay], list[Interval]]:
    """A few venues with a handful of people each: overlapping, touching, nested and repeated stays."""
    stays: list[Stay] = []
    intervals: list[Interval] = []
    for venue in [f"v{index}" for index in range(draw(st.integers(1, 4)))]:
        people = [f"p{index}" for index in range(draw(st.integers(1, 5)))]
        for _ in range(draw(st.integers(0, 12))):
            start = draw(st.integers(0, 30))
            length = draw(st.integers(0, 10))
            stays.append((draw(st.sampled_from(people)), venue, _at(start), _at(start + length)))
        if stays and draw(st.booleans()):
            stays.append(draw(st.sampled_from(stays)))
        for _ in range(draw(st.integers(1, 8))):
            start = draw(st.integers(-2, 42))
            intervals.append((venue, _at(start), _at(start + draw(st.integers(0, 12)))))
    return stays, intervals


@settings(max_examples=30, deadline=None)
@given(venue_days())
def test_engines_count_the_people_of_random_venue_days(
    spark: SparkSession, day: tuple[list[Stay], list[Interval]]
) -> None:
    stays, intervals = day
    _assert_counted(spark, stays, intervals)
