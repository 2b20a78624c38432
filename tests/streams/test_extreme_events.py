"""A corpus of valid-shaped but extreme events through the real broker, mixed with ordinary ones.

Each one either lands or is quarantined with its reason (its payload in the
vault, never in the lake), the counts add up, the ordinary events all land,
and nothing raises. The future bound is the lander's clock: a producer's
record timestamp moves nothing.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaProducer

from tests.streams.conftest import Landing, case_report, checkin, lake_event_id, phone, sighting, venue

LANDED = "landed"
NOW = datetime.now(UTC)
NOW_MS = int(NOW.timestamp() * 1000)
DEEP = b'{"event_id": "x-deep", "person_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def _event(base: dict[str, Any], event_id: str, **changes: Any) -> bytes:
    return json.dumps({**base, "event_id": event_id, **changes}).encode()


def _corpus() -> dict[str, list[tuple[bytes, str]]]:
    """Per topic: (value as sent, `LANDED` or the quarantine reason)."""
    c, p, r, v = checkin(0), sighting(0), case_report(0, kind="confirmed"), venue(0)
    no_checkout = {**c, "checkout_at": None}
    return {
        "checkins": [
            (_event(no_checkout, "x-c1", checkin_at="0001-01-01T00:00:00+14:00"), "out_of_range"),
            (_event(no_checkout, "x-c2", checkin_at="9999-12-31T23:59:59-14:00"), "out_of_range"),
            (_event(no_checkout, "x-c3", checkin_at=10**20), "out_of_range"),
            (_event(no_checkout, "x-c4", checkin_at=-1), "out_of_range"),
            (_event(no_checkout, "x-c5", checkin_at=2**64), "out_of_range"),
            (_event(no_checkout, "x-c6", checkin_at="2019-12-31T23:59:59Z"), "out_of_range"),
            (_event(no_checkout, "x-c7", checkin_at=(NOW + timedelta(days=3)).isoformat()), "out_of_range"),
            (_event(c, "x-c8", checkout_at="0001-01-01T00:00:00+14:00"), "out_of_range"),
            (_event(c, "x-c9", person_id="842438123456"), LANDED),
            (_event(c, "x-c10", person_id="\uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18"), LANDED),
            (_event(c, "x-c11", person_id="097123456789"), "malformed id in person_id"),
            (_event(c, "x-c12", person_id=2**64), "person_id must be a string"),
            (_event(c, "x-c13", venue_id="V" * 200_000), LANDED),
            (_event(c, "e" * 200_000, source="sms"), "unknown value in source"),
            (DEEP, "not JSON"),
            (b'{"event_id": "x-c15", "person_id": "\\ud800"}', "not JSON"),
            (b'{"event_id": "x-c16", "person_id": "\xed\xa0\x80"}', "not JSON"),
            (_event(c, "x-c17").replace(b'"qr_venue"', b"NaN"), "not JSON"),
            (b'["x-c18"]', "not a JSON object"),
            (b"18446744073709551616", "not a JSON object"),
            (b'"x-c19"', "not a JSON object"),
            (_event(c, "x-c20")[:-1] + b', "event_id": 20}', "event_id must be a string"),
            (_event(c, "x-c21", checkin_at=True), "unparseable timestamp in checkin_at"),
            (_event(c, "x-c22", checkout_at={"at": 1}), "unparseable timestamp in checkout_at"),
            (_event(c, "x-c23", source=1), "source must be a string"),
            (_event(c, "x-c24", venue_id=["V-1"]), "venue_id must be a string"),
            (_event(c, "x-c25", person_id="(" * 200_000 + "x"), "malformed id in person_id"),
        ],
        "proximity": [
            (_event(p, "x-p1", rssi=2**70), "rssi out of range"),
            (_event(p, "x-p2", rssi=2**31), "rssi out of range"),
            (_event(p, "x-p3", tx_power=2**31), "out_of_range"),
            (_event(p, "x-p4", tx_power=128), "out_of_range"),
            (_event(p, "x-p5", tx_power=-127), LANDED),
            (_event(p, "x-p6").replace(b'"2021-08-03T10:00:00+07:00"', b"1e400"),
             "unparseable timestamp in observed_at"),
            (_event(p, "x-p7").replace(b"-70", b"NaN"), "not JSON"),
            (_event(p, "x-p8", observed_at=2**63), "out_of_range"),
            (_event(p, "x-p9", contact_id="\u0660\u0669\u0668\u0667\u0666\u0665\u0664\u0663\u0662\u0661"), LANDED),
        ],
        "case_reports": [
            (_event(r, "x-r1", sample_date="0001-01-01"), "out_of_range"),
            (_event(r, "x-r2", sample_date="9999-12-31"), "out_of_range"),
            (_event(r, "x-r3", onset_date="2021-06-05"), "out_of_range"),
            (_event(r, "x-r4", reported_at="0001-01-01T00:00:00+14:00"), "out_of_range"),
            (_event(r, "x-r5", isolated_at=10**20), "out_of_range"),
            (_event(r, "x-r6", sample_date="2021-06-06", onset_date="2021-08-06"), LANDED),
            (_event(r, "x-r7", sample_date=20210804), "malformed date in sample_date"),
        ],
        "venues": [
            (_event(v, "x-v1").replace(b"12.25", b"1e400"), "lat out of range"),
            (_event(v, "x-v2").replace(b"109.19", b"NaN"), "not JSON"),
            (_event(v, "x-v3", venue_id="V-x3", name="Ch\u1ee3 " + "x" * 200_000), LANDED),
            (_event(v, "x-v4", lat=True), "lat must be a number"),
        ],
    }


def _ordinary() -> dict[str, list[dict[str, Any]]]:
    return {
        "checkins": [checkin(n, person=phone(n % 30)) for n in range(120)],
        "proximity": [sighting(n, reporter=phone(n % 20), contact=phone(n % 20 + 1)) for n in range(150)],
        "case_reports": [case_report(n, person=phone(n)) for n in range(10)],
        "venues": [venue(n) for n in range(7)],
    }


def test_extreme_events_land_or_are_quarantined_with_their_reason(landing: Landing) -> None:
    corpus, ordinary = _corpus(), _ordinary()
    for topic in corpus:
        landing.write(topic, [*ordinary[topic], *(value for value, _ in corpus[topic])])
    sent = landing.publish()
    by_producer: dict[str, list[tuple[bytes | None, str, int | None]]] = {
        "checkins": [
            (b"", "not JSON", None),
            # judged against the lander's clock: a producer timestamp three days back does not make it "future"
            (_event({**checkin(0), "checkout_at": None}, "x-k1", checkin_at=(NOW + timedelta(hours=20)).isoformat()),
             LANDED, NOW_MS - 3 * 86_400_000),
            # nor does one five days ahead make a time three days ahead plausible
            (_event({**checkin(0), "checkout_at": None}, "x-k2", checkin_at=(NOW + timedelta(days=3)).isoformat()),
             "out_of_range", NOW_MS + 5 * 86_400_000),
        ],
        "venues": [(None, "empty message", None)],
    }
    producer = KafkaProducer(bootstrap_servers=landing.broker.bootstrap)
    for topic, records in by_producer.items():
        for value, _, timestamp_ms in records:
            producer.send(topic, key=b"k", value=value, timestamp_ms=timestamp_ms).get(timeout=10)
            sent[topic] += 1
    producer.close()

    counts = landing.land()

    for topic, cases in corpus.items():
        expected = cases + [(value, outcome) for value, outcome, _ in by_producer.get(topic, [])]
        raw, payloads = landing.raw(topic), landing.payloads(topic)
        assert counts.landed.get(topic, 0) == raw.num_rows, topic
        assert counts.quarantined.get(topic, 0) == len(payloads), topic
        assert raw.num_rows + len(payloads) == sent[topic], topic
        landed_ids = set(raw["event_id"].to_pylist())
        ordinary_ids = {lake_event_id(event["event_id"]) for event in ordinary[topic]}
        assert ordinary_ids <= landed_ids, topic
        extreme_landed = {
            lake_event_id(json.loads(value or b"")["event_id"]) for value, outcome in expected if outcome == LANDED
        }
        assert landed_ids == ordinary_ids | extreme_landed, topic
        refused = {value: outcome for value, outcome in expected if outcome != LANDED}
        assert {value: row["reason"] for value, row in payloads.items()} == refused, topic
        for row in payloads.values():
            assert row["event_id"] is None or len(row["event_id"]) == 32
    checkins = {row["event_id"]: row for row in landing.raw("checkins").to_pylist()}
    late = checkins[lake_event_id("x-k1")]
    assert late["kafka_timestamp"] < late["landed_at"] - timedelta(days=2)
