"""The Kafka client settings every streams module shares, in one place.

The lander, the benchmark's bare consumer and the status probe must talk to
the cluster the same way, or comparisons and lag figures would lie.
"""

from typing import Any

SESSION_TIMEOUT_MS = 6000
"""Short enough that a dead member's partitions move quickly, and the lowest a
stock Kafka broker accepts (group.min.session.timeout.ms); kafka-python 3.0.12
hands partitions over reliably on Tansu only with this and a 1 s heartbeat."""
HEARTBEAT_INTERVAL_MS = 1000
MAX_POLL_RECORDS = 5000
"""Large polls keep per-call overhead low; measured ~25 % faster than 500."""


def consumer_settings(bootstrap: str, group: str | None) -> dict[str, Any]:
    """KafkaConsumer keyword arguments for a lake consumer: manual commits, earliest, CRCs on."""
    return {
        "bootstrap_servers": bootstrap,
        "group_id": group,
        "client_id": "tracelake-lander",
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
        "max_poll_records": MAX_POLL_RECORDS,
        "check_crcs": True,
    }


LINGER_MS = 50
BATCH_SIZE = 1024 * 1024
COMPRESSION = "lz4"
"""Measured with a bare kafka-python loop on the embedded broker (issue #16): the client's own CPU per
message hardly moves with linger (5-100 ms), batch size (64 KiB-1 MiB), in-flight requests (1 or 5) or
lz4, and gzip costs a third more. lz4 with batches as large as a 50 ms linger fills keeps the broker's
copy of a day less than half as large (an in-memory Tansu holds every message) at no cost in speed."""


def producer_settings(bootstrap: str) -> dict[str, Any]:
    """KafkaProducer keyword arguments: idempotent, acks from every in-sync replica, batched, compressed."""
    return {
        "bootstrap_servers": bootstrap,
        "client_id": "tracelake-publisher",
        "enable_idempotence": True,
        "acks": "all",
        "linger_ms": LINGER_MS,
        "batch_size": BATCH_SIZE,
        "compression_type": COMPRESSION,
    }


def admin_settings(bootstrap: str, timeout_ms: int = 10_000) -> dict[str, Any]:
    """KafkaAdminClient keyword arguments, with a bounded bootstrap so a dead cluster fails fast."""
    return {
        "bootstrap_servers": bootstrap,
        "client_id": "tracelake-admin",
        "bootstrap_timeout_ms": timeout_ms,
        "request_timeout_ms": timeout_ms,
    }
