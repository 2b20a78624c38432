"""Whatever the lake holds, both engines trace: rows they cannot use are counted per reason, never raised.

The rows below are written to raw Parquet by hand, as a lander from before
the plausibility bounds (or another writer) could have left them: times at the
ends of the int64 microsecond range, dates of year 1 and 9999, nulls in
required columns, unknown values.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobs.trace.day import EngineName, trace_day
from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import DAY, Traced, run_trace
from tracelake.core.rules import load_rules

SOURCE, EXPOSED, LATE, EARLY = "0914000001", "0914000002", "0914000003", "0914000004"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
YEAR_1, YEAR_9999 = (datetime(1, 1, 1).date() - datetime(1970, 1, 1).date()).days, 2_932_896
JUST_BEFORE_2020 = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000 - 1


def _outbreak(builder: LakeBuilder) -> None:
    """SOURCE confirmed; EXPOSED met them at a venue; LATE and EARLY are confirmed with case dates at the bounds."""
    builder.confirmed(SOURCE, "2021-08-02 09:00", "2021-08-01")
    builder.checkin(SOURCE, "V", "2021-08-01 10:00", "2021-08-01 11:00")
    builder.checkin(EXPOSED, "V", "2021-08-01 10:10", "2021-08-01 11:10")
    builder.confirmed(LATE, "2021-08-03 06:00", "2021-08-04")  # local day 08-03 (UTC 08-02): 08-04 is day + 1
    builder.confirmed(EARLY, "2021-08-03 09:00", "2021-06-04")  # exactly 60 days before
    builder.write()


def _poison(builder: LakeBuilder) -> dict[str, dict[str, int]]:
    """Unusable rows of every kind, on the people of the outbreak; returns what the manifest must count."""
    source, exposed = builder.pseudonym(SOURCE), builder.pseudonym(EXPOSED)
    at = builder.at("2021-08-01 10:00")
    stay = {"event_id": "stay", "person_pseudonym": exposed, "venue_id": "V", "checkin_at": at, "source": "qr_venue"}
    builder.write_raw_rows("checkins", [
        {**stay, "event_id": None},
        {**stay, "person_pseudonym": None},
        {**stay, "source": "teleport"},
        {**stay, "checkin_at": INT64_MIN},
        {**stay, "checkin_at": INT64_MAX},
        {**stay, "checkin_at": INT64_MAX - 1, "checkout_at": INT64_MAX},
        {**stay, "checkin_at": JUST_BEFORE_2020},
        {**stay, "checkout_at": INT64_MAX},
        {**stay, "person_pseudonym": source, "checkout_at": INT64_MAX},
        {**stay, "checkout_at": builder.at("2021-08-01 09:59")},
    ], "2021-08-01")
    builder.write_raw_rows("checkins", [{**stay, "checkin_at": YEAR_1 * 86_400_000_000}], "0001-01-01")
    sighting = {
        "event_id": "sighting", "reporter_pseudonym": source, "contact_pseudonym": exposed, "rssi": -50,
        "reporter_os": "android", "contact_os": "ios", "observed_at": at,
    }
    builder.write_raw_rows("proximity", [
        {**sighting, "rssi": None},
        {**sighting, "reporter_os": "windows"},
        {**sighting, "contact_os": "ANDROID"},
        {**sighting, "rssi": 21},
        {**sighting, "rssi": -(2**31)},
        {**sighting, "observed_at": INT64_MAX},
        {**sighting, "observed_at": INT64_MIN},
        {**sighting, "contact_pseudonym": source},
    ], "2021-08-01")
    confirmed = {
        "event_id": "report", "person_pseudonym": exposed, "kind": "confirmed",
        "reported_at": builder.at("2021-08-02 12:00"), "sample_date": builder.at("2021-08-01 12:00").date(),
    }
    builder.write_raw_rows("case_reports", [
        {**confirmed, "sample_date": YEAR_1},
        {**confirmed, "sample_date": YEAR_9999},
        {**confirmed, "onset_date": YEAR_1},
        {**confirmed, "sample_date": -(2**31)},
        {**confirmed, "sample_date": datetime(2021, 6, 2).date()},  # 61 days before
        {**confirmed, "sample_date": datetime(2021, 8, 4).date()},  # local day + 2
        {**confirmed, "sample_date": None},
        {**confirmed, "kind": "recovered"},
        {**confirmed, "reported_at": INT64_MIN},
        {**confirmed, "reported_at": None},
        {**confirmed, "kind": "isolated", "sample_date": None},
        {**confirmed, "person_pseudonym": source, "kind": "isolated", "sample_date": None, "isolated_at": INT64_MAX},
        {**confirmed, "kind": "discarded", "isolated_at": INT64_MIN},
    ], "2021-08-02")
    return {
        "checkins": {
            "missing field event_id": 1,
            "missing field person_pseudonym": 1,
            "unknown value in source": 1,
            "checkin_at out of range": 5,
            "checkout_at out of range": 2,
            "checkout before checkin": 1,
        },
        "proximity": {
            "missing field rssi": 1,
            "unknown value in reporter_os": 1,
            "unknown value in contact_os": 1,
            "rssi out of range": 2,
            "observed_at out of range": 2,
            "contact is the reporter": 1,
        },
        "case_reports": {
            "sample_date out of range": 5,
            "onset_date out of range": 1,
            "missing field sample_date": 1,
            "unknown value in kind": 1,
            "reported_at out of range": 1,
            "missing field reported_at": 1,
            "missing field isolated_at": 1,
            "isolated_at out of range": 2,
        },
    }


def _outputs(traced: Traced) -> tuple[Any, ...]:
    return (
        traced.export.drop_columns(["exposure_minutes"]).to_pylist(),
        traced.contacts.drop_columns(["exposure_minutes"]).to_pylist(),
        traced.cases.to_pylist(),
        traced.result.tier_counts,
        traced.result.input_counts,
    )


def test_both_engines_trace_past_every_unusable_row_and_count_it(builder: LakeBuilder, spark: object) -> None:
    _outbreak(builder)
    expected = _poison(builder)
    spark_run = run_trace(builder, "spark", write=False)
    duckdb_run = run_trace(builder, "duckdb", write=False)
    assert _outputs(spark_run) == _outputs(duckdb_run)
    assert duckdb_run.tiers() == {builder.person_id(EXPOSED): "F1"}
    assert duckdb_run.result.tier_counts == {"F0": 3, "F1": 1, "F2": 0}
    assert duckdb_run.case(SOURCE)["isolated_at"] is None
    document = json.loads(Path(duckdb_run.result.manifest).read_text())
    for topic, reasons in expected.items():
        assert document["inputs"][topic]["unusable"] == dict(sorted(reasons.items())), topic
        counts = duckdb_run.result.input_counts[topic]
        assert counts.duplicates_dropped == 0
        assert counts.rows_read == counts.rows_kept + sum(reasons.values()), topic


def test_an_unusable_copy_is_no_first_copy_of_a_resend(builder: LakeBuilder, engine: EngineName) -> None:
    """The contract counts an event_id once among valid events: a usable later copy still counts."""
    builder.confirmed(SOURCE, "2021-08-02 09:00", "2021-08-01")
    builder.checkin(SOURCE, "V", "2021-08-01 10:00", "2021-08-01 11:00")
    builder.write()
    stay = {
        "event_id": "resent", "person_pseudonym": builder.pseudonym(EXPOSED), "venue_id": "V",
        "checkin_at": builder.at("2021-08-01 10:10"), "source": "qr_venue",
    }
    builder.write_raw_rows("checkins", [{**stay, "checkout_at": INT64_MAX}], "2021-08-01", partition=0)
    builder.checkin(EXPOSED, "V", "2021-08-01 10:10", "2021-08-01 11:10", event_id="resent", partition=1)
    traced = run_trace(builder, engine)
    assert traced.tiers() == {builder.person_id(EXPOSED): "F1"}
    counts = traced.result.input_counts["checkins"]
    assert (counts.rows_read, counts.duplicates_dropped, counts.rows_kept) == (3, 0, 2)
    assert counts.unusable == {"checkout_at out of range": 1}


def test_the_earliest_instant_is_the_landers_setting(builder: LakeBuilder, engine: EngineName) -> None:
    builder.confirmed(SOURCE, "2021-08-02 09:00", "2021-08-01")
    builder.checkin(SOURCE, "V", "2021-08-01 10:00", "2021-08-01 11:00")
    builder.checkin(EXPOSED, "V", "2021-08-01 10:10", "2021-08-01 11:10")
    builder.write()
    result = trace_day(
        str(builder.root), DAY, load_rules(), vault=str(builder.vault), engine=engine,
        earliest=datetime.fromisoformat("2021-08-01T10:05:00+07:00"),
    )
    assert result.tier_counts["F1"] == 0
    assert result.input_counts["checkins"].unusable == {"checkin_at out of range": 1}
