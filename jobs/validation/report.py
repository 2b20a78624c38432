"""What a validation run found, in words a tracer or an on-call engineer can act on.

A failed expectation is reported by its name, its table and column, and how
many rows broke it; never by the values themselves, which may be pseudonyms or
(in the export) phone numbers.
"""

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Failure:
    """One expectation that did not hold on one table."""

    table: str
    expectation: str
    column: str | None
    bad_rows: int
    rows: int
    why: str
    """The suite's note for this expectation: the rule it guards."""
    detail: str = ""
    """Extra facts for table-level expectations (observed vs expected counts, columns)."""

    def describe(self) -> str:
        target = f"{self.expectation}({self.column})" if self.column else self.expectation
        text = f"{self.table}: {target} failed on {self.bad_rows} bad row(s) of {self.rows}"
        if self.detail:
            text += f" [{self.detail}]"
        return f"{text} — {self.why}" if self.why else text


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of one stage's suites for one day, and where its Data Docs are."""

    stage: str
    day: date
    rows: Mapping[str, int]
    """Rows per validated table."""
    failures: tuple[Failure, ...]
    docs: str
    """The Data Docs index of the day (HTML) under `Lake.validation_day(D)`."""
    expectations: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return not self.failures

    def message(self) -> str:
        if self.success:
            tables = ", ".join(f"{table}={count}" for table, count in sorted(self.rows.items()))
            return (
                f"{self.stage} validation of {self.day.isoformat()} passed: {self.expectations} expectations "
                f"on {tables}; Data Docs: {self.docs}"
            )
        lines = [
            f"{self.stage} validation of {self.day.isoformat()} failed: "
            f"{len(self.failures)} of {self.expectations} expectations did not hold"
        ]
        lines.extend(f"  - {failure.describe()}" for failure in self.failures)
        lines.append(f"Data Docs: {self.docs}")
        return "\n".join(lines)

    def to_json(self) -> str:
        document = {
            "stage": self.stage,
            "day": self.day.isoformat(),
            "success": self.success,
            "expectations": self.expectations,
            "rows": dict(self.rows),
            "failures": [asdict(failure) for failure in self.failures],
            "docs": self.docs,
            **dict(self.extra),
        }
        return json.dumps(document, indent=2, sort_keys=True) + "\n"


class ValidationFailed(RuntimeError):
    """A suite failed: the message names each broken expectation and its bad rows' count."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(report.message())
        self.report = report
