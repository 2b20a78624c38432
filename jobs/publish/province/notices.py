"""Public risky-venue notices: where and when F0s were, so residents can self-declare.

Thanh Hóa posted "the places related to F0 cases in the community" every day;
this builds that list from day D's confirmed cases. A range is an F0's stay
with the linger (the air an F0 leaves behind), clipped to the F0's infectious
window and cut at local midnights; the ranges of every F0 at a venue on one day
are merged when they overlap or touch. The public files say nothing about any
person. A range too few people visited could single out the F0 to neighbours,
so it is withheld from the public files, and the tracers' copy says why.
The public files go to `public/notices/date=D/`, the tracers' copy (with
visitors and F0 counts) to `exports/notices/date=D/`.
Everything is recomputed from D's cases table: a retracted F0's places vanish.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from jobs.publish.province.lake_views import ProvinceSources, opened
from jobs.publish.province.outputs import write_csv, write_text
from schemas import schema_dir
from tracelake.core.days import from_epoch_micros as instant
from tracelake.core.rules import Rules

DEFAULT_VISITOR_FLOOR = 5
TABLE = "notices"
UNREGISTERED = "venue not registered: no name to post"

PUBLIC_COLUMNS = (
    "date", "venue_id", "venue_name", "venue_kind", "district_code", "district",
    "from_time", "to_time", "start_local", "end_local",
)
TRACER_COLUMNS = (*PUBLIC_COLUMNS, "f0_cases", "f0_stays", "visitors", "published", "withheld_reason")


def template_path(name: str) -> Path:
    return schema_dir() / "templates" / name


def render_template(name: str, **fields: Any) -> str:
    """Fill a text template from `schemas/templates`; a field the template names but nobody gives is an error."""
    text = template_path(name).read_text(encoding="utf-8").strip()
    try:
        return text.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"template {name}: cannot fill it ({exc!r}); fields given: {sorted(fields)}") from exc


@dataclass(frozen=True)
class NoticeRange:
    """One venue and one time range of one local day to watch; `start`/`end` are local times."""

    venue_id: str
    venue_name: str | None
    venue_kind: str | None
    district_code: str | None
    district: str
    day: date
    start: datetime
    end: datetime
    f0_cases: int
    f0_stays: int
    visitors: int
    withheld_reasons: tuple[str, ...]

    @property
    def published(self) -> bool:
        return not self.withheld_reasons

    @property
    def from_time(self) -> str:
        """The start rounded down to the minute."""
        return f"{self.start:%H:%M}"

    @property
    def to_time(self) -> str:
        """The end rounded up to the minute (a notice may widen a range, never shorten it), and `24:00`
        for a range that runs to the end of its day, so it never reads as the morning."""
        end = self.end
        if end.second or end.microsecond:
            end = end.replace(second=0, microsecond=0) + timedelta(minutes=1)
        if end.date() > self.day and end.time() == time(0):
            return "24:00"
        return f"{end:%H:%M}"

    def public_row(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "venue_id": self.venue_id,
            "venue_name": self.venue_name,
            "venue_kind": self.venue_kind,
            "district_code": self.district_code,
            "district": self.district,
            "from_time": self.from_time,
            "to_time": self.to_time,
            "start_local": self.start.isoformat(),
            "end_local": self.end.isoformat(),
        }

    def tracer_row(self) -> dict[str, Any]:
        return {
            **self.public_row(),
            "f0_cases": self.f0_cases,
            "f0_stays": self.f0_stays,
            "visitors": self.visitors,
            "published": str(self.published).lower(),
            "withheld_reason": "; ".join(self.withheld_reasons),
        }

    def paragraph(self) -> str:
        return render_template(
            "notice_vi.txt",
            venue=self.venue_name,
            venue_kind=self.venue_kind or "",
            district=self.district,
            district_code=self.district_code or "",
            day=self.day,
            start=self.start,
            end=self.end,
            start_time=self.from_time,
            end_time=self.to_time,
        )


@dataclass(frozen=True)
class Notices:
    day: date
    visitor_floor: int
    ranges: tuple[NoticeRange, ...]
    paths: Mapping[str, str] = field(default_factory=dict)

    @property
    def published(self) -> tuple[NoticeRange, ...]:
        return tuple(r for r in self.ranges if r.published)

    @property
    def withheld(self) -> tuple[NoticeRange, ...]:
        return tuple(r for r in self.ranges if not r.published)

    @property
    def published_venues(self) -> int:
        return len({r.venue_id for r in self.published})


_RANGES = """
WITH piece AS (
    SELECT s.venue_id, s.person, s.event_id, cal.day,
           greatest(s.watched_start_us, cal.day_start_us) AS start_us,
           least(s.watched_end_us, cal.day_end_us) AS end_us
    FROM f0_stay AS s JOIN calendar AS cal
      ON cal.day_start_us < s.watched_end_us AND cal.day_end_us > s.watched_start_us
),
reach AS (
    SELECT *, max(end_us) OVER (
        PARTITION BY venue_id, day ORDER BY start_us, end_us ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS reach_us
    FROM piece
),
island AS (
    SELECT *, sum(CASE WHEN reach_us IS NULL OR start_us > reach_us THEN 1 ELSE 0 END) OVER (
        PARTITION BY venue_id, day ORDER BY start_us, end_us ROWS UNBOUNDED PRECEDING
    ) AS island
    FROM reach
)
SELECT venue_id, day, island, min(start_us) AS start_us, max(end_us) AS end_us,
       count(DISTINCT person) AS f0_cases, count(DISTINCT event_id) AS f0_stays,
       list(DISTINCT person) AS f0_people
FROM island GROUP BY venue_id, day, island
"""

_VISITORS = """
WITH watched AS (__RANGES__),
present AS (
    SELECT w.venue_id, w.day, w.island, c.person
    FROM watched AS w JOIN checkin AS c
      ON c.venue_id = w.venue_id AND c.checkin_us < w.end_us AND c.leave_us > w.start_us
    UNION
    SELECT venue_id, day, island, unnest(f0_people) AS person FROM watched
)
SELECT w.venue_id, w.day, w.start_us, w.end_us, w.f0_cases, w.f0_stays,
       (SELECT count(DISTINCT p.person) FROM present AS p
        WHERE p.venue_id = w.venue_id AND p.day = w.day AND p.island = w.island) AS visitors,
       v.name, v.kind, v.district_code
FROM watched AS w LEFT JOIN venue AS v USING (venue_id)
ORDER BY w.day, v.district_code NULLS LAST, v.name NULLS LAST, w.venue_id, w.start_us
""".replace("__RANGES__", _RANGES)


def district_label(code: str | None, district_names: Mapping[str, str] | None) -> str:
    """The district's name when the caller knows it; the venues topic only carries a code."""
    if code is None:
        return "chưa rõ quận/huyện"
    if district_names and code in district_names:
        return district_names[code]
    return f"quận/huyện mã {code}"


def notice_ranges(
    sources: ProvinceSources,
    *,
    visitor_floor: int = DEFAULT_VISITOR_FLOOR,
    district_names: Mapping[str, str] | None = None,
) -> tuple[NoticeRange, ...]:
    """Every venue range of day D's F0s, published or withheld (nothing written)."""
    sources.require("calendar", "venue", "checkin", "f0_stay")
    zone = sources.rules.zone
    ranges: list[NoticeRange] = []
    for venue_id, day, start_us, end_us, f0_cases, f0_stays, visitors, name, kind, district_code in sources.rows(
        _VISITORS
    ):
        reasons: list[str] = []
        if name is None:
            reasons.append(UNREGISTERED)
        if visitors < visitor_floor:
            reasons.append(f"fewer than {visitor_floor} visitors")
        ranges.append(
            NoticeRange(
                venue_id=venue_id,
                venue_name=name,
                venue_kind=kind,
                district_code=district_code,
                district=district_label(district_code, district_names),
                day=day,
                start=instant(start_us).astimezone(zone),
                end=instant(end_us).astimezone(zone),
                f0_cases=f0_cases,
                f0_stays=f0_stays,
                visitors=visitors,
                withheld_reasons=tuple(reasons),
            )
        )
    return tuple(ranges)


def notice_text(day: date, published: tuple[NoticeRange, ...], lookback_days: int) -> str:
    """The ready-to-post Vietnamese text: a heading, then one paragraph per published range."""
    paragraphs = [render_template("notice_vi_header.txt", day=day)]
    if published:
        paragraphs.extend(r.paragraph() for r in published)
    else:
        paragraphs.append(render_template("notice_vi_empty.txt", day=day, lookback_days=lookback_days))
    return "\n\n".join(paragraphs) + "\n"


def build_notices(
    lake_root: str,
    day: date,
    rules: Rules,
    *,
    visitor_floor: int = DEFAULT_VISITOR_FLOOR,
    district_names: Mapping[str, str] | None = None,
    sources: ProvinceSources | None = None,
) -> Notices:
    """Compute day D's notices; write `public/notices/date=D/{notices_public.csv,notices_public.txt}` and the
    tracers' `exports/notices/date=D/notices_tracers.csv`."""
    if visitor_floor < 0:
        raise ValueError(f"visitor_floor must be at least 0, got {visitor_floor}")
    with opened(lake_root, day, rules, sources) as run:
        ranges = notice_ranges(run, visitor_floor=visitor_floor, district_names=district_names)
    public = run.outputs.target(run.lake.public_day(TABLE, day))
    tracers = run.outputs.target(run.lake.export_day(TABLE, day))
    published = tuple(r for r in ranges if r.published)
    paths = {
        "notices_public_csv": write_csv(
            public, "notices_public.csv", PUBLIC_COLUMNS, (r.public_row() for r in published)
        ),
        "notices_public_txt": write_text(
            public, "notices_public.txt", notice_text(day, published, rules.lookback_days)
        ),
        "notices_tracers_csv": write_csv(
            tracers, "notices_tracers.csv", TRACER_COLUMNS, (r.tracer_row() for r in ranges)
        ),
    }
    return Notices(day=day, visitor_floor=visitor_floor, ranges=ranges, paths=paths)
