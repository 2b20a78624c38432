"""Producers choose event ids freely: one that spells a phone or a CCCD never reaches the lake.

The lake keeps a keyed pseudonym of each producer's event_id, in raw rows of
every topic and in the quarantine; the rejected payload, bytes as sent, stays
in the vault (the identity area).
"""

import re
from pathlib import Path

import pyarrow.parquet as pq

from tests.streams.conftest import Landing, case_report, checkin, lake_event_id, sighting, venue
from tracelake.core.rejected import read_rejected

PHONE_ID = "0912345678"
TRACE_ID = "ci-+84912345678-2021-08-03"
CCCD_ID = "001099012345"
VENUE_ID = "0987 654 321"
REFUSED_ID = "+84 935 111 222"
SPELLINGS = [PHONE_ID, TRACE_ID, CCCD_ID, VENUE_ID, REFUSED_ID, "912345678", "84912345678", "987654321",
             "935111222"]
"""Every producer id above, and the bare digits of the phones in them."""
PSEUDONYM = re.compile(r"[0-9a-f]{32}")


def _text_of_the_lake(lake: Path) -> str:
    """Every path, and every cell of every Parquet file, under the lake, as one text."""
    parts: list[str] = []
    for path in sorted(lake.rglob("*")):
        parts.append(str(path.relative_to(lake)))
        if path.suffix == ".parquet":
            parts.append(repr(pq.read_table(path).to_pylist()))
        elif path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def test_an_event_id_that_is_a_phone_lands_as_a_pseudonym_and_nowhere_as_itself(landing: Landing) -> None:
    refused = {**checkin(9), "event_id": REFUSED_ID, "person_id": "not a phone"}
    landing.write("checkins", [{**checkin(1), "event_id": PHONE_ID}, refused])
    landing.write("proximity", [{**sighting(1), "event_id": TRACE_ID}])
    landing.write("case_reports", [{**case_report(1), "event_id": CCCD_ID}])
    unnamed = {field: value for field, value in venue(2).items() if field != "event_id"}
    landing.write("venues", [{**venue(1), "event_id": VENUE_ID}, unnamed])
    landing.publish()

    counts = landing.land()

    assert counts.total_quarantined == 1
    for topic, producer_id in (("checkins", PHONE_ID), ("proximity", TRACE_ID), ("case_reports", CCCD_ID)):
        [lake_id] = landing.raw(topic)["event_id"].to_pylist()
        assert PSEUDONYM.fullmatch(lake_id) and lake_id == lake_event_id(producer_id), topic
    venues = {row["venue_id"]: row["event_id"] for row in landing.raw("venues").to_pylist()}
    assert venues == {"V-1": lake_event_id(VENUE_ID), "V-2": None}
    [quarantined] = landing.quarantine("checkins").to_pylist()
    assert quarantined["event_id"] == lake_event_id(REFUSED_ID)
    assert quarantined["reason"] == "malformed id in person_id"

    lake = _text_of_the_lake(landing.root / "lake")
    assert "raw" in lake and "quarantine" in lake
    for spelling in SPELLINGS:
        assert spelling not in lake, spelling
    [payload] = read_rejected(landing.settings.vault_location, "checkins")["raw_value"].to_pylist()
    assert REFUSED_ID.encode() in payload  # the data engineers' copy, in the identity area


def test_a_resent_event_keeps_one_lake_event_id_and_it_is_not_its_persons_pseudonym(landing: Landing) -> None:
    resent = {**checkin(1, person="+84912345678"), "event_id": "+84912345678"}
    landing.write("checkins", [resent, checkin(2), resent])
    landing.publish()

    landing.land()

    rows = landing.raw("checkins").to_pylist()
    lake_id = lake_event_id("+84912345678")
    assert sorted(row["event_id"] for row in rows) == sorted([lake_id, lake_id, lake_event_id("c-2")])
    assert lake_id not in {row["person_pseudonym"] for row in rows}
