"""The re-identification audit trail: one whole record per output that named people, never an id."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from tracelake.core.audit import AUDIT, read_audit, record_reidentification
from tracelake.core.vault import KEY_FILE, key_fingerprint, vault_key_fingerprint

DAY = date(2021, 8, 3)


def test_a_record_says_when_which_day_output_how_many_and_which_key(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    at = datetime(2021, 8, 3, 20, 14, 7, 123456, tzinfo=UTC)
    record_reidentification(str(vault), day=DAY, output="exports/exposures", people=12, key_fingerprint="ab12", at=at)
    record_reidentification(str(vault), day=DAY, output="exports/worklists", people=7, key_fingerprint="ab12", at=at)
    files = sorted((vault / AUDIT).iterdir())
    assert len(files) == 2
    documents = [json.loads(path.read_text(encoding="utf-8")) for path in files]
    assert {tuple(sorted(document)) for document in documents} == {
        ("at", "day", "key_fingerprint", "output", "people")
    }
    assert [(record.output, record.people, record.day, record.at) for record in read_audit(str(vault))] == [
        ("exports/exposures", 12, DAY, at),
        ("exports/worklists", 7, DAY, at),
    ]


def test_the_fingerprint_names_the_key_without_revealing_it(tmp_path: Path) -> None:
    assert vault_key_fingerprint(str(tmp_path / "no-vault")) is None
    key = b"0123456789abcdef0123456789abcdef"
    (tmp_path / KEY_FILE).write_bytes(key + b"\n")
    fingerprint = vault_key_fingerprint(str(tmp_path))
    assert fingerprint == key_fingerprint(key)
    assert fingerprint != key_fingerprint(b"another key, another fingerprint")
    assert key.decode() not in (fingerprint or "")
    assert len(fingerprint or "") == 64


def test_a_killed_writer_leaves_only_whole_records(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, datetime\n"
            "from tracelake.core.audit import record_reidentification\n"
            "day = datetime.date(2021, 8, 3)\n"
            "while True:\n"
            "    record_reidentification(sys.argv[1], day=day, output='exports/exposures', people=3,"
            " key_fingerprint='ab12')\n",
            str(vault),
        ],
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((vault / AUDIT).glob("*.json"))) < 50:
        time.sleep(0.05)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    records = read_audit(str(vault))
    assert len(records) >= 50
    assert {(record.output, record.people, record.key_fingerprint) for record in records} == {
        ("exports/exposures", 3, "ab12")
    }
    visible = [path for path in (vault / AUDIT).iterdir() if not path.name.startswith(".")]
    assert len(visible) == len(records)
