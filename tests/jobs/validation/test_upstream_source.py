"""The exposures' suite columns `is_case` and `has_upstream_source`, against a literal reading, on made-up runs.

An exposed person at tier Fk has an upstream source when one of the sources it
lists is, in the same run, at tier Fk-1 (F0: a confirmed case). A person listed
at two tiers counts at the shallowest. Tiers that are not `F` and digits, null
list items and sources the run does not know are the values a corrupted table
could hold; each must give what the reading says.
"""

from datetime import UTC, datetime

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.validation.outputs import EXPOSURES_TABLE, RUN_TIERS
from jobs.validation.session import session
from schemas.lake import CASES, EXPOSURES_CURATED

PEOPLE = st.sampled_from(["a", "b", "c", "d", "e"])
TIER = st.sampled_from(["F1", "F2", "F3", "F0", "X", "F", "F01"])
INSTANT = datetime(2021, 8, 10, tzinfo=UTC)


def _depth(tier: str | None) -> int | None:
    if tier is None or len(tier) < 2 or tier[0] != "F" or not tier[1:].isdigit():
        return None
    return int(tier[1:])


@st.composite
def runs(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str, list[str | None]]]]:
    cases = draw(st.lists(PEOPLE, max_size=3))
    exposures = draw(st.lists(
        st.tuples(PEOPLE, TIER, st.lists(st.one_of(st.none(), PEOPLE), max_size=3)), max_size=8
    ))
    return cases, exposures


@settings(max_examples=80, deadline=None)
@given(runs())
def test_upstream_sources_and_cases_are_read_as_the_rule_says(
    run: tuple[list[str], list[tuple[str, str, list[str | None]]]],
) -> None:
    cases, exposures = run
    depth: dict[str, int] = {person: 0 for person in cases}
    for person, tier, _ in exposures:
        listed = _depth(tier)
        if listed is not None:
            depth[person] = min(depth.get(person, listed), listed)
    expected = []
    for person, tier, sources in exposures:
        own = _depth(tier)
        upstream = own is not None and any(
            source is not None and depth.get(source) == own - 1 for source in sources
        )
        expected.append((person, tier, depth.get(person) == 0, upstream))

    case_rows = pa.Table.from_pylist(
        [{"person_pseudonym": person, "status": "confirmed", "rules_version": "v"} for person in cases], schema=CASES
    )
    exposure_rows = pa.Table.from_pylist([
        {"person_pseudonym": person, "tier": tier, "first_exposure_at": INSTANT, "last_exposure_at": INSTANT,
         "exposure_minutes": 1.0, "channels": ["venue"], "source_pseudonyms": sources, "case_pseudonyms": [],
         "venue_ids": [], "rules_version": "v"}
        for person, tier, sources in exposures
    ], schema=EXPOSURES_CURATED)
    with session() as views:
        views.register("cases", case_rows)
        views.register("exposures", exposure_rows)
        views.execute(RUN_TIERS)
        views.execute(EXPOSURES_TABLE)
        found = views.execute(
            "SELECT person_pseudonym, tier, is_case, has_upstream_source FROM curated_exposures"
        )
    assert found == expected
