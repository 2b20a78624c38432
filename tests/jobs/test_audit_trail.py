"""Every output that re-identifies people leaves an audit record in the identity area, and no id in it."""

from pathlib import Path

from jobs.publish.worklists import write_worklists
from tests.jobs.lakebuilder import TEST_KEY, LakeBuilder
from tests.jobs.tracing import DAY, run_trace
from tests.outputs_lake import DAY as OUTPUTS_DAY
from tests.outputs_lake import PEOPLE, build_lake
from tracelake.core.audit import AUDIT, read_audit
from tracelake.core.rules import load_rules
from tracelake.core.vault import KEY_FILE, key_fingerprint


def _audit_text(vault: Path) -> str:
    return " ".join(path.read_text(encoding="utf-8") for path in sorted((vault / AUDIT).iterdir()))


def test_the_tracers_export_records_how_many_people_it_named_and_under_which_key(builder: LakeBuilder) -> None:
    builder.vault.mkdir(parents=True)
    (builder.vault / KEY_FILE).write_bytes(TEST_KEY + b"\n")
    builder.confirmed("0900 000 001", "2021-08-03 09:00", "2021-08-02")
    builder.checkin("0900 000 001", "V", "2021-08-02 10:00", "2021-08-02 11:00")
    for phone in ("0910 000 001", "0910 000 002"):
        builder.checkin(phone, "V", "2021-08-02 10:15", "2021-08-02 11:00")
    traced = run_trace(builder, "duckdb")

    export = traced.export.to_pylist()
    named = {row["person_id"] for row in export} | {
        person for row in export for person in [*row["source_ids"], *row["case_ids"]]
    }
    [record] = read_audit(str(builder.vault))
    assert len(named) == 3
    assert (record.day, record.output, record.people) == (DAY, "exports/exposures", 3)
    assert record.key_fingerprint == key_fingerprint(TEST_KEY)
    text = _audit_text(builder.vault)
    assert not [person for person in named if person in text or person.replace("+84", "0") in text]


def test_each_run_of_the_worklists_adds_a_record(tmp_path: Path) -> None:
    lake, vault = build_lake(tmp_path)
    first = write_worklists(str(lake), OUTPUTS_DAY, load_rules(), vault=str(vault))
    write_worklists(str(lake), OUTPUTS_DAY, load_rules(), vault=str(vault))
    records = read_audit(str(vault))
    assert [(record.day, record.output, record.people) for record in records] == [
        (OUTPUTS_DAY, "exports/worklists", first.people)
    ] * 2
    assert first.people > 0
    assert records[0].key_fingerprint is None
    text = _audit_text(vault)
    assert not [phone for phone in PEOPLE.values() if phone in text or phone.replace("+84", "0") in text]
