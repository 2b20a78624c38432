"""One staff check: an agency roster against the lake's last N local days up to D.

The roster's ids are normalized and pseudonymized with the lake's key, so the
lake is searched by pseudonym and no roster name or phone ever enters it: the
only files naming people go to the tracers' `exports/staff_check/`, and the
check is recorded in the vault's audit trail like every output that puts
names next to what the lake knows of them.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pyarrow.fs as pafs

from jobs.staff_check.activity import Window, last_seen
from jobs.staff_check.files import write_public, write_tracers
from jobs.staff_check.roster import Roster, group_key, read_roster
from jobs.staff_check.shares import Checked, agency_rows
from tracelake.core.audit import record_reidentification
from tracelake.core.identity import Pseudonymizer
from tracelake.core.lake import EXPORTS, RAW, Lake, filesystem, join
from tracelake.core.rules import Rules
from tracelake.core.vault import key_fingerprint

TRACERS_TABLE = "staff_check"
PUBLIC_TABLE = "staff_check_agencies"


class StaffCheckError(ValueError):
    """A check that cannot be run as asked (a window longer than the lake keeps)."""


@dataclass(frozen=True)
class StaffCheck:
    """What a check found, in counts only: safe to log and print."""

    day: date
    window: Window
    rows: int
    staff: int
    """Staff counted: one per person and agency."""
    duplicates: int
    rejected: int
    """Rows that did not parse (duplicates aside)."""
    checked_in: int
    bluezone: int
    neither: int
    agencies: int
    files: dict[str, str] = field(default_factory=dict)

    def headline(self) -> list[str]:
        return [
            f"Staff check {self.day} over {self.window.first} to {self.window.last}: {self.rows} roster rows, "
            f"{self.staff} staff in {self.agencies} agencies, {self.duplicates} duplicates, "
            f"{self.rejected} rejected rows",
            f"checked in by QR code: {self.checked_in}, seen in Bluezone: {self.bluezone}, neither: {self.neither}",
        ]


def require_landed(lake_root: str) -> None:
    """StaffCheckError unless the lake has landed events: a mistyped --lake would otherwise find nobody."""
    fs, path = filesystem(join(lake_root, RAW))
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        raise StaffCheckError(f"--lake: {lake_root} holds no landed events (no {RAW}/ folder)")


def check_staff(
    lake_root: str, roster_location: str, day: date, days: int, rules: Rules, *, key: bytes, vault: str
) -> StaffCheck:
    """Read the roster, look its people up in the lake, and write day D's staff check; RosterError for a bad file."""
    if not 1 <= days <= rules.retention_days:
        raise StaffCheckError(
            f"--days must be from 1 to {rules.retention_days} (the rules' retention_days: older events are purged)"
        )
    require_landed(lake_root)
    roster = read_roster(roster_location)
    window = Window.ending(day, days)
    checked = _look_up(lake_root, roster, window, rules, key)
    lake = Lake(lake_root)
    people = {person_id for person in checked for person_id in person.member.person_ids}
    record_reidentification(
        vault, day=day, output=join(EXPORTS, TRACERS_TABLE), people=len(people), key_fingerprint=key_fingerprint(key)
    )
    files = {
        **{f"tracers {name}": where for name, where in write_tracers(
            lake.export_day(TRACERS_TABLE, day), checked, roster.rejected, agency_rows(checked, public=False), window
        ).items()},
        **{f"public {name}": where for name, where in write_public(
            lake.public_day(PUBLIC_TABLE, day), agency_rows(checked, public=True), window
        ).items()},
    }
    return StaffCheck(
        day=day,
        window=window,
        rows=roster.rows,
        staff=len(checked),
        duplicates=roster.duplicates,
        rejected=roster.invalid,
        checked_in=sum(person.checked_in for person in checked),
        bluezone=sum(person.bluezone for person in checked),
        neither=sum(person.neither for person in checked),
        agencies=len({group_key(person.member.agency) for person in checked}),
        files=files,
    )


def _look_up(lake_root: str, roster: Roster, window: Window, rules: Rules, key: bytes) -> list[Checked]:
    pseudonymizer = Pseudonymizer(key)
    pseudonyms = {
        person_id: pseudonymizer.pseudonym(person_id)
        for member in roster.staff
        for person_id in member.person_ids
    }
    activity = last_seen(lake_root, pseudonyms.values(), window, rules.zone)

    def latest(seen: Mapping[str, date], ids: tuple[str, ...]) -> date | None:
        return max((seen[pseudonyms[person_id]] for person_id in ids if pseudonyms[person_id] in seen), default=None)

    return [
        Checked(member, latest(activity.checkins, member.person_ids), latest(activity.bluezone, member.person_ids))
        for member in roster.staff
    ]
