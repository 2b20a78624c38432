"""Great Expectations suites over the lake: raw partitions before tracing, outputs before export.

    validate_raw(lake_root, day, settings, rules=None, *, landed=None) -> ValidationReport
    validate_outputs(lake_root, day, settings, rules=None, *, vault=None) -> ValidationReport

Both raise `ValidationFailed` (its message names each broken expectation and
its bad rows' count) and leave the Data Docs under `Lake.validation_day(D)`.
The suites themselves are JSON in `schemas/expectations/`, one per table.
"""

from jobs.validation.outputs import validate_outputs
from jobs.validation.raw import validate_raw
from jobs.validation.report import Failure, ValidationFailed, ValidationReport
from jobs.validation.withhold import withhold_export

__all__ = [
    "Failure",
    "ValidationFailed",
    "ValidationReport",
    "validate_outputs",
    "validate_raw",
    "withhold_export",
]
