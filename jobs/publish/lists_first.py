"""The tracers' lists first: D's new tables and the worklists built from them, published before the rest of D.

When a case is confirmed during D, the tracers need the new F0's F1s and F2s
on their lists within a minute, while everything else built from D's tables
(the province's tables, the public and tracers' reports, the analysts' file)
takes longer than that on a large province. The on-case run therefore
publishes D twice. Its trace stages into a run that replaces D's traced
tables and only the tracers' lists (`begin_lists_first`); once validated,
the diff against the previous day and the worklists and notification lists
are built from those tables and the run is published (`publish_lists`). The
export then publishes the rest of D anew from the tables now published
(`jobs.publish.day.export_day` without a held run), the lists again among it.

In between, the tracers' area holds D's new tables with lists made from them,
and every other output of D is still the one the previous run published,
whole and consistent with the tables it was built from: nothing mixes the two.
"""

from collections.abc import Mapping
from datetime import date

from jobs.publication import DayPublication, begin
from jobs.publish.changes import changes_directories, write_changes
from jobs.publish.worklists import WorklistSummary, write_worklists
from jobs.trace.day import absolute_root
from tracelake.core.lake import NOTIFICATIONS, WORKLISTS, Lake
from tracelake.core.rules import Rules


def lists_directories(lake: Lake, day: date) -> list[str]:
    """D's directories the lists-first run replaces besides the traced ones: the lists and what they read."""
    return [lake.export_day(WORKLISTS, day), lake.export_day(NOTIFICATIONS, day), *changes_directories(lake, day)]


def begin_lists_first(lake_root: str, day: date) -> DayPublication:
    """A run of D replacing its traced tables and the tracers' lists, and nothing else built from them."""
    lake = Lake(absolute_root(lake_root))
    return begin(lake.root, day, directories=[*lake.traced_directories(day), *lists_directories(lake, day)])


def publish_lists(
    lake_root: str,
    day: date,
    rules: Rules,
    *,
    vault: str,
    publication: DayPublication | None = None,
    capacity: Mapping[str, int] | None = None,
) -> tuple[DayPublication, WorklistSummary]:
    """Build D's diff, worklists and notification lists from the tables `publication` staged, and publish it.

    `publication` is a run begun by `begin_lists_first`, its tables validated.
    Without one (a retry after the run was published, a task cleared by hand),
    the lists are built again from D's published tables in a run of their own.
    `capacity` as for `jobs.publish.day.export_day`. Returns the run published.
    """
    lake_root = absolute_root(lake_root)
    if publication is None:
        publication = begin(lake_root, day, directories=lists_directories(Lake(lake_root), day))
    changes = write_changes(lake_root, day, rules, vault=vault, outputs=publication)
    worklists = write_worklists(
        lake_root, day, rules, vault=vault, outputs=publication, capacity=capacity, changes=changes.statuses
    )
    publication.publish()
    return publication, worklists
