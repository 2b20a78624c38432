"""The district rule of `exposure_districts` (jobs/publish/analyst_db.py), against its statement, on
hypothesis-made contacts and check-ins: a person's district is the registered venue's of their most recent
venue exposure, the longer first among exposures that end together, then the smaller venue id; without one,
the registered venue they checked in at most often (distinct events), then the latest visited, then the
smaller venue id; else unknown."""

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

checkin = st.tuples(
    st.sampled_from(PEOPLE),
    st.sampled_from([*VENUES, "V-4"]),
    st.integers(0, 2),  # check-in, in hours after START
    st.sampled_from(["e-1", "e-2", "e-3"]),  # a resent check-in is one visit
)
contact = st.tuples(
    st.sampled_from(PEOPLE),
    st.sampled_from(["venue", "venue", "ble"]),
    st.sampled_from([*VENUES, "V-4", None]),
    st.integers(0, 2),  # end, in hours after START: few values, many ties
    st.sampled_from([15.0, 30.0, 45.0]),
)


def _checkins(checkins: list[tuple[str, str, int, str]]) -> pa.Table:
    rows = len(checkins)
    columns = {
        "event_id": pa.array([f"{c[0]}-{c[3]}" for c in checkins], pa.string()),
        "person_pseudonym": pa.array([c[0] for c in checkins], pa.string()),
        "venue_id": pa.array([c[1] for c in checkins], pa.string()),
        "checkin_at": pa.array([START + timedelta(hours=c[2]) for c in checkins], pa.timestamp("us", "UTC")),
        "source": pa.array(["qr_venue"] * rows, pa.string()),
    }
    return pa.Table.from_arrays(
        [columns[field.name].cast(field.type) if field.name in columns else pa.nulls(rows, field.type)
         for field in RAW_CHECKINS],
        schema=RAW_CHECKINS,
    )


def _districts(
    contacts: list[tuple[str, str, str | None, int, float]], checkins: list[tuple[str, str, int, str]],
) -> dict[str, tuple[str, str, str | None]]:
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
        con.register("raw_checkins", _checkins(checkins))
        rows = con.execute(
            f"SELECT person_pseudonym, district_code, district_basis, district_venue_id "
            f"FROM ({derived_view_sql(RULES, 'exposure_districts')})"
        ).fetchall()
    finally:
        con.close()
    assert len(rows) == len(PEOPLE), "one row per exposed person"
    return {person: (district, basis, venue) for person, district, basis, venue in rows}


@settings(max_examples=150, deadline=None)
@given(st.lists(contact, max_size=25), st.lists(checkin, max_size=25))
def test_a_persons_district_is_their_latest_venue_exposure_else_their_most_visited_venue(
    contacts: list[tuple[str, str, str | None, int, float]], checkins: list[tuple[str, str, int, str]],
) -> None:
    expected: dict[str, tuple[str, str, str | None]] = {}
    for person in PEOPLE:
        exposures = [(-end, -minutes, venue) for who, channel, venue, end, minutes in contacts
                     if who == person and channel == "venue" and venue in VENUES]
        visits: dict[str, tuple[set[str], int]] = {}
        for who, venue, hour, event in checkins:
            if who == person and venue in VENUES:
                events, latest = visits.get(venue, (set(), hour))
                visits[venue] = (events | {event}, max(latest, hour))
        if exposures:
            venue = min(exposures)[2]
            expected[person] = (VENUES[venue], "exposure_venue", venue)
        elif visits:
            venue = min((-len(events), -latest, venue) for venue, (events, latest) in visits.items())[2]
            expected[person] = (VENUES[venue], "checkin_venue", venue)
        else:
            expected[person] = (UNKNOWN_DISTRICT, UNKNOWN_DISTRICT, None)
    assert _districts(contacts, checkins) == expected
