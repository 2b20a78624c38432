"""The province tables for analysts and the public, under `public/<table>/date=D/`.

Compliance, coverage and venue risk are read well beyond the tracers (health
departments, the press), so they are written as `ProvinceFigures` shows them
to the public: every count of people is 0, 10 or more, `<10` or `≥10`, a share
of a hidden count is an empty cell, and an unlisted venue is in no row. The
venue ranking numbers the listed venues 1, 2, 3... among themselves, so a gap
gives no unlisted venue away. Counts of venues and QR points are exact.
"""

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from jobs.disclosure import Figure
from jobs.publication import DIRECT, DayOutputs
from jobs.publish.province import compliance as qr
from jobs.publish.province import coverage as bluezone
from jobs.publish.province import venue_risk as risk
from jobs.publish.province.compliance import Compliance, SilentVenue
from jobs.publish.province.coverage import LOWER_BOUND, Coverage, CoverageCount
from jobs.publish.province.figures import ADDITIVE, PER_VENUE, ProvinceFigures
from jobs.publish.province.outputs import write_csv, write_text
from jobs.publish.province.venue_risk import VenueRisk, VenueRiskRanking
from tracelake.core.lake import Lake


def listed_silent(result: Compliance, figures: ProvinceFigures) -> tuple[SilentVenue, ...]:
    return tuple(v for v in result.silent if figures.listed(v.venue_id))


def listed_venues(ranking: VenueRiskRanking, figures: ProvinceFigures) -> Iterator[tuple[int, VenueRisk]]:
    """The venues this audience may see, best first, each with its rank among them."""
    return enumerate((v for v in ranking.venues if figures.listed(v.venue_id)), start=1)


def unregistered_checkins(figures: ProvinceFigures) -> Figure:
    """Check-ins at unregistered QR points: the unregistered venues' district total on the map."""
    return figures.district(None, None, "checkins")


def coverage_row(count: CoverageCount, figures: ProvinceFigures) -> dict[str, Any]:
    return {
        **count.row(),
        "checked_in_people": figures.people(count, "checked_in"),
        "seen_by_bluezone": figures.people(count, "seen"),
        LOWER_BOUND: figures.lower_bound(count),
    }


def venue_row(rank: int, venue: VenueRisk, figures: ProvinceFigures) -> dict[str, Any]:
    return {**venue.row(), "rank": rank, **{measure: figures.venue(venue, measure) for measure in (*ADDITIVE,
                                                                                                    *PER_VENUE)}}


def write_compliance(
    lake_root: str, result: Compliance, figures: ProvinceFigures, outputs: DayOutputs = DIRECT
) -> Compliance:
    """Write `public/compliance/date=D/{districts.csv,silent_venues.csv,summary.txt}` (or where `outputs` stages it)."""
    directory = outputs.target(Lake(lake_root).public_day(qr.TABLE, result.day))
    silent = listed_silent(result, figures)
    paths = {
        "districts_csv": write_csv(
            directory, "districts.csv", qr.DISTRICT_COLUMNS, (d.row() for d in result.districts)
        ),
        "silent_venues_csv": write_csv(directory, "silent_venues.csv", qr.SILENT_COLUMNS, (v.row() for v in silent)),
        "summary_txt": write_text(
            directory, "summary.txt", result.summary_text(silent, unregistered_checkins(figures))
        ),
    }
    return replace(result, paths=paths)


def write_coverage(
    lake_root: str, result: Coverage, figures: ProvinceFigures, outputs: DayOutputs = DIRECT
) -> Coverage:
    """Write `public/coverage/date=D/{districts.csv,trend.csv}` (or where `outputs` stages it)."""
    directory = outputs.target(Lake(lake_root).public_day(bluezone.TABLE, result.day))
    districts = (
        {key: value for key, value in coverage_row(c, figures).items() if key != "scope"} for c in result.districts
    )
    paths = {
        "districts_csv": write_csv(directory, "districts.csv", bluezone.DISTRICT_COLUMNS, districts),
        "trend_csv": write_csv(
            directory, "trend.csv", bluezone.TREND_COLUMNS, (coverage_row(c, figures) for c in result.trend)
        ),
    }
    return replace(result, paths=paths)


def write_venue_risk(
    lake_root: str, ranking: VenueRiskRanking, figures: ProvinceFigures, outputs: DayOutputs = DIRECT
) -> VenueRiskRanking:
    """Write `public/venue_risk/date=D/venue_risk.csv`: the listed venues, ranked among themselves."""
    directory = outputs.target(Lake(lake_root).public_day(risk.TABLE, ranking.day))
    rows = (venue_row(rank, venue, figures) for rank, venue in listed_venues(ranking, figures))
    return replace(ranking, paths={"venue_risk_csv": write_csv(directory, "venue_risk.csv", risk.COLUMNS, rows)})
