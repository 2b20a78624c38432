"""QR-point compliance: how many registered QR points people actually scan, per district.

Khánh Hòa found only 3,725 of its 9,661 registered QR points active: a venue
nobody scans is a blind spot for venue tracing, however good the tiers are.
A registered venue is active on day D when it has at least one check-in that
local day; the silent ones are listed longest-silent first ("never" first of
all) so district teams know where to send someone.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jobs.disclosure import Figure
from jobs.publish.province.lake_views import ProvinceSources, opened
from jobs.publish.province.outputs import percent, share
from tracelake.core.days import from_epoch_micros as instant
from tracelake.core.rules import Rules

TABLE = "compliance"
NEVER = "never"
DISTRICT_COLUMNS = (
    "province_code", "district_code", "registered_venues", "active_venues", "silent_venues",
    "active_share", "active_percent",
)
SILENT_COLUMNS = (
    "province_code", "district_code", "venue_id", "venue_name", "venue_kind", "last_checkin_date", "days_silent",
)


@dataclass(frozen=True)
class DistrictCompliance:
    province_code: str
    district_code: str
    registered_venues: int
    active_venues: int

    @property
    def silent_venues(self) -> int:
        return self.registered_venues - self.active_venues

    def row(self) -> dict[str, Any]:
        return {
            "province_code": self.province_code,
            "district_code": self.district_code,
            "registered_venues": self.registered_venues,
            "active_venues": self.active_venues,
            "silent_venues": self.silent_venues,
            "active_share": share(self.active_venues, self.registered_venues),
            "active_percent": percent(self.active_venues, self.registered_venues).removesuffix(" %"),
        }


@dataclass(frozen=True)
class SilentVenue:
    province_code: str
    district_code: str
    venue_id: str
    venue_name: str
    venue_kind: str | None
    last_checkin_date: date | None
    """The local day of the venue's last check-in up to D; None when it never had one."""
    days_silent: int | None

    def row(self) -> dict[str, Any]:
        return {
            "province_code": self.province_code,
            "district_code": self.district_code,
            "venue_id": self.venue_id,
            "venue_name": self.venue_name,
            "venue_kind": self.venue_kind,
            "last_checkin_date": self.last_checkin_date.isoformat() if self.last_checkin_date else None,
            "days_silent": NEVER if self.days_silent is None else self.days_silent,
        }


@dataclass(frozen=True)
class Compliance:
    day: date
    districts: tuple[DistrictCompliance, ...]
    silent: tuple[SilentVenue, ...]
    unregistered_checkins: int
    """Check-ins on D at venues no registration names (they count for nobody's compliance)."""
    unregistered_venues: int
    paths: Mapping[str, str] = field(default_factory=dict)

    @property
    def registered_venues(self) -> int:
        return sum(d.registered_venues for d in self.districts)

    @property
    def active_venues(self) -> int:
        return sum(d.active_venues for d in self.districts)

    @property
    def total_line(self) -> str:
        return qr_points_line(self.active_venues, self.registered_venues)

    def summary_text(self, silent: tuple[SilentVenue, ...], unregistered_checkins: Figure) -> str:
        """The text summary, over the silent venues and the unregistered check-ins its reader may see."""
        lines = [self.total_line, ""]
        lines.extend(
            f"District {d.district_code} (province {d.province_code}): "
            f"{qr_points_line(d.active_venues, d.registered_venues)}"
            for d in self.districts
        )
        never = sum(1 for v in silent if v.days_silent is None)
        checkins = unregistered_checkins if isinstance(unregistered_checkins, str) else f"{unregistered_checkins:,}"
        lines.append("")
        lines.append(f"Silent QR points: {len(silent):,}, of which {never:,} never had a check-in.")
        lines.append(f"Check-ins at unregistered QR points: {checkins} at {self.unregistered_venues:,} venues.")
        return "\n".join(lines) + "\n"


def qr_points_line(active: int, registered: int) -> str:
    """`3,725 of 9,661 QR points active (38.6 %)`."""
    return f"{active:,} of {registered:,} QR points active ({percent(active, registered)})"


_REGISTERED = """
WITH today AS (
    SELECT c.venue_id, count(*) AS checkins
    FROM checkin AS c CROSS JOIN run
    WHERE c.checkin_us >= run.day_start_us AND c.checkin_us < run.day_end_us
    GROUP BY c.venue_id
),
last_seen AS (
    SELECT venue_id, max(checkin_us) AS last_checkin_us FROM checkin GROUP BY venue_id
)
SELECT v.province_code, v.district_code, v.venue_id, v.name, v.kind,
       coalesce(t.checkins, 0) AS checkins, l.last_checkin_us
FROM venue AS v LEFT JOIN today AS t USING (venue_id) LEFT JOIN last_seen AS l USING (venue_id)
ORDER BY v.province_code, v.district_code, v.venue_id
"""

_UNREGISTERED = """
SELECT count(*), count(DISTINCT c.venue_id)
FROM checkin AS c CROSS JOIN run
WHERE c.checkin_us >= run.day_start_us AND c.checkin_us < run.day_end_us
  AND c.venue_id NOT IN (SELECT venue_id FROM venue)
"""


def compliance(sources: ProvinceSources) -> Compliance:
    """Day D's compliance per district and the silent venues (nothing written)."""
    sources.require("venue", "checkin")
    zone, day = sources.rules.zone, sources.day
    registered: dict[tuple[str, str], list[int]] = {}
    silent: list[SilentVenue] = []
    for province_code, district_code, venue_id, name, kind, checkins, last_us in sources.rows(_REGISTERED):
        counts = registered.setdefault((province_code, district_code), [0, 0])
        counts[0] += 1
        if checkins:
            counts[1] += 1
            continue
        last_day = instant(last_us).astimezone(zone).date() if last_us is not None else None
        silent.append(
            SilentVenue(
                province_code=province_code,
                district_code=district_code,
                venue_id=venue_id,
                venue_name=name,
                venue_kind=kind,
                last_checkin_date=last_day,
                days_silent=(day - last_day).days if last_day is not None else None,
            )
        )
    silent.sort(key=lambda v: (v.days_silent is not None, -(v.days_silent or 0), v.province_code, v.district_code,
                               v.venue_id))
    [(unregistered_checkins, unregistered_venues)] = sources.rows(_UNREGISTERED)
    return Compliance(
        day=day,
        districts=tuple(
            DistrictCompliance(province, district, total, active)
            for (province, district), (total, active) in sorted(registered.items())
        ),
        silent=tuple(silent),
        unregistered_checkins=unregistered_checkins,
        unregistered_venues=unregistered_venues,
    )


def build_compliance(
    lake_root: str, day: date, rules: Rules, *, sources: ProvinceSources | None = None
) -> Compliance:
    """Compute day D's compliance; `jobs.publish.province.public` writes what the public may see of it."""
    with opened(lake_root, day, rules, sources) as run:
        return compliance(run)
