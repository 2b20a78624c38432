"""When the on-case re-trace may read the lake: once the lander has committed past every triggering report."""

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
