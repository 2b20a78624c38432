"""Which case reports the on-case re-trace of day D has read: so a burst of reports costs one or two traces.

Each successful re-trace records the lander's committed offsets on
`case_reports` taken *before* its trace read the lake
(`manifests/on_case/date=D/manifest.json`); a later run whose reports all sit
below those offsets would trace the same lake again, so it may be skipped.
Only Kafka positions are kept, never who a report is about.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from tracelake.core.lake import Lake, filesystem, write_bytes_atomically

ON_CASE_JOB = "on_case"


class ReportPosition(Protocol):
    """Where a case report sits in Kafka (the streams side's `CaseReport` is one)."""

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...


def already_traced(lake_root: str, day: date, reports: Sequence[ReportPosition]) -> str | None:
    """Why a re-trace of D for `reports` would add nothing: the last successful re-trace of D started after
    all of them were landed. None when it must run: no record yet, a report it has not read, or a manual run
    (no reports)."""
    if not reports:
        return None
    fs, path = filesystem(Lake(lake_root).manifest(ON_CASE_JOB, day))
    try:
        with fs.open_input_stream(path) as stream:
            record = json.loads(stream.read())
    except (FileNotFoundError, OSError):
        return None
    read = {str(partition): int(offset) for partition, offset in record.get("case_reports_committed", {}).items()}
    if all(report.offset < read.get(str(report.partition), 0) for report in reports):
        return (f"already traced: the re-trace of {day.isoformat()} by {record.get('run_id')} read the lake after "
                f"these {len(reports)} report(s) were landed")
    return None


def record_coverage(
    lake_root: str,
    day: date,
    committed: Mapping[str, int],
    reports: Sequence[Mapping[str, Any]],
    run_id: str,
) -> str:
    """Write which case reports D's outputs include: `committed`, the lander's offsets per `case_reports`
    partition seen before the trace read the lake, and the `reports` that triggered the run."""
    fs, path = filesystem(Lake(lake_root).manifest(ON_CASE_JOB, day))
    fs.create_dir(path.rpartition("/")[0], recursive=True)
    document = {
        "job": ON_CASE_JOB,
        "day": day.isoformat(),
        "run_id": run_id,
        "recorded_at": datetime.now(UTC).isoformat(),
        "case_reports_committed": dict(committed),
        "reports": list(reports),
    }
    write_bytes_atomically((json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8"), fs, path)
    return path
