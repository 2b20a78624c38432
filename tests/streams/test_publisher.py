"""Publishing event files: bytes untouched, keys normalized so one person stays on one partition."""

from pathlib import Path

import pytest
from kafka import KafkaConsumer

from streams import publisher
from streams.broker import EmbeddedBroker
from streams.publisher import NoEventsError, event_lines, message_key, publish_events
from tests.streams.conftest import Landing, checkin, sighting, venue


def _consume(bootstrap: str, topic: str, expected: int) -> list[tuple[int, bytes | None, bytes]]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, group_id=None, consumer_timeout_ms=5000)
    messages = []
    for message in consumer:
        messages.append((message.partition, message.key, message.value))
        if len(messages) == expected:
            break
    consumer.close()
    return messages


def test_values_are_sent_as_written_and_empty_lines_skipped(landing: Landing) -> None:
    lines = landing.write("checkins", [checkin(1), b"  not json ", b"\xff\xfe", "", b"   ", checkin(2)])

    assert landing.publish() == {"checkins": 4}

    values = sorted(value for _, _, value in _consume(landing.broker.bootstrap, "checkins", 4))
    assert values == sorted(line for line in lines if line.strip())


def test_one_person_one_partition_however_written(landing: Landing) -> None:
    spellings = ["0912 345 678", "+84912345678", "84-912-345-678", "0912.345.678"]
    landing.write("proximity", [sighting(n, reporter=spelling) for n, spelling in enumerate(spellings * 5)])
    landing.write("venues", [venue(3)])
    landing.publish()

    messages = _consume(landing.broker.bootstrap, "proximity", 20)
    assert {key for _, key, _ in messages} == {b"+84912345678"}
    assert len({partition for partition, _, _ in messages}) == 1
    assert [key for _, key, _ in _consume(landing.broker.bootstrap, "venues", 1)] == [b"V-3"]


def test_keys_fall_back_to_the_raw_id_then_to_none() -> None:
    assert message_key("checkins", b'{"person_id": "not-a-phone"}') == b"not-a-phone"
    assert message_key("checkins", b'{"person_id": 912345678}') is None
    assert message_key("checkins", b"[1]") is None
    assert message_key("checkins", b"{broken") is None
    assert message_key("case_reports", b'{"person_id": "001099012345"}') == b"001099012345"


def test_only_the_topics_present_are_sent(landing: Landing) -> None:
    landing.write("venues", [venue(1), venue(2)])
    assert landing.publish() == {"venues": 2}


def test_nothing_to_send_is_a_clear_error(tmp_path: Path, kafka_broker: EmbeddedBroker) -> None:
    with pytest.raises(NoEventsError, match="not found"):
        publish_events(tmp_path / "missing", kafka_broker.bootstrap)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(NoEventsError, match=r"checkins\.jsonl"):
        publish_events(tmp_path, kafka_broker.bootstrap)


@pytest.mark.parametrize("block", [1, 3, 7, 64, 1 << 20])
def test_lines_are_the_same_whatever_the_read_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      block: int) -> None:
    path = tmp_path / "checkins.jsonl"
    path.write_bytes(b'{"a": 1}\r\n\n  \t\n{"b": "x y"}\r\r\n\xff\xfe\n \x0b \n{"c": 3}')
    monkeypatch.setattr(publisher, "READ_BLOCK", block)

    assert list(event_lines(path)) == [b'{"a": 1}', b'{"b": "x y"}', b"\xff\xfe", b'{"c": 3}']


def test_keys_are_remembered_per_spelling_and_relearned_after_the_memo_starts_over(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publisher, "PERSON_KEYS_CAP", 2)
    monkeypatch.setattr(publisher, "_person_keys", {})
    spellings = ["0912 345 678", "84-912-345-678", "0912.345.678", "0912 345 678"]
    keys = [message_key("proximity", b'{"reporter_id": "%s"}' % s.encode()) for s in spellings]

    assert keys == [b"+84912345678"] * 4
    assert len(publisher._person_keys) <= 2
    assert message_key("venues", b'{"venue_id": "0912 345 678"}') == b"0912 345 678"
