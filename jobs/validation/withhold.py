"""Take a day's exports out of the tracers' reach when its outputs failed validation.

The trace job writes the export of D together with the curated tables, before
the outputs' suites run. If they fail, the export (and any worklists of D)
moves to a hidden sibling, `exports/<table>/.date=D.withheld`: every reader of
the lake skips names starting with `.`, so tracers see no list for D rather
than a wrong one, and whoever investigates still finds what was produced.
"""

from datetime import date

import pyarrow.fs as pafs

from tracelake.core.lake import EXPORTS, filesystem, is_hidden, join


def withheld_name(directory: str) -> str:
    head, _, name = directory.rstrip("/").rpartition("/")
    return f"{head}/.{name}.withheld"


def withhold_export(lake_root: str, day: date) -> list[str]:
    """Move every `exports/<table>/date=D` aside; returns the tables withheld (empty if none existed)."""
    fs, root = filesystem(lake_root)
    exports = join(root, EXPORTS)
    if fs.get_file_info(exports).type != pafs.FileType.Directory:
        return []
    withheld: list[str] = []
    for table in fs.get_file_info(pafs.FileSelector(exports)):
        if table.type != pafs.FileType.Directory or is_hidden(table.base_name):
            continue
        directory = join(table.path, f"date={day.isoformat()}")
        if fs.get_file_info(directory).type != pafs.FileType.Directory:
            continue
        target = withheld_name(directory)
        if fs.get_file_info(target).type != pafs.FileType.NotFound:
            fs.delete_dir(target)
        fs.move(directory, target)
        withheld.append(table.base_name)
    return sorted(withheld)
