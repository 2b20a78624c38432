"""Per agency and unit: how many staff, and what share checked in by QR code, ran Bluezone, or neither.

The public copy follows the contract's small-number rule (`jobs.disclosure`):
a unit of 6 whose 4 staff scanned QR codes would otherwise tell colleagues
that the other 2 did not. So besides the printed counts (staff, checked in,
Bluezone, neither) their complements (not checked in, no Bluezone, at least
one of the two) are cells too, each unit's pairs add up to its staff, and an
agency's units add up to the agency's row; a count from 1 to 9 in any of them
is hidden, and so are enough others that no sum or difference gives it back.
A share is printed only when its count and its base are. Agencies are
independent tables: a person on two agencies' rosters counts in both.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from jobs.disclosure import ALL, Disclosure, Figure, Group, Total, protect
from jobs.staff_check.roster import StaffMember, group_key

PRINTED = ("staff", "checked_in", "bluezone", "neither")
PAIRS: tuple[tuple[str, str], ...] = (
    ("checked_in", "no_checkin"),
    ("bluezone", "no_bluezone"),
    ("neither", "some_app"),
)
"""Each pair adds up to the staff of its row."""

AGENCY = "agency"
UNIT = "unit"

Key = tuple[str, str | Total, str]
"""(agency, unit or ALL for the agency's row, measure)."""


@dataclass(frozen=True)
class Checked:
    """One staff member and what the lake says about them in the window."""

    member: StaffMember
    last_checkin: date | None
    last_bluezone: date | None

    @property
    def checked_in(self) -> bool:
        return self.last_checkin is not None

    @property
    def bluezone(self) -> bool:
        return self.last_bluezone is not None

    @property
    def neither(self) -> bool:
        return not (self.checked_in or self.bluezone)


@dataclass(frozen=True)
class AgencyRow:
    agency: str
    unit: str | None
    """None on the agency's own row (all its units)."""
    staff: Figure
    checked_in: Figure
    bluezone: Figure
    neither: Figure
    checked_in_share: float | None
    bluezone_share: float | None
    neither_share: float | None

    @property
    def level(self) -> str:
        return AGENCY if self.unit is None else UNIT

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "unit": self.unit,
            "level": self.level,
            "staff": str(self.staff),
            "checked_in": str(self.checked_in),
            "bluezone": str(self.bluezone),
            "neither": str(self.neither),
            "checked_in_share": self.checked_in_share,
            "bluezone_share": self.bluezone_share,
            "neither_share": self.neither_share,
        }


def _measures(person: Checked) -> dict[str, bool]:
    return {
        "staff": True,
        "checked_in": person.checked_in,
        "no_checkin": not person.checked_in,
        "bluezone": person.bluezone,
        "no_bluezone": not person.bluezone,
        "neither": person.neither,
        "some_app": not person.neither,
    }


def agency_rows(checked: Sequence[Checked], *, public: bool) -> list[AgencyRow]:
    """The agencies' rows then their units', agencies and units in name order; hidden counts marked when public."""
    names: dict[str, str] = {}
    units: dict[str, dict[str, str]] = {}
    counts: dict[Key, int] = {}
    for person in checked:
        agency = group_key(person.member.agency)
        unit = group_key(person.member.unit)
        names.setdefault(agency, person.member.agency)
        units.setdefault(agency, {}).setdefault(unit, person.member.unit)
        for measure, holds in _measures(person).items():
            for row in (unit, ALL):
                counts[(agency, row, measure)] = counts.get((agency, row, measure), 0) + int(holds)
    groups: list[Group[Key]] = []
    for agency, its_units in units.items():
        rows: list[str | Total] = [*its_units, ALL]
        for row in rows:
            groups.extend(Group((agency, row, "staff"), ((agency, row, yes), (agency, row, no))) for yes, no in PAIRS)
        for measure in (*PRINTED, *(no for _yes, no in PAIRS)):
            groups.append(Group((agency, ALL, measure), tuple((agency, unit, measure) for unit in its_units)))
    shown = protect(counts, groups, public=public)
    table: list[AgencyRow] = []
    for agency in sorted(names, key=lambda key: (names[key].casefold(), key)):
        table.append(_row(shown, agency, ALL, names[agency], None))
        for unit in sorted(units[agency], key=lambda key: (units[agency][key].casefold(), key)):
            table.append(_row(shown, agency, unit, names[agency], units[agency][unit]))
    return table


def _row(shown: Disclosure[Key], agency: str, row: str | Total, name: str, unit: str | None) -> AgencyRow:
    def key(measure: str) -> Key:
        return (agency, row, measure)

    return AgencyRow(
        agency=name,
        unit=unit,
        staff=shown.figure(key("staff")),
        checked_in=shown.figure(key("checked_in")),
        bluezone=shown.figure(key("bluezone")),
        neither=shown.figure(key("neither")),
        checked_in_share=shown.share(key("checked_in"), key("staff")),
        bluezone_share=shown.share(key("bluezone"), key("staff")),
        neither_share=shown.share(key("neither"), key("staff")),
    )
