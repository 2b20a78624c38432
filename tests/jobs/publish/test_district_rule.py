"""The district rule of `exposure_districts` (jobs/publish/analyst_db.py), against its statement, on
hypothesis-made contacts: a person's district is the registered venue's of their most recent venue exposure,
the longer first among exposures that end together, then the smaller venue id; unknown without one."""

from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.publish.analyst_db import UNKNOWN_DISTRICT, derived_view_sql
from schemas.lake import RAW_CHECKINS
from tracelake.core.rules import load_rules

RULES = load_rules()
DAY = date(2021, 8, 4)
PEOPLE = [f"{n:016x}" for n in range(3)]
VENUES = {"V-1": "760", "V-2": "770", "V-3": "771"}
"""V-4 and a null venue are not registered."""
START = datetime(2021, 8, 4, 1, tzinfo=UTC)

contact = st.tuples(
    st.sampled_from(PEOPLE),
    st.sampled_from(["venue", "venue", "ble"]),
    st.sampled_from([*VENUES, "V-4", None]),
    st.integers(0, 2),  # end, in hours after START: few values, many ties
    st.sampled_from([15.0, 30.0, 45.0]),
)


def _districts(contacts: list[tuple[str, str, str | None, int, float]]) -> dict[str, tuple[str, str | None]]:
    con = duckdb.connect()
    try:
        con.register("contacts", pa.table({
            "date": pa.array([DAY] * len(contacts), pa.date32()),
            "target_pseudonym": pa.array([c[0] for c in contacts], pa.string()),
            "channel": pa.array([c[1] for c in contacts], pa.string()),
            "venue_id": pa.array([c[2] for c in contacts], pa.string()),
            "exposure_end": pa.array([START + timedelta(hours=c[3]) for c in contacts], pa.timestamp("us", "UTC")),
            "exposure_minutes": pa.array([c[4] for c in contacts], pa.float64()),
        }))
        con.register("venues", pa.table({"venue_id": list(VENUES), "district_code": list(VENUES.values())}))
        con.register("exposures", pa.table({
            "date": pa.array([DAY] * len(PEOPLE), pa.date32()), "person_pseudonym": PEOPLE,
            "tier": ["F1"] * len(PEOPLE),
        }))
        con.register("raw_checkins", RAW_CHECKINS.empty_table())
        rows = con.execute(
            f"SELECT person_pseudonym, district_code, district_venue_id "
            f"FROM ({derived_view_sql(RULES, 'exposure_districts')})"
        ).fetchall()
    finally:
        con.close()
    assert len(rows) == len(PEOPLE), "one row per exposed person"
    return {person: (district, venue) for person, district, venue in rows}


@settings(max_examples=150, deadline=None)
@given(st.lists(contact, max_size=25))
def test_a_persons_district_is_their_latest_longest_venue_exposure_then_the_smaller_venue(
    contacts: list[tuple[str, str, str | None, int, float]],
) -> None:
    expected: dict[str, tuple[str, str | None]] = {}
    for person in PEOPLE:
        theirs = [(-end, -minutes, venue) for who, channel, venue, end, minutes in contacts
                  if who == person and channel == "venue" and venue in VENUES]
        venue = min(theirs)[2] if theirs else None
        expected[person] = (VENUES[venue], venue) if venue else (UNKNOWN_DISTRICT, None)
    assert _districts(contacts) == expected
