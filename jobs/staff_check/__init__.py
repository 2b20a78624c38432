"""The agency staff check: which of an agency's staff scan QR codes and run Bluezone.

Health departments ask every agency for its staff list (Khánh Hòa did in
2021, when about a third of the province's smartphones ran a tracing app) to
see, per agency and unit, who checked in by QR code and who ran Bluezone in
the last days, and to follow up those seen in neither. `check_staff` reads
such a roster (`roster`), looks each person up by pseudonym in the lake
(`activity`), counts per agency and unit with small counts hidden for the
public (`shares`) and writes the results to the tracers' and the public areas
(`files`).
"""

from jobs.staff_check.check import (
    PUBLIC_TABLE,
    TRACERS_TABLE,
    StaffCheck,
    StaffCheckError,
    check_staff,
    require_landed,
)
from jobs.staff_check.roster import RosterError

__all__ = [
    "PUBLIC_TABLE",
    "TRACERS_TABLE",
    "RosterError",
    "StaffCheck",
    "StaffCheckError",
    "check_staff",
    "require_landed",
]
