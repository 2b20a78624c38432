"""Which copy of a resent event counts: the first landed, by (landed_at NULLS FIRST, kafka_partition, kafka_offset).

Offsets alone are not comparable across incarnations of a topic (a restarted
embedded broker starts again at offset 0), and files landed before the lander
recorded `landed_at` have no such column at all: both engines read a mix.
"""

from jobs.trace.day import EngineName
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import run_trace

SOURCE, EXPOSED, OTHER = "0915000001", "0915000002", "0915000003"


def _source_at_venue(builder: LakeBuilder, landed_at: str | None = None) -> None:
    builder.confirmed(SOURCE, "2021-08-02 09:00", "2021-08-01")
    builder.checkin(SOURCE, "V", "2021-08-01 10:00", "2021-08-01 11:00", landed_at=landed_at)


def test_files_without_landed_at_and_files_with_it_are_read_together(
    builder: LakeBuilder, engine: EngineName
) -> None:
    _source_at_venue(builder)
    builder.checkin(EXPOSED, "V", "2021-08-01 10:10", "2021-08-01 11:10", event_id="resent")
    builder.write(old_style=True)
    builder.new_incarnation("restarted")
    builder.checkin(EXPOSED, "W", "2021-08-01 10:10", "2021-08-01 11:10", event_id="resent",
                    landed_at="2021-08-01 11:15")
    builder.checkin(OTHER, "V", "2021-08-01 10:20", "2021-08-01 11:20", landed_at="2021-08-01 11:20")
    traced = run_trace(builder, engine)
    assert traced.tiers() == {builder.person_id(EXPOSED): "F1", builder.person_id(OTHER): "F1"}
    counts = traced.result.input_counts["checkins"]
    assert (counts.files, counts.rows_read, counts.duplicates_dropped, counts.rows_kept) == (2, 4, 1, 3)


def test_a_lake_of_files_without_landed_at_alone_is_read(builder: LakeBuilder, engine: EngineName) -> None:
    _source_at_venue(builder)
    builder.checkin(EXPOSED, "V", "2021-08-01 10:10", "2021-08-01 11:10", event_id="resent")
    builder.checkin(EXPOSED, "W", "2021-08-01 10:10", "2021-08-01 11:10", event_id="resent", partition=1)
    builder.write(old_style=True)
    traced = run_trace(builder, engine)
    assert traced.tiers() == {builder.person_id(EXPOSED): "F1"}
    assert traced.result.input_counts["checkins"].duplicates_dropped == 1


def test_across_two_incarnations_the_copy_landed_first_counts_not_the_lower_offset(
    builder: LakeBuilder, engine: EngineName
) -> None:
    """The first broker landed the stay at V at offset 2; the restarted one landed it again, at W, at offset 0."""
    _source_at_venue(builder, landed_at="2021-08-01 11:05")
    builder.checkin(EXPOSED, "V", "2021-08-01 10:10", "2021-08-01 11:10", event_id="resent",
                    landed_at="2021-08-01 11:10")
    builder.write()
    builder.new_incarnation("restarted")
    builder.checkin(EXPOSED, "W", "2021-08-01 10:10", "2021-08-01 11:10", event_id="resent",
                    landed_at="2021-08-02 08:00")
    builder.write()
    traced = run_trace(builder, engine, write=False)
    assert traced.tiers() == {builder.person_id(EXPOSED): "F1"}
    assert traced.exposures(EXPOSED)[0][0] == "venue"
    assert traced.result.input_counts["checkins"].duplicates_dropped == 1


def test_of_two_reports_tied_on_reported_at_the_one_landed_later_decides(
    builder: LakeBuilder, engine: EngineName
) -> None:
    """Same person, same reported_at, both confirmed: the later landing's sample date opens the window."""
    builder.case(OTHER, "confirmed", "2021-08-02 09:00", sample_date="2021-07-20")
    builder.case(SOURCE, "confirmed", "2021-08-02 09:00", sample_date="2021-07-20", landed_at="2021-08-02 09:01")
    builder.write()
    builder.new_incarnation("restarted")
    builder.case(SOURCE, "confirmed", "2021-08-02 09:00", sample_date="2021-08-01", landed_at="2021-08-02 10:00")
    builder.case(OTHER, "confirmed", "2021-08-02 09:00", sample_date="2021-08-01", landed_at="2021-08-02 10:00")
    traced = run_trace(builder, engine)
    expected = builder.at("2021-07-30 00:00")
    assert traced.case(SOURCE)["window_start"] == expected
    assert traced.case(OTHER)["window_start"] == expected  # landed, so after the copy the old lander left
