"""The four contract topics on a cluster: their keys, their configs, and creating them.

Only standard Kafka admin calls are used, so a real Apache Kafka cluster and
the embedded Tansu broker are set up the same way.
"""

import logging

from kafka import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

from schemas import TOPICS
from streams.kafka_config import admin_settings

log = logging.getLogger(__name__)

KEY_FIELDS: dict[str, str] = {
    "checkins": "person_id",
    "proximity": "reporter_id",
    "case_reports": "person_id",
    "venues": "venue_id",
}
"""The field whose value keys each topic's messages (CONTRACT.md section 1)."""

PERSON_KEYED: frozenset[str] = frozenset({"checkins", "proximity", "case_reports"})
"""Topics keyed by a person id: keys are normalized so one person maps to one partition."""

TOPIC_CONFIGS: dict[str, dict[str, str]] = {"venues": {"cleanup.policy": "compact"}}
"""`venues` keeps the latest registration per venue; readers still take the latest per key."""


class TopicSetupError(RuntimeError):
    """The cluster refused to create a contract topic."""


def ensure_topics(
    bootstrap: str, partitions: int, topics: tuple[str, ...] = TOPICS, timeout_ms: int = 10_000
) -> list[str]:
    """Create whichever contract topics are missing; returns the names created.

    Existing topics are left as they are (their partition count included):
    repartitioning would move people between partitions mid-stream.
    """
    admin = KafkaAdminClient(**admin_settings(bootstrap, timeout_ms))
    try:
        missing = [topic for topic in topics if topic not in set(admin.list_topics())]
        if not missing:
            return []
        request = {
            topic: {
                "num_partitions": partitions,
                "replication_factor": -1,
                "configs": TOPIC_CONFIGS.get(topic, {}),
            }
            for topic in missing
        }
        response = admin.create_topics(request, raise_errors=False)
        created: list[str] = []
        for result in response["topics"]:
            code = result["error_code"]
            if code == 0:
                created.append(result["name"])
            elif code != TopicAlreadyExistsError.errno:
                raise TopicSetupError(
                    f"could not create topic {result['name']!r} on {bootstrap}: "
                    f"{result.get('error_message') or code}"
                )
        if created:
            admin.wait_for_topics(created)
            log.info("created topics %s with %d partitions on %s", created, partitions, bootstrap)
        return created
    finally:
        admin.close()
