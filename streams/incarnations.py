"""Which incarnation of a topic the lander reads, so that a landed file's name never means two sets of records.

A Kafka offset names a record only within one life of its topic: the
embedded broker starts empty (offset 0) every time, and a topic deleted and
created again starts at 0 too. Kafka gives each cluster an id and each topic
creation a topic id (KIP-516, Kafka 2.8 and later, Tansu); the pair names one
life of a topic, and a short hash of it goes into every file name. Every
member of the group, and every restart of a lander against the same topic,
derives the same token, which is what lets a replay overwrite its own files.
"""

import hashlib
import uuid
from collections.abc import Collection

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from streams.kafka_config import admin_settings

TOKEN_LENGTH = 16
"""Hex digits of the hash: 64 bits, so two lives of a topic never share a token in practice."""


class IncarnationUnknownError(RuntimeError):
    """Kafka did not say which life of a topic it serves, so files could not be named safely."""


def incarnation_token(cluster_id: str, topic_id: str) -> str:
    """The short token of one life of a topic, the same for whoever asks."""
    return hashlib.sha256(f"{cluster_id}\n{topic_id}".encode()).hexdigest()[:TOKEN_LENGTH]


def _usable(topic_id: object) -> str | None:
    """A topic id as text; None when absent or all zeros (brokers before KIP-516 send one or the other)."""
    if topic_id is None:
        return None
    text = str(topic_id)
    try:
        if uuid.UUID(text).int == 0:
            return None
    except ValueError:
        pass
    return text or None


def topic_incarnations(bootstrap: str, topics: Collection[str], timeout_ms: int = 10_000) -> dict[str, str]:
    """The current incarnation token of each of `topics`, from the cluster id and the topic ids."""
    try:
        admin = KafkaAdminClient(**admin_settings(bootstrap, timeout_ms=timeout_ms))
    except (KafkaError, OSError) as problem:
        raise IncarnationUnknownError(f"Kafka at {bootstrap} did not answer ({problem})") from problem
    try:
        cluster_id = admin.describe_cluster().get("cluster_id")
        described = admin.describe_topics(list(topics))
    except (KafkaError, OSError) as problem:
        raise IncarnationUnknownError(f"Kafka at {bootstrap} did not describe {sorted(topics)}: {problem}") from problem
    finally:
        admin.close()
    ids = {entry["name"]: _usable(entry.get("topic_id")) for entry in described if not entry.get("error_code")}
    unknown = sorted(topic for topic in topics if not ids.get(topic))
    if not cluster_id or unknown:
        raise IncarnationUnknownError(
            f"Kafka at {bootstrap} gave no {'cluster id' if not cluster_id else 'topic id for ' + ', '.join(unknown)}: "
            "without it a topic created again could not be told from the old one (Kafka 2.8 or later reports both)"
        )
    return {topic: incarnation_token(str(cluster_id), str(ids[topic])) for topic in topics}
