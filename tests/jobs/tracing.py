"""Run the trace job on a built lake and read its outputs back in terms of the test's people."""

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from jobs.trace.day import EngineName, TraceResult, trace_day
from tests.jobs.lakebuilder import LakeBuilder
from tracelake.core.rules import Rules, load_rules

DAY = date(2021, 8, 3)
"""Day D of most tests: a Tuesday in Asia/Ho_Chi_Minh (UTC+7, no DST)."""


def rules_with(**changes: Any) -> Rules:
    """The shipped rules with dotted keys replaced, e.g. rules_with(**{"tiers.max_depth": 3})."""
    document = load_rules().model_dump()
    for dotted, value in changes.items():
        *path, last = dotted.split(".")
        node = document
        for key in path:
            node = node[key]
        node[last] = value
    return Rules.model_validate(document)


def read_table(directory: str) -> pa.Table:
    """A day's table: its part files in name order (Spark writes one per range of the sorted rows)."""
    parts = sorted(Path(directory).glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(part) for part in parts])


@dataclass(frozen=True)
class Traced:
    builder: LakeBuilder
    result: TraceResult

    @property
    def export(self) -> pa.Table:
        return read_table(self.result.outputs["export"])

    @property
    def curated(self) -> pa.Table:
        return read_table(self.result.outputs["exposures"])

    @property
    def contacts(self) -> pa.Table:
        return read_table(self.result.outputs["contacts"])

    @property
    def cases(self) -> pa.Table:
        return read_table(self.result.outputs["cases"])

    def tiers(self) -> dict[str, str]:
        """person_id → tier of every exposed person."""
        return {row["person_id"]: row["tier"] for row in self.export.to_pylist()}

    def tier(self, person: str) -> str | None:
        return self.tiers().get(self.builder.person_id(person))

    def row(self, person: str) -> dict[str, Any]:
        person_id = self.builder.person_id(person)
        rows = [row for row in self.export.to_pylist() if row["person_id"] == person_id]
        assert len(rows) == 1, f"{person} has {len(rows)} export rows"
        return rows[0]

    def exposures(self, person: str) -> list[tuple[str, datetime, datetime]]:
        """(channel, start, end) of every exposure of `person`, in time order."""
        pseudonym = self.builder.pseudonym(person)
        return sorted(
            (row["channel"], row["exposure_start"], row["exposure_end"])
            for row in self.contacts.to_pylist()
            if row["target_pseudonym"] == pseudonym
        )

    def case(self, person: str) -> dict[str, Any]:
        pseudonym = self.builder.pseudonym(person)
        rows = [row for row in self.cases.to_pylist() if row["person_pseudonym"] == pseudonym]
        assert len(rows) == 1, f"{person} has {len(rows)} case rows"
        return rows[0]


def run_trace(
    builder: LakeBuilder, engine: EngineName, *, day: date = DAY, rules: Rules | None = None, write: bool = True
) -> Traced:
    if write:
        builder.write()
    result = trace_day(str(builder.root), day, rules or load_rules(), vault=str(builder.vault), engine=engine)
    return Traced(builder, result)
