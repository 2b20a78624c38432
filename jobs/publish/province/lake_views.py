"""The lake tables a province run reads, opened once and shared as DuckDB views.

Times become UTC epoch microseconds here, and local days come from a calendar
built with `tracelake.core.days` (Python's zoneinfo): SQL compares integers and never
needs a time-zone database. Raw topics are read with the lander's day of margin
and filtered on exact instants, like the trace job; rows it cannot use are
skipped with its checks (`jobs.trace.usable`), and each `event_id` counts once (the
first copy by plausible landed_at, partition and offset, as the trace keeps it).
Venues carry no event time, so the lander files them under the day they
landed: every `venues` partition is read, and the latest registration wins.
Tables are loaded on first use, so a run that never asks for sightings never
reads them.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from jobs.publication import DIRECT, DayOutputs
from jobs.trace.duckdb.usable import checked_columns, judged_against, plausible_landing, release, usable
from jobs.trace.usable import CHECKS
from schemas.lake import CASES, CONTACTS, RAW
from tracelake.core import duckdb_memory
from tracelake.core.days import duration_micros, local_midnight
from tracelake.core.days import epoch_micros as micros
from tracelake.core.lake import Lake, children, filesystem, is_part_file, partition_day
from tracelake.core.rules import Rules


class ProvinceInputError(RuntimeError):
    """A table the province outputs cannot do without is missing from the lake."""


def _segments(fs: pafs.FileSystem, directory: str) -> list[str]:
    return sorted(
        info.path
        for info in children(fs, directory)
        if info.type == pafs.FileType.File and is_part_file(info.base_name)
    )


def _to_micros(table: pa.Table, columns: tuple[str, ...]) -> pa.Table:
    """Replace each timestamp column `x_at` / `x` by an int64 column `x_us`."""
    for name in columns:
        position = table.schema.get_field_index(name)
        values = pc.cast(table.column(name), pa.int64())
        stem = name.removesuffix("_at")
        table = table.set_column(position, f"{stem}_us", values)
    return table


@dataclass(frozen=True)
class RunBounds:
    """Day D's instants as epoch microseconds, and the rules' durations, for SQL."""

    day: date
    day_start_us: int
    day_end_us: int
    lookback_start_us: int
    default_stay_us: int
    linger_us: int

    @classmethod
    def of(cls, day: date, rules: Rules) -> "RunBounds":
        return cls(
            day=day,
            day_start_us=micros(local_midnight(day, rules.zone)),
            day_end_us=micros(local_midnight(day + timedelta(days=1), rules.zone)),
            lookback_start_us=micros(local_midnight(day - timedelta(days=rules.lookback_days), rules.zone)),
            default_stay_us=duration_micros(rules.default_stay),
            linger_us=duration_micros(rules.linger),
        )


@dataclass
class ProvinceSources:
    """A DuckDB connection over day D's inputs; `require(view)` loads a view and what it needs.

    Views (all times in epoch microseconds, `*_day` a local date):
    - `run`: one row of `RunBounds`;
    - `calendar(day, day_start_us, day_end_us)`: the lookback's local days, D included;
    - `venue`: the latest registration of each venue (last by landed_at NULLS FIRST, kafka_partition, kafka_offset);
    - `checkin(event_id, person, venue_id, checkin_us, leave_us)`: one row per check-in up to
      the end of D, `leave_us` the checkout or checkin + default stay (no linger);
    - `f0_window(person, window_start_us, window_end_us)`: confirmed cases of D, non-empty windows;
    - `f0_stay(event_id, person, venue_id, watched_start_us, watched_end_us)`: an F0's stay with the
      linger, clipped to its window and the lookback, non-empty;
    - `contact`: the contact graph of D;
    - `bluezone_person_day(person, day)`: who appears in a sighting (either side) on a lookback day.
    """

    lake: Lake
    day: date
    rules: Rules
    bounds: RunBounds
    connection: duckdb.DuckDBPyConnection
    _loaded: set[str] = field(default_factory=set)
    outputs: DayOutputs = DIRECT
    """Where D's curated tables are read and the outputs written (a publication's staging tree)."""

    @classmethod
    def open(cls, lake_root: str, day: date, rules: Rules, outputs: DayOutputs = DIRECT) -> "ProvinceSources":
        bounds = RunBounds.of(day, rules)
        sources = cls(Lake(lake_root), day, rules, bounds, duckdb_memory.connect(), outputs=outputs)
        sources.connection.register("run", pa.Table.from_pylist([asdict(bounds)]))
        return sources

    def close(self) -> None:
        self.connection.close()

    @property
    def lookback_days(self) -> list[date]:
        """D - lookback_days .. D, oldest first."""
        first = self.day - timedelta(days=self.rules.lookback_days)
        return [first + timedelta(days=offset) for offset in range(self.rules.lookback_days + 1)]

    def require(self, *views: str) -> None:
        loaders: dict[str, Callable[[], None]] = {
            "calendar": self._calendar,
            "venue": self._venue,
            "checkin": self._checkin,
            "f0_window": self._f0_window,
            "f0_stay": self._f0_stay,
            "contact": self._contact,
            "bluezone_person_day": self._bluezone_person_day,
        }
        for view in views:
            if view not in self._loaded:
                loaders[view]()
                self._loaded.add(view)

    @property
    def _margin(self) -> date:
        """The last partition an event of D may sit in when the lander's time zone differs from the rules'."""
        return self.day + timedelta(days=1)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql).fetchall()

    def table(self, sql: str) -> pa.Table:
        return self.connection.sql(sql).to_arrow_table()

    # -- readers ---------------------------------------------------------

    def _raw(
        self, topic: str, columns: list[str], first: date | None, last: date | None, *, deduplicate: bool = True
    ) -> pa.Table:
        """Usable rows of a raw topic from partitions [first, last] (None: no bound that side), each event once.

        Rows the trace cannot use (`jobs.trace.usable`) are skipped as it skips them, before resends are counted.

        `venues` is a compacted topic whose `event_id` is optional: its rows are not deduplicated,
        the latest registration of a venue wins instead.
        """
        fs, root = filesystem(self.lake.root)
        files: list[str] = []
        for partition in children(fs, Lake(root).raw(topic)):
            day = partition_day(partition.base_name)
            if partition.type != pafs.FileType.Directory or day is None:
                continue
            if (last is not None and day > last) or (first is not None and day < first):
                continue
            files.extend(_segments(fs, partition.path))
        schema = RAW[topic]
        checked = checked_columns(topic) if topic in CHECKS else ()
        wanted = [*columns, *checked, "event_id", "landed_at", "kafka_partition", "kafka_offset"]
        events = ds.dataset(files, schema=schema, filesystem=fs, format="parquet").to_table(
            columns=list(dict.fromkeys(wanted))
        )
        if not deduplicate:
            return events
        name = f"_raw_{topic}"
        self.connection.register(name, events)
        judged = usable(judged_against(self.connection, topic, name, {}, zone=self.rules.zone)) if checked else name
        rows = f"(SELECT * REPLACE ({plausible_landing()} AS landed_at) FROM {judged})"
        first_copies = self.table(
            f"""
            SELECT * EXCLUDE (copy) FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY event_id ORDER BY landed_at NULLS FIRST, kafka_partition, kafka_offset) AS copy
                FROM {rows}
            ) WHERE copy = 1
            """
        )
        if checked:
            release(self.connection, topic)
        self.connection.unregister(name)
        return first_copies

    def _curated(self, table: str, schema: pa.Schema) -> ds.Dataset:
        """D's curated `table` as a dataset DuckDB reads lazily: only the columns and rows a query needs."""
        fs, directory = filesystem(self.outputs.source(self.lake.curated_day(table, self.day)))
        files = _segments(fs, directory)
        if not files:
            raise ProvinceInputError(
                f"no curated {table} for {self.day.isoformat()} in {self.lake.curated_day(table, self.day)}: "
                f"run the trace job for that day first"
            )
        return ds.dataset(files, schema=schema, filesystem=fs, format="parquet")

    # -- views -----------------------------------------------------------

    def _calendar(self) -> None:
        zone = self.rules.zone
        days = self.lookback_days
        self.connection.register("calendar", pa.table({
            "day": days,
            "day_start_us": [micros(local_midnight(d, zone)) for d in days],
            "day_end_us": [micros(local_midnight(d + timedelta(days=1), zone)) for d in days],
        }))

    def _venue(self) -> None:
        columns = ["venue_id", "name", "district_code", "province_code", "kind", "lat", "lon"]
        registrations = self._raw("venues", columns, None, None, deduplicate=False)
        self.connection.register("_venue_registrations", registrations)
        self.connection.execute(
            """
            CREATE TEMP TABLE venue AS
            SELECT venue_id, name, district_code, province_code, kind, lat, lon
            FROM _venue_registrations
            QUALIFY row_number() OVER (
                PARTITION BY venue_id ORDER BY landed_at DESC NULLS LAST, kafka_partition DESC, kafka_offset DESC) = 1
            """
        )

    def _checkin(self) -> None:
        checkins = _to_micros(
            self._raw("checkins", ["person_pseudonym", "venue_id", "checkin_at", "checkout_at"], None, self._margin),
            ("checkin_at", "checkout_at"),
        )
        self.connection.register("_checkins", checkins)
        self.connection.execute(
            """
            CREATE TEMP TABLE checkin AS
            SELECT event_id, person_pseudonym AS person, venue_id, checkin_us,
                   coalesce(checkout_us, checkin_us + run.default_stay_us) AS leave_us
            FROM _checkins CROSS JOIN run
            WHERE checkin_us < run.day_end_us
            """
        )

    def _f0_window(self) -> None:
        cases = _to_micros(self._curated("cases", CASES).to_table(), ("window_start", "window_end", "isolated_at"))
        self.connection.register("_cases", cases)
        self.connection.execute(
            """
            CREATE TEMP TABLE f0_window AS
            SELECT person_pseudonym AS person, window_start_us, window_end_us
            FROM _cases
            WHERE status = 'confirmed' AND window_start_us < window_end_us
            """
        )

    def _f0_stay(self) -> None:
        self.require("checkin", "f0_window")
        self.connection.execute(
            """
            CREATE TEMP TABLE f0_stay AS
            SELECT * FROM (
                SELECT c.event_id, c.person, c.venue_id,
                       greatest(c.checkin_us, w.window_start_us, run.lookback_start_us) AS watched_start_us,
                       least(c.leave_us + run.linger_us, w.window_end_us, run.day_end_us) AS watched_end_us
                FROM checkin AS c JOIN f0_window AS w USING (person) CROSS JOIN run
            ) WHERE watched_start_us < watched_end_us
            """
        )

    def _contact(self) -> None:
        """D's contacts, read as queries need them (a province's day has millions): instants as `_us`."""
        self.connection.register("_contact_files", self._curated("contacts", CONTACTS))
        self.connection.execute(
            """
            CREATE TEMP VIEW contact AS
            SELECT * EXCLUDE (exposure_start, exposure_end),
                   epoch_us(exposure_start) AS exposure_start_us, epoch_us(exposure_end) AS exposure_end_us
            FROM _contact_files
            """
        )

    def _bluezone_person_day(self) -> None:
        self.require("calendar")
        first = self.day - timedelta(days=self.rules.lookback_days + 1)
        sightings = _to_micros(
            self._raw("proximity", ["reporter_pseudonym", "contact_pseudonym", "observed_at"], first, self._margin),
            ("observed_at",),
        )
        self.connection.register("_sightings", sightings)
        self.connection.execute(
            """
            CREATE TEMP TABLE bluezone_person_day AS
            WITH side AS (
                SELECT reporter_pseudonym AS person, observed_us FROM _sightings
                UNION ALL
                SELECT contact_pseudonym AS person, observed_us FROM _sightings
            )
            SELECT DISTINCT side.person, calendar.day
            FROM side JOIN calendar
              ON side.observed_us >= calendar.day_start_us AND side.observed_us < calendar.day_end_us
            """
        )


@contextmanager
def opened(lake_root: str, day: date, rules: Rules, sources: ProvinceSources | None) -> Iterator[ProvinceSources]:
    """The caller's sources when it shares them across outputs, else fresh ones closed on exit."""
    if sources is not None:
        if sources.day != day or sources.lake.root != lake_root:
            raise ValueError(
                f"sources opened for {sources.lake.root} on {sources.day}, asked for {lake_root} on {day}"
            )
        yield sources
        return
    fresh = ProvinceSources.open(lake_root, day, rules)
    try:
        yield fresh
    finally:
        fresh.close()
