"""Whether the lander has landed given case reports: the on-case re-trace waits for that before reading the lake.

A case report sits at a Kafka partition and offset; it is landed once the
landing group's committed offset on that partition (the next one the lander
will read) is past it. Only positions are handled here, never who a report
is about.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from kafka.errors import KafkaError

from schemas import CASE_REPORTS_TOPIC
from streams.status import group_commits
from tracelake.core.settings import Settings


@dataclass(frozen=True)
class CaseReport:
    """Where a triggering report sits in Kafka (the trigger's payload)."""

    kind: str
    partition: int
    offset: int


@dataclass
class CaseLanding:
    """Whether the lander has committed past every triggering report, and its committed offsets now."""

    reports: list[dict[str, Any]]
    committed: dict[str, int]
    """case_reports partition → the lander's committed offset (the next one it will read)."""
    reasons: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not self.reasons

    def describe(self) -> str:
        what = f"{len(self.reports)} triggering report(s)" if self.reports else "a manual run"
        if self.done:
            return f"the lander has landed {what}; case_reports committed offsets {self.committed}"
        return f"waiting for the lander to land {what}: {'; '.join(self.reasons)}"

    def as_dict(self) -> dict[str, Any]:
        return {"reports": self.reports, "committed": self.committed}


class Commit(Protocol):
    """A landing group's committed offset on one partition (`streams.status`)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def committed(self) -> int | None: ...


def case_reports_landing(settings: Settings, reports: Sequence[CaseReport]) -> CaseLanding:
    """Whether the lander has landed `reports` (see `landing_of`), from the landing group's offsets now.

    Only the group's commits on `case_reports` are asked for: the sensor pokes while a new F0's contacts wait,
    and the lake's contents or the other topics' end offsets would cost seconds it does not need.
    """
    if not settings.bootstrap_servers:
        return landing_of(reports, None, "no Kafka cluster configured (TRACELAKE_BOOTSTRAP_SERVERS)")
    try:
        commits = group_commits(settings.bootstrap_servers, settings.consumer_group, [CASE_REPORTS_TOPIC])
    except (KafkaError, OSError) as problem:
        return landing_of(reports, None, f"Kafka at {settings.bootstrap_servers} did not answer: {problem}")
    return landing_of(reports, commits, None)


def landing_of(reports: Sequence[CaseReport], lag: Sequence[Commit] | None, lag_error: str | None) -> CaseLanding:
    """Landed once the committed offset of each report's partition is past it; unknown offsets are a reason
    to wait, since a re-trace that starts before its reports are landed would miss them."""
    landing = CaseLanding([asdict(report) for report in reports], {})
    if lag is None:
        landing.reasons.append(f"the landing group's offsets are unknown: {lag_error}")
        return landing
    landing.committed = {
        str(partition.partition): partition.committed or 0
        for partition in lag
        if partition.topic == CASE_REPORTS_TOPIC
    }
    pending = [report for report in reports if landing.committed.get(str(report.partition), 0) <= report.offset]
    if pending:
        where = ", ".join(f"a {report.kind} report at {report.partition}:{report.offset}" for report in pending)
        landing.reasons.append(f"not landed yet: {where}")
    return landing
