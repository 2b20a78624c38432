"""Which incarnation of a topic the lander reads, so that a landed file's name never means two sets of records.

A Kafka offset names a record only within one life of its topic: the
embedded broker starts empty (offset 0) every time, and a topic deleted and
created again starts at 0 too. Kafka gives each cluster an id and each topic
creation a topic id (KIP-516, Kafka 2.8 and later, Tansu); the pair names one
life of a topic, and a short hash of it goes into every file name. Every
member of the group, and every restart of a lander against the same topic,
derives the same token, which is what lets a replay overwrite its own files.

A consumer does not notice by itself that a topic was created again under
it: it goes on fetching at its old position in the new topic, skipping the
new records before it. So the lander asks before every segment it writes.
"""

import hashlib
import uuid
from collections.abc import Collection

from kafka import KafkaAdminClient

from streams.kafka_config import admin_settings

TOKEN_LENGTH = 16
"""Hex digits of the hash: 64 bits, so two lives of a topic never share a token in practice."""


class IncarnationUnknownError(RuntimeError):
    """Kafka does not say which life of a topic it serves, so files could not be named safely."""


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


class Incarnations:
    """Asks one cluster for the current life of topics, over one admin connection kept open between questions.

    Kafka errors and OSError propagate (the caller may ask again; the next
    question reconnects); a cluster that reports no ids raises IncarnationUnknownError.
    """

    def __init__(self, bootstrap: str, timeout_ms: int = 10_000) -> None:
        self._bootstrap = bootstrap
        self._timeout_ms = timeout_ms
        self._admin: KafkaAdminClient | None = None
        self._cluster_id: str | None = None
        self._topic_ids: dict[str, str] = {}

    def current(self, topics: Collection[str]) -> dict[str, str]:
        """The token of each topic's current life: one DescribeTopics, and DescribeCluster when a topic id is new."""
        try:
            admin = self._admin = self._admin or KafkaAdminClient(
                **admin_settings(self._bootstrap, timeout_ms=self._timeout_ms)
            )
            described = admin.describe_topics(list(topics))
            ids = {entry["name"]: _usable(entry.get("topic_id")) for entry in described if not entry.get("error_code")}
            unknown = sorted(topic for topic in topics if not ids.get(topic))
            if unknown:
                raise IncarnationUnknownError(
                    f"Kafka at {self._bootstrap} gave no topic id for {', '.join(unknown)}: without one a topic "
                    "created again could not be told from the old one (Kafka 2.8 or later reports them)"
                )
            if self._cluster_id is None or any(self._topic_ids.get(topic) != ids[topic] for topic in topics):
                self._cluster_id = _usable(admin.describe_cluster().get("cluster_id"))
                if self._cluster_id is None:
                    raise IncarnationUnknownError(f"Kafka at {self._bootstrap} gave no cluster id")
        except BaseException:
            self.close()
            raise
        self._topic_ids.update({topic: str(ids[topic]) for topic in topics})
        return {topic: incarnation_token(self._cluster_id, self._topic_ids[topic]) for topic in topics}

    def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            admin.close()
