"""The lander's chunk judge against the reference validator: same verdicts, same reasons, same records.

`judge_chunk` accepts plain events on a fast path (msgspec structs,
vectorized checks, memo tables); these tests feed it chunks mixing plain
events, every kind of near miss and arbitrary bytes, and compare each value's
verdict with `tracelake.core.events.judge` on its own.
"""

import json
import random
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.instants import instants
from streams.people import People
from streams.verdicts import judge_chunk
from tests.core.test_events import BASE, DEEP, JSON_VALUES, NOW_US
from tracelake.core.days import epoch_micros
from tracelake.core.events import CONTRACT_PLAUSIBILITY, PERSON_FIELDS, Accepted, Plausibility, judge
from tracelake.core.identity import Pseudonymizer

KEY = b"verdicts-test-key-0123456789"
PSEUDONYMS = Pseudonymizer(KEY)
DAY_US = 86_400_000_000

SPELLINGS = ["0912 345 678", "+84912345678", "84-987-654-321", "0987.654.321", "001099012345", " 0901234567 ",
             "12345", "+1 202 555 0100", "", "0912 345 678 ext 9", "0３12345678", "+84 (0) 912 345 678",
             "842438123456", "097123456789", "０７９２０３００４５６７", "٠٩٨٧٦٥٤٣٢١"]
TIMES: list[Any] = ["2021-08-03T08:15:00+07:00", "2021-08-03T01:15:00Z", "2021-08-03T08:15:00.123+07:00",
                    "2021-08-03T08:15:00.123456-01:30", "2021-08-03T08:15:00", "2021-02-29T08:15:00+07:00",
                    "2021-08-03 08:15:00+07:00", "2021-08-03T24:00:00+07:00", "2021-08-03T08:15:60+07:00",
                    "2021-08-03T08:15:00+24:00", "0001-01-01T00:00:00+01:00", "yesterday", 1627953300000,
                    1627953300000.0, (NOW_US // 1000) + 86_400_000, "2999-12-31T23:59:59+07:00",
                    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2019-12-31T23:59:59.999999Z",
                    "2020-01-01T00:00:00Z", 1577836799999, -1, 10**18, 2**70, None]
VALUES: dict[str, list[Any]] = {
    "event_id": ["e1", "", 7, None, "e\u00e9"],
    "person_id": SPELLINGS,
    "reporter_id": SPELLINGS,
    "contact_id": SPELLINGS,
    "venue_id": ["V-001", "", 12, "Chợ Đầm"],
    "checkin_at": TIMES,
    "checkout_at": TIMES,
    "observed_at": TIMES,
    "source": ["qr_venue", "manual", "sms", None, 1],
    "rssi": [-70, -127, 20, 21, -128, -70.0, -70.5, True, "-70", 2**70, None],
    "tx_power": [-12, None, 2**31, -(2**31), 1.5, "x", 127, -127, 128, -128, 2**70],
    "reporter_os": ["android", "ios", "windows", None, "IOS"],
    "contact_os": ["android", "ios", "", 3],
}
FAST_TOPICS = ("checkins", "proximity")


def _mutated(topic: str, rng: random.Random) -> bytes:
    event = dict(BASE[topic])
    names = sorted(set(event) & set(VALUES))
    for name in rng.sample(names, min(len(names), rng.randint(0, 3))):
        if rng.random() < 0.15:
            event.pop(name)
        else:
            event[name] = rng.choice(VALUES[name])
    if rng.random() < 0.2:
        event["app_version"] = "4.3.1"
    text = json.dumps(event, ensure_ascii=rng.random() < 0.5)
    if rng.random() < 0.05:
        text = text[:-1] + ', "event_id": "dup"}'
    if rng.random() < 0.03:
        text = text.replace(": ", ": NaN, \"x\": ", 1)
    return text.encode()


def _records(verdicts: Any) -> list[dict[str, Any]]:
    """The accepted rows with instants as epoch microseconds and dates as epoch days, like `judge`'s records."""
    table = verdicts.records
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.int64()))
        elif pa.types.is_date32(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.int32()))
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _expected(topic: str, record: dict[str, Any]) -> dict[str, Any]:
    """The reference record with its people's pseudonyms, as the chunk judge returns it."""
    row = dict(record)
    for person_field in PERSON_FIELDS[topic]:
        row[person_field.removesuffix("_id") + "_pseudonym"] = PSEUDONYMS.pseudonym(row[person_field])
    return row


def _compare(
    topic: str, values: list[bytes | None], landed: int, plausible: Plausibility = CONTRACT_PLAUSIBILITY
) -> tuple[int, int]:
    """Check every value's verdict against the reference; (accepted by the chunk judge, by the reference)."""
    verdicts = judge_chunk(topic, values, landed, People(PSEUDONYMS.pseudonym), plausible)
    rows = dict(zip(verdicts.accepted, _records(verdicts), strict=True))
    refused = dict(verdicts.rejected)
    assert set(rows) | set(refused) == set(range(len(values))) and not set(rows) & set(refused)
    reference_accepted = 0
    for index, value in enumerate(values):
        reference = judge(topic, value, landed, plausible)
        if isinstance(reference, Accepted):
            reference_accepted += 1
            assert rows.get(index) == _expected(topic, reference.record), value
        else:
            assert refused.get(index) == reference, value
    return len(rows), reference_accepted


def test_generated_chunks_get_the_reference_verdict_for_every_value() -> None:
    rng = random.Random(20210803)
    for topic in (*FAST_TOPICS, "case_reports", "venues"):
        for _ in range(6):
            values: list[bytes | None] = [_mutated(topic, rng) for _ in range(400)]
            values += [None, b"", b"   ", b"not json", b"[1]", b'{"a":1}{"b":2}', b"\xff\xfe", b'"\\ud800"', DEEP]
            rng.shuffle(values)
            landed = NOW_US + rng.choice((0, -DAY_US * 400))
            accepted, expected = _compare(topic, values, landed)
            assert accepted == expected and 0 < accepted < len(values)


def test_the_bounds_of_the_lander_hold_on_the_fast_path() -> None:
    later = Plausibility(epoch_micros(datetime(2021, 8, 3, 1, 15, tzinfo=UTC)), ZoneInfo("Asia/Ho_Chi_Minh"))
    landed = epoch_micros(datetime(2021, 8, 2, 1, 15, tzinfo=UTC))  # the last instant is exactly a day later
    times = ["2021-08-03T08:15:00+07:00", "2021-08-03T08:14:59.999999+07:00", "2021-08-03T08:15:00.000001+07:00",
             1627953300000, 1627953299999, 1627953300001]
    for topic, field in (("proximity", "observed_at"), ("checkins", "checkin_at")):
        values: list[bytes | None] = [
            json.dumps({**BASE[topic], field: time, "checkout_at": None}).encode() for time in times
        ]
        assert _compare(topic, values, landed, later) == (2, 2)


def test_a_chunk_of_plain_events_takes_the_fast_path_whole() -> None:
    plain = {**BASE["proximity"], "observed_at": "2021-08-03T08:15:00+07:00"}
    values = [json.dumps({**plain, "event_id": f"p{index}"}).encode() for index in range(49)]
    values.append(json.dumps(BASE["proximity"]).encode())  # integer epoch milliseconds
    verdicts = judge_chunk("proximity", values, NOW_US, People(PSEUDONYMS.pseudonym))
    assert verdicts.accepted == list(range(50)) and not verdicts.rejected
    assert verdicts.records.column("reporter_pseudonym").to_pylist() == [PSEUDONYMS.pseudonym("+84912345678")] * 50


def test_a_number_beyond_64_bits_sends_the_chunk_to_the_reference() -> None:
    big = json.dumps({**BASE["proximity"], "tx_power": 2**70}).encode()
    plain = json.dumps(BASE["proximity"]).encode()
    assert _compare("proximity", [plain, big, plain], NOW_US) == (2, 2)


def test_json_nested_thousands_deep_goes_to_the_reference_not_up_the_stack() -> None:
    plain = json.dumps(BASE["checkins"]).encode()
    assert _compare("checkins", [plain, DEEP, plain], NOW_US) == (2, 2)


@settings(max_examples=200, deadline=None)
@given(topic=st.sampled_from(FAST_TOPICS), changes=st.lists(st.dictionaries(
    st.sampled_from(sorted(VALUES)), JSON_VALUES | st.sampled_from(SPELLINGS + TIMES[:-1]), max_size=3),
    min_size=1, max_size=8))
def test_hypothesis_mutations_get_the_reference_verdict(topic: str, changes: list[dict[str, Any]]) -> None:
    values: list[bytes | None] = [json.dumps({**BASE[topic], **change}).encode() for change in changes]
    accepted, expected = _compare(topic, values, NOW_US)
    assert accepted == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=120), min_size=1, max_size=6))
def test_arbitrary_bytes_get_the_reference_verdict(values: list[bytes]) -> None:
    for topic in FAST_TOPICS:
        accepted, expected = _compare(topic, list(values), NOW_US)
        assert accepted == expected


def test_instants_match_fromisoformat_and_refuse_what_it_refuses() -> None:
    texts: list[str | None] = [*(text for text in TIMES if isinstance(text, str)), None, "", "2021-08-03T08:15+07:00"]
    for text, micros in zip(texts, instants(texts).to_pylist(), strict=True):
        if text is None:
            assert micros is None
            continue
        try:
            parsed = datetime.fromisoformat(text)
            expected = epoch_micros(parsed) if parsed.utcoffset() is not None else None
        except (ValueError, OverflowError):
            expected = None
        assert micros == expected, text


def _reference_instant(time: str | int | None) -> int | None:
    """The validator's own reading of one time (with bounds no int64 instant breaks), None where it refuses it."""
    from tracelake.core import events

    if time is None:
        return None
    try:
        return events._instant(time, "t", events._Bounds(-(2**63), 2**63 - 1, ZoneInfo("UTC")))
    except events._Malformed:
        return None


def test_instants_stay_exact_when_the_memo_starts_over(monkeypatch: Any) -> None:
    import streams.instants

    monkeypatch.setattr(streams.instants, "MEMO_CAP", 5)
    monkeypatch.setattr(streams.instants, "_micros", {None: None})
    rng = random.Random(3)
    pool: list[str | int | None] = [*TIMES[:12], 1627953300000, -5, 10**15, 2**70, -(2**62), None,
                                    "2021-08-03T09:00:00+07:00", "9999-12-31T23:59:59-14:00"]
    pool = [time for time in pool if not isinstance(time, float)]
    for _ in range(40):
        times = [rng.choice(pool) for _ in range(rng.randrange(1, 12))]
        assert instants(times).to_pylist() == [_reference_instant(time) for time in times]
        assert len(streams.instants._micros) <= 1 + 12  # the cap, or one chunk beyond it at most


def test_people_learn_newcomers_and_stay_exact_when_the_memo_starts_over(monkeypatch: Any) -> None:
    from tracelake.core.identity import normalize_person_id

    monkeypatch.setattr(People, "CAP", 4)
    people = People(PSEUDONYMS.pseudonym)
    rng = random.Random(5)
    for _ in range(60):
        spellings = [rng.choice(SPELLINGS) for _ in range(rng.randrange(1, 9))]
        ids, pseudonyms = people.lookup(spellings)
        expected = [normalize_person_id(spelling) for spelling in spellings]
        assert ids.to_pylist() == expected
        hashed = [None if person is None else PSEUDONYMS.pseudonym(person) for person in expected]
        assert pseudonyms.to_pylist() == hashed
