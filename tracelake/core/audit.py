"""The audit trail of re-identification, kept in the identity area beside the vault.

Every output that turns pseudonyms back into phone numbers or citizen IDs
(the tracers' export, the worklists) leaves one record here: when, for which
day, which output, how many people and under which key. A record never holds
an id, so the trail can be shown to an auditor who may not see the vault's
pairs. Each record is its own small file written under a hidden name and
renamed, so a crash leaves the whole record or none, and no writer ever
rewrites another's record.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pyarrow.fs as pafs

from tracelake.core.lake import children, filesystem, is_hidden, join, write_bytes_atomically

AUDIT = "audit"


@dataclass(frozen=True)
class Reidentification:
    """One output that named people: what an auditor needs, and nothing that names them."""

    at: datetime
    """When, in UTC."""
    day: date
    """The traced day D whose output this is."""
    output: str
    """The output, as its folder under the lake root (`exports/exposures`, `exports/worklists`)."""
    people: int
    """Distinct persons the output re-identified."""
    key_fingerprint: str | None
    """The pseudonymization key's fingerprint (HMAC of a fixed label under it); None when unknown."""

    def document(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "day": self.day.isoformat(),
            "output": self.output,
            "people": self.people,
            "key_fingerprint": self.key_fingerprint,
        }

    @classmethod
    def from_document(cls, document: dict[str, object]) -> "Reidentification":
        fingerprint = document["key_fingerprint"]
        return cls(
            at=datetime.fromisoformat(str(document["at"])),
            day=date.fromisoformat(str(document["day"])),
            output=str(document["output"]),
            people=int(str(document["people"])),
            key_fingerprint=None if fingerprint is None else str(fingerprint),
        )


def _file_name(record: Reidentification) -> str:
    """Sorted by time, readable at a glance, and unique even for two records in one microsecond."""
    when = record.at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    output = "".join(ch if ch.isalnum() else "_" for ch in record.output)
    return f"{when}-{output}-{record.day.isoformat()}-{secrets.token_hex(4)}.json"


def record_reidentification(
    vault: str, *, day: date, output: str, people: int, key_fingerprint: str | None, at: datetime | None = None
) -> Reidentification:
    """Append one record to `<vault>/audit/`; call it before the output it describes is published."""
    record = Reidentification(at or datetime.now(UTC), day, output, people, key_fingerprint)
    fs, root = filesystem(vault)
    directory = join(root, AUDIT)
    fs.create_dir(directory, recursive=True)
    payload = (json.dumps(record.document(), sort_keys=True) + "\n").encode("utf-8")
    write_bytes_atomically(payload, fs, join(directory, _file_name(record)))
    return record


def read_audit(vault: str) -> list[Reidentification]:
    """Every finished record, oldest first; files still being written are not records yet."""
    fs, root = filesystem(vault)
    records = []
    for info in children(fs, join(root, AUDIT)):
        if info.type != pafs.FileType.File or is_hidden(info.base_name) or not info.base_name.endswith(".json"):
            continue
        with fs.open_input_stream(info.path) as stream:
            records.append(Reidentification.from_document(json.loads(stream.read())))
    return sorted(records, key=lambda record: (record.at, record.output, record.day))
