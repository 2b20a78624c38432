"""Two runs, A and B, of a small day D, published through `jobs.publication`; run as a script, a victim.

`python -m tests.jobs.publish_steps LAKE STRATEGY STEP N` publishes run B and
kills itself (SIGKILL, no clean-up of any kind) at the Nth step named STEP, or
publishes it `N` times over, alternating B and A, when STEP is `loop`.
STRATEGY is `local` (directory renames) or `objectstore` (file by file).
"""

import os
import signal
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pyarrow.fs as pafs

from jobs.publication import DayPublication, Step, begin, unwatched
from tests.jobs.object_store import object_store

DAY = date(2021, 8, 3)
DIRECTORIES = ("curated/contacts/date=2021-08-03", "exports/worklists/date=2021-08-03", "reports/date=2021-08-03")
FILES = ("tracelake.duckdb",)
OTHER_DAY: Mapping[str, bytes] = {
    "curated/contacts/date=2021-08-02/part-00000.parquet": b"the day before",
    "exports/worklists/date=2021-08-02/district=1/worklist.csv": b"the day before's list",
}
RUNS: Mapping[str, Mapping[str, bytes]] = {
    "A": {
        "curated/contacts/date=2021-08-03/part-00000.parquet": b"A contacts",
        "exports/worklists/date=2021-08-03/district=1/worklist.csv": b"A district 1",
        "exports/worklists/date=2021-08-03/district=2/worklist.csv": b"A district 2",
        "reports/date=2021-08-03/index.html": b"A report",
        "tracelake.duckdb": b"A analysts' file",
    },
    "B": {
        "curated/contacts/date=2021-08-03/part-00000.parquet": b"B contacts",
        "exports/worklists/date=2021-08-03/district=2/worklist.csv": b"B district 2",
        "exports/worklists/date=2021-08-03/district=3/worklist.csv": b"B district 3",
        "tracelake.duckdb": b"B analysts' file",
    },
}
"""B lists other districts than A and has no report: what A had and B has not must go."""


def store(strategy: str) -> pafs.FileSystem | None:
    return object_store() if strategy == "objectstore" else None


def publish(lake: Path, run: str, strategy: str, on_step: Step = unwatched) -> DayPublication:
    fs = store(strategy)
    publication = begin(
        str(lake), DAY, directories=[str(lake / d) for d in DIRECTORIES], files=[str(lake / f) for f in FILES],
        on_step=on_step, filesystem=fs,
    )
    writer = fs or pafs.LocalFileSystem()
    for relative, content in RUNS[run].items():
        staged = publication.target(str(lake / relative))
        writer.create_dir(staged.rpartition("/")[0], recursive=True)
        with writer.open_output_stream(staged) as stream:
            stream.write(content)
    publication.publish()
    return publication


def kill_at(step: str, count: int) -> Step:
    seen = 0

    def watch(name: str) -> None:
        nonlocal seen
        if name == step:
            seen += 1
            if seen == count:
                os.kill(os.getpid(), signal.SIGKILL)

    return watch


def main(lake: Path, strategy: str, step: str, count: int) -> None:
    if step == "loop":
        for turn in range(count):
            publish(lake, "BA"[turn % 2], strategy)
        return
    publish(lake, "B", strategy, kill_at(step, count))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]))
