"""What a person sees in the terminal: one console, stage progress bars with counts and rates."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

console = Console(highlight=False)


class Advance(Protocol):
    def __call__(self, stage: str, count: int) -> None: ...


class _RateColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # type: ignore[no-untyped-def]
        speed = task.finished_speed or task.speed
        return self.text_format if speed is None else f"{speed:,.0f}/s"


@contextmanager
def stage_progress(title: str, total: int | None = None) -> Iterator[Advance]:
    """A progress bar per sub-stage; callers report `(stage, count so far)`."""
    columns = [
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn() if total else TextColumn("{task.completed:,.0f}"),
        _RateColumn(),
        TimeElapsedColumn(),
    ]
    tasks: dict[str, TaskID] = {}
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as progress:

        def advance(stage: str, count: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(f"{title}: {stage}", total=total)
            progress.update(tasks[stage], completed=count)

        yield advance
