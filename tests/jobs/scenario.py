"""Many small, independent stories in one lake, traced once per engine.

Starting Spark jobs costs seconds, so the rule tests do not trace one lake
each: every test declares a *cell* (its own people and venues, next to its
assertions), all cells land in one lake, and a module-scoped fixture traces it
once per engine. Cells never share a person or a venue, so one cell's result
cannot depend on another's.

Times in cells are local wall-clock strings: "HH:MM[:SS[.ffffff]]" on day D,
or "YYYY-MM-DD HH:MM..." on any day.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tests.jobs.lakebuilder import LakeBuilder
from tests.jobs.tracing import DAY, Traced

DEFAULT_REPORTED = "2021-08-02 09:00"
DEFAULT_SAMPLE = "2021-08-02"
"""An F0 confirmed the day before D: window from 2021-07-31 00:00 local to the end of D."""


def local_text(text: str, day: date = DAY) -> str:
    return text if text[:4].isdigit() and text[4:5] == "-" else f"{day.isoformat()} {text}"


@dataclass
class Cell:
    name: str
    index: int
    builder: LakeBuilder
    people: dict[str, str] = field(default_factory=dict)

    def person(self, label: str) -> str:
        """A phone number of its own for each label of this cell."""
        if label not in self.people:
            self.people[label] = f"09{self.index:03d}{len(self.people):05d}"
        return self.people[label]

    def venue(self, label: str) -> str:
        return f"{self.name}/{label}"

    def at(self, text: str) -> datetime:
        return self.builder.at(local_text(text))

    def confirmed(
        self,
        label: str,
        reported: str = DEFAULT_REPORTED,
        sample: str = DEFAULT_SAMPLE,
        onset: str | None = None,
        **kafka: Any,
    ) -> str:
        return self.builder.case(
            self.person(label), "confirmed", local_text(reported), sample_date=sample, onset_date=onset, **kafka
        )

    def case(self, label: str, kind: str, reported: str, **fields: Any) -> str:
        if fields.get("isolated_at") is not None:
            fields["isolated_at"] = local_text(fields["isolated_at"])
        return self.builder.case(self.person(label), kind, local_text(reported), **fields)

    def checkin(self, label: str, venue: str, start: str, end: str | None = None, **fields: Any) -> str:
        return self.builder.checkin(
            self.person(label), self.venue(venue), local_text(start), None if end is None else local_text(end), **fields
        )

    def sighting(self, reporter: str, contact: str, at: str, rssi: int = -60, **fields: Any) -> str:
        return self.builder.sighting(self.person(reporter), self.person(contact), local_text(at), rssi, **fields)

    def encounter(
        self, reporter: str, contact: str, start: str, end: str, every_minutes: float = 5, **fields: Any
    ) -> None:
        """Sightings from `start` to `end` (both included) every few minutes, by `reporter`."""
        moment = datetime.fromisoformat(local_text(start))
        last = datetime.fromisoformat(local_text(end))
        step = timedelta(minutes=every_minutes)
        while moment <= last:
            self.sighting(reporter, contact, moment.isoformat(sep=" "), **fields)
            moment += step


CellStory = Callable[[Cell], None]


class Scenario:
    """A registry of cells: decorate a function `def name(cell): ...` with `@scenario.cell`."""

    def __init__(self) -> None:
        self.stories: dict[str, CellStory] = {}

    def cell(self, story: CellStory) -> CellStory:
        assert story.__name__ not in self.stories, f"two cells named {story.__name__}"
        self.stories[story.__name__] = story
        return story

    def build(self, builder: LakeBuilder, first_index: int = 1) -> dict[str, Cell]:
        cells: dict[str, Cell] = {}
        for index, (name, story) in enumerate(self.stories.items(), start=first_index):
            cells[name] = Cell(name, index, builder)
            story(cells[name])
        builder.write()
        return cells


@dataclass(frozen=True)
class CellView:
    """A traced lake seen through one cell's labels."""

    traced: Traced
    cell: Cell

    def tier(self, label: str) -> str | None:
        return self.traced.tier(self.cell.person(label))

    def tiers(self) -> dict[str, str]:
        """label → tier for the exposed people of this cell."""
        everyone = self.traced.tiers()
        labels = {self.traced.builder.person_id(phone): label for label, phone in self.cell.people.items()}
        return {labels[person_id]: tier for person_id, tier in everyone.items() if person_id in labels}

    def row(self, label: str) -> dict[str, Any]:
        return self.traced.row(self.cell.person(label))

    def exposures(self, label: str) -> list[tuple[str, datetime, datetime]]:
        return self.traced.exposures(self.cell.person(label))

    def case(self, label: str) -> dict[str, Any]:
        return self.traced.case(self.cell.person(label))

    def person_id(self, label: str) -> str:
        return self.traced.builder.person_id(self.cell.person(label))

    def at(self, text: str) -> datetime:
        return self.cell.at(text)


@dataclass(frozen=True)
class TracedScenario:
    traced: Traced
    cells: dict[str, Cell]

    def __getitem__(self, name: str) -> CellView:
        return CellView(self.traced, self.cells[name])
