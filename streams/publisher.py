"""Send `events_dir/<topic>.jsonl` files to Kafka, one message per line, bytes untouched.

Malformed lines are sent as they are: judging them is the lander's job, and
the quarantine must see exactly what a producer sent. Keys follow the
contract, with person ids normalized first so one person always lands on one
partition however the id was written.
"""

import logging
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path

import orjson
from kafka import KafkaProducer, TopicPartition
from kafka.producer.future import RecordMetadata

from schemas import TOPICS
from streams.kafka_config import producer_settings
from streams.topics import KEY_FIELDS, PERSON_KEYED
from tracelake.core.identity import normalize_spelling

log = logging.getLogger(__name__)

PROGRESS_EVERY = 10_000


class NoEventsError(ValueError):
    """The events directory is missing or holds none of the topic files."""


class PublishError(RuntimeError):
    """Kafka did not acknowledge some messages (after the producer's own retries)."""


class _Failures:
    """Counts unacknowledged sends; the first error explains them all in the message."""

    def __init__(self) -> None:
        self.count = 0
        self.first: BaseException | None = None

    def record(self, error: BaseException) -> None:
        self.count += 1
        if self.first is None:
            self.first = error


class _Ends:
    """The offset after the last acknowledged message of each partition: where landing what was sent ends.

    Taken from the acknowledgements, not asked of Kafka afterwards: Tansu answers
    ListOffsets with the last batch's base offset + 1, short of the true end.
    """

    def __init__(self, into: MutableMapping[TopicPartition, int]) -> None:
        self.into = into

    def record(self, metadata: RecordMetadata) -> None:
        if metadata.offset + 1 > self.into.get(metadata.topic_partition, 0):
            self.into[metadata.topic_partition] = metadata.offset + 1


def event_files(events_dir: Path) -> dict[str, Path]:
    """The `<topic>.jsonl` files present in `events_dir`, in contract topic order."""
    if not events_dir.is_dir():
        raise NoEventsError(f"events directory not found: {events_dir}")
    files = {topic: events_dir / f"{topic}.jsonl" for topic in TOPICS}
    present = {topic: path for topic, path in files.items() if path.is_file()}
    if not present:
        expected = ", ".join(f"{topic}.jsonl" for topic in TOPICS)
        raise NoEventsError(f"no event files in {events_dir}: expected any of {expected}")
    return present


def message_key(topic: str, value: bytes) -> bytes | None:
    """The contract's key: the normalized person id when it parses, else the raw id, else none."""
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(event, dict):
        return None
    raw = event.get(KEY_FIELDS[topic])
    if not isinstance(raw, str) or not raw:
        return None
    if topic not in PERSON_KEYED:
        return raw.encode("utf-8")
    try:
        return _person_keys[raw]
    except KeyError:
        return _learn_person_key(raw)


PERSON_KEYS_CAP = 1 << 19
"""Spellings remembered before the memo starts over: some 100 MB at most."""
_person_keys: dict[str, bytes] = {}
"""spelling → key: a day names each person many times, mostly in the same few spellings (as the lander's
streams.people memo, it normalizes each spelling once and keeps the encoded key, not just the id)."""


def _learn_person_key(raw: str) -> bytes:
    """The key of a person's spelling met for the first time, remembered for the next events."""
    key = (normalize_spelling(raw) or raw).encode("utf-8")
    if len(_person_keys) >= PERSON_KEYS_CAP:
        _person_keys.clear()
    _person_keys[raw] = key
    return key


READ_BLOCK = 4 << 20
"""Bytes read and split at once: C-speed splitting, memory flat however large the file."""


def event_lines(path: Path) -> Iterator[bytes]:
    """Each non-empty line without its line ending; every other byte stays as written.

    The file is read in blocks and each block split in one call: iterating a
    file object line by line costs more than sending the line.
    """
    with path.open("rb") as stream:
        rest = b""
        while block := stream.read(READ_BLOCK):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield from _kept(lines)
        yield from _kept([rest])


def _kept(lines: list[bytes]) -> list[bytes]:
    """The lines (split at `\\n`) that are not blank, without the `\\r`s that ended them."""
    return [value for line in lines if (value := line.rstrip(b"\r")) and not value.isspace()]


def publish_events(
    events_dir: Path | str,
    bootstrap: str,
    progress: Callable[[str, int], None] | None = None,
    ends: MutableMapping[TopicPartition, int] | None = None,
) -> dict[str, int]:
    """Publish every topic file in `events_dir`; returns the messages sent per topic.

    `progress(topic, sent_so_far)` is called every few thousand messages and
    once per topic at the end. `ends`, if given, receives each partition's
    offset after the last message sent to it: a lander running meanwhile has
    landed everything published once its group committed those. Raises
    NoEventsError before connecting when there is nothing to send, and
    PublishError if any message was not acknowledged.
    """
    files = event_files(Path(events_dir))
    producer = KafkaProducer(**producer_settings(bootstrap))
    counts: dict[str, int] = {}
    failures = _Failures()
    acknowledged = _Ends(ends) if ends is not None else None
    send, lost = producer.send, failures.record
    landed = acknowledged.record if acknowledged is not None else None
    try:
        for topic, path in files.items():
            sent = 0
            for value in event_lines(path):
                sending = send(topic, value=value, key=message_key(topic, value)).add_errback(lost)
                if landed is not None:
                    sending.add_callback(landed)
                sent += 1
                if progress is not None and sent % PROGRESS_EVERY == 0:
                    progress(topic, sent)
            counts[topic] = sent
            log.info("publishing %d %s events from %s", sent, topic, path)
        producer.flush()
        if failures.count:
            raise PublishError(f"{failures.count} messages were not acknowledged by {bootstrap}: {failures.first}")
        for topic, sent in counts.items():
            if progress is not None:
                progress(topic, sent)
    finally:
        producer.close()
    return counts
