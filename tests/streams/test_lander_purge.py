"""A lander service that keeps running through a purge: people seen again get their vault pair again,
and a late event for a purged day lands instead of stopping the lander."""

import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from jobs.retention.purge import purge
from streams.lander import land
from streams.landing_counts import LandingCounts
from tests.streams.conftest import KEY, Landing
from tracelake.core.identity import Pseudonymizer, normalize_person_id
from tracelake.core.rules import load_rules
from tracelake.core.vault import read_identities

PERSON = "0912 000 111"
LATE = "0912 000 222"


def _checkin(number: int, person: str, at: str) -> dict[str, Any]:
    return {"event_id": f"c-{number}", "person_id": person, "venue_id": "V-1", "checkin_at": at}


def _wait_for(landing: Landing, rows: int) -> None:
    deadline = time.monotonic() + 60
    while landing.raw("checkins").num_rows < rows and time.monotonic() < deadline:
        time.sleep(0.2)
    assert landing.raw("checkins").num_rows == rows


def _pseudonym(person: str) -> str:
    normalized = normalize_person_id(person)
    assert normalized is not None
    return Pseudonymizer(KEY.encode()).pseudonym(normalized)


@pytest.mark.slow
def test_a_person_purged_and_seen_again_gets_their_pair_again(landing: Landing) -> None:
    stop = threading.Event()
    result: list[LandingCounts] = []
    service = threading.Thread(target=lambda: result.append(land(landing.settings, KEY.encode(), False,
                                                                 stop_event=stop)))
    service.start()
    try:
        landing.write("checkins", [_checkin(1, PERSON, "2021-07-01T08:00:00+07:00")])
        landing.publish()
        _wait_for(landing, 1)
        vault = landing.settings.vault_location
        assert _pseudonym(PERSON) in read_identities(vault)["pseudonym"].to_pylist()

        purged = purge(landing.settings.lake, vault, date(2021, 7, 14), load_rules())

        assert purged.identities.pairs_removed == 1
        assert read_identities(vault).num_rows == 0
        Path(landing.events_dir / "checkins.jsonl").unlink()
        landing.write("checkins", [_checkin(2, PERSON, "2021-08-03T08:00:00+07:00"),
                                   _checkin(3, LATE, "2021-07-01T09:00:00+07:00")])
        landing.publish()
        _wait_for(landing, 2)
    finally:
        stop.set()
        service.join(30)
    assert not service.is_alive() and result, "the lander stopped when asked, not on an error"
    assert landing.days("raw", "checkins") == {date(2021, 7, 1), date(2021, 8, 3)}
    assert set(read_identities(vault)["pseudonym"].to_pylist()) == {_pseudonym(PERSON), _pseudonym(LATE)}
