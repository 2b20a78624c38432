"""Rules other than the shipped ones: depth of the tiers, and a time zone with DST."""

from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

from jobs.trace.day import EngineName
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import rules_with, run_trace

CHAIN = ["0911000001", "0911000002", "0911000003", "0911000004", "0911000005"]
"""S (F0) → A → B → C → E, each meeting the next at a venue of their own on D."""


def test_max_depth_decides_how_far_tiers_go(builder: LakeBuilder, engine: EngineName) -> None:
    source = CHAIN[0]
    builder.confirmed(source, "2021-08-02 09:00", "2021-08-02")
    for hour, (left, right) in enumerate(pairwise(CHAIN), start=8):
        builder.checkin(left, f"chain-{hour}", f"2021-08-03 {hour:02d}:00", f"2021-08-03 {hour:02d}:30")
        builder.checkin(right, f"chain-{hour}", f"2021-08-03 {hour:02d}:00", f"2021-08-03 {hour:02d}:30")
    ids = [builder.person_id(phone) for phone in CHAIN]

    shallow = run_trace(builder, engine, rules=rules_with(**{"tiers.max_depth": 1}))
    assert shallow.tiers() == {ids[1]: "F1"}
    assert shallow.result.tier_counts == {"F0": 1, "F1": 1}

    deep = run_trace(builder, engine, rules=rules_with(**{"tiers.max_depth": 3}))
    assert deep.tiers() == {ids[1]: "F1", ids[2]: "F2", ids[3]: "F3"}
    assert deep.result.tier_counts == {"F0": 1, "F1": 1, "F2": 1, "F3": 1}
    third = deep.row(CHAIN[3])
    assert (third["source_ids"], third["case_ids"]) == ([ids[2]], [ids[0]])
    edges = {(row["source_tier"], row["target_tier"]) for row in deep.contacts.to_pylist()}
    assert edges == {("F0", "F1"), ("F1", "F2"), ("F2", "F3")}


def test_local_midnights_follow_dst(tmp_path: Path, engine: EngineName) -> None:
    """Europe/Berlin went from UTC+1 to UTC+2 on 2021-03-28: a fixed offset would put midnights an hour off."""
    berlin = LakeBuilder(tmp_path / "lake", tmp_path / "vault", zone="Europe/Berlin")
    source, venue_contact, ble_contact = "0911000011", "0911000012", "0911000013"
    berlin.confirmed(source, "2021-03-28 09:00", "2021-03-28")  # opens 2021-03-26 00:00 CET = 03-25 23:00Z
    berlin.checkin(source, "V", "2021-03-25 23:30", "2021-03-26 00:30")
    berlin.checkin(venue_contact, "V", "2021-03-25 23:30", "2021-03-26 00:30")
    for minute in range(40, 71, 5):  # 2021-03-28 23:40 → 03-29 00:10 CEST: 20 min on the 28th, 10 on the 29th
        hour, minute_of_hour = divmod(minute, 60)
        moment = f"2021-03-{28 + hour:02d} {(23 + hour) % 24:02d}:{minute_of_hour:02d}"
        berlin.sighting(source, ble_contact, moment)
    traced = run_trace(berlin, engine, day=date(2021, 3, 29), rules=rules_with(timezone="Europe/Berlin"))
    assert traced.exposures(venue_contact) == [
        ("venue", datetime(2021, 3, 25, 23, 0, tzinfo=UTC), datetime(2021, 3, 25, 23, 30, tzinfo=UTC))
    ]
    assert traced.exposures(ble_contact) == [
        ("ble", datetime(2021, 3, 28, 21, 40, tzinfo=UTC), datetime(2021, 3, 28, 22, 0, tzinfo=UTC))
    ]
