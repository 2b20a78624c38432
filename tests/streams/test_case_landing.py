"""When the on-case re-trace may read the lake: once the lander has committed past every triggering report."""

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from streams.case_landing import CaseReport, case_reports_landing, landing_of
from streams.status import PartitionLag
from tests.streams.conftest import Landing, case_report, phone

LAG = [PartitionLag("case_reports", 0, 12, 12), PartitionLag("case_reports", 1, None, 3),
       PartitionLag("checkins", 0, 90, 100)]


def test_a_report_is_landed_once_the_committed_offset_of_its_partition_is_past_it() -> None:
    landed = landing_of([CaseReport("confirmed", 0, 11)], LAG, None)
    assert landed.done, landed.describe()
    assert landed.committed == {"0": 12, "1": 0}, "case_reports only; no commit yet reads from offset 0"
    assert landed.as_dict() == {"reports": [{"kind": "confirmed", "partition": 0, "offset": 11}],
                                "committed": {"0": 12, "1": 0}}
    waiting = landing_of([CaseReport("confirmed", 0, 11), CaseReport("discarded", 0, 12),
                          CaseReport("confirmed", 1, 0)], LAG, None)
    assert not waiting.done
    assert waiting.describe() == ("waiting for the lander to land 3 triggering report(s): not landed yet: "
                                  "a discarded report at 0:12, a confirmed report at 1:0")


def test_a_manual_run_waits_for_nothing_but_unknown_offsets() -> None:
    assert landing_of([], LAG, None).describe().startswith("the lander has landed a manual run")
    unknown = landing_of([], None, "Kafka at x:9092 did not answer")
    assert not unknown.done
    assert "offsets are unknown: Kafka at x:9092 did not answer" in unknown.describe()


def test_a_run_waits_until_the_lander_has_committed_past_its_reports(landing: Landing) -> None:
    landing.write("case_reports", [case_report(n, person=phone(n)) for n in range(12)])
    landing.publish()
    landing.land()
    landed = case_reports_landing(landing.settings, [])
    assert landed.done and landed.committed, landed.describe()
    partition, committed = next((p, offset) for p, offset in landed.committed.items() if offset > 0)
    landed_report = CaseReport("confirmed", int(partition), committed - 1)
    future_report = CaseReport("discarded", int(partition), committed)
    assert case_reports_landing(landing.settings, [landed_report]).done
    waiting = case_reports_landing(landing.settings, [landed_report, future_report])
    assert not waiting.done
    assert f"a discarded report at {partition}:{committed}" in waiting.describe()
    assert "confirmed report" not in waiting.describe()


@dataclass
class _FirstPoke:
    """The sensor's task instance on its first poke, as `tracelake.airflow.tasks.waited_since` reads it."""

    start_date: datetime = field(default_factory=lambda: datetime.now(UTC))

    def get_first_reschedule_date(self, context: object) -> None:
        return None


@dataclass
class _TriggerEvent:
    extra: dict[str, Any]


def test_one_poke_waits_a_moment_for_the_lander_to_commit_a_report_the_trigger_saw(landing: Landing) -> None:
    """The trigger fires as soon as a report is in Kafka, a moment before the lander commits it: one poke waits
    for that commit (up to its grace) instead of giving its slot back for a whole poke interval."""
    from tracelake.airflow import tasks
    from tracelake.airflow.launcher import AirflowSettings

    reports = [case_report(n, person=phone(n)) for n in range(12)]
    landing.write("case_reports", reports)
    landing.publish()
    landing.land()
    committed = case_reports_landing(landing.settings, []).committed
    partition, offset = next((p, at) for p, at in committed.items() if at > 0)
    landing.write("case_reports", [case_report(100 + n, person=phone(n)) for n in range(12)])
    landing.publish()  # the same people, so the same partitions: `offset` is now a report not landed yet
    settings = AirflowSettings(**landing.settings.model_dump())
    payload = {"kind": "confirmed", "partition": int(partition), "offset": offset}
    context = {"ti": _FirstPoke(), "triggering_asset_events": {"case_decisions": [_TriggerEvent({"payload": payload})]}}
    day = date(2021, 8, 3)

    assert not tasks.wait_for_reports(settings, day, context, timedelta(minutes=30)).is_done
    lander = threading.Timer(2.0, landing.land)
    started = time.monotonic()
    lander.start()
    try:
        poke = tasks.wait_for_reports(settings, day, context, timedelta(minutes=30), grace=timedelta(seconds=60))
    finally:
        lander.join()
    assert poke.is_done, poke.xcom_value
    assert 2.0 <= time.monotonic() - started < 60
    assert poke.xcom_value["committed"][partition] > offset
