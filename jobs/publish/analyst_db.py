"""The analysts' DuckDB file: the lake's pseudonymized tables, copied into one self-sufficient file.

Analysts get one file, `tracelake.duckdb` at the lake root. Its tables are
materialized when the file is built, from the analyst area of the lake only
(raw venues and case reports, the curated tables, quarantine reasons, run
manifests), and its views and macros read only those tables: no definition in
the file names a path. So the file answers its queries when nothing else is
readable (copied to a laptop, or opened by someone granted only this file),
and it cannot reach the tracers' `exports/` or the identity vault, which hold
raw phone numbers and citizen IDs. Raw check-ins and sightings stay out (at
province scale they would make the file as large as the raw lake): the file
keeps their counts per topic and day in `landed_events`.

The same definitions back the tracers' worklists and the daily report
(`register_lake_views` on an in-memory connection, reading the lake's Parquet
directly), so a district count means the same thing in all three places.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from jobs.publication import DIRECT, DayOutputs
from jobs.publish.changes import CHANGES_CURATED
from jobs.trace.duckdb.usable import usable_view
from schemas.lake import CASES, CONTACTS, EXPOSURES_CURATED, PREDICTION, QUARANTINE, RAW, SENSOR_QUALITY
from schemas.staff_check import STAFF_CHECK_AGENCIES
from tracelake.core import duckdb_memory
from tracelake.core.lake import CURATED, DUCKDB_FILE, MANIFESTS, PUBLIC, building_atomically
from tracelake.core.lake import QUARANTINE as QUARANTINE_DIR
from tracelake.core.lake import RAW as RAW_DIR
from tracelake.core.rules import Rules, load_rules

SUPPRESS_BELOW = 5
"""District counts under this are shown as NULL: a small count in a small place names people."""

UNKNOWN_DISTRICT = "unknown"


@dataclass(frozen=True)
class ParquetView:
    """One view over a partitioned Parquet table of the lake."""

    name: str
    pattern: str
    """Glob under the lake root; `*.parquet` never matches a `.name.parquet.inprogress` file."""
    schema: pa.Schema
    hidden: tuple[str, ...] = ()
    """Columns analysts must not see (the quarantine's raw bytes hold raw phone numbers)."""
    doc: str = ""


PARQUET_VIEWS: tuple[ParquetView, ...] = (
    ParquetView("raw_checkins", f"{RAW_DIR}/checkins/date=*/*.parquet", RAW["checkins"],
                doc="Landed check-ins, one row per event as landed (a resent event_id may appear twice)."),
    ParquetView("raw_sightings", f"{RAW_DIR}/proximity/date=*/*.parquet", RAW["proximity"],
                doc="Landed Bluetooth sightings."),
    ParquetView("raw_case_reports", f"{RAW_DIR}/case_reports/date=*/*.parquet", RAW["case_reports"],
                doc="Landed case reports (confirmed, isolated, discarded)."),
    ParquetView("raw_venues", f"{RAW_DIR}/venues/date=*/*.parquet", RAW["venues"],
                doc="Every version of every venue; see `venues` for the latest."),
    ParquetView("contacts", f"{CURATED}/contacts/date=*/*.parquet", CONTACTS,
                doc="The contact graph of each run day: one edge per exposure."),
    ParquetView("exposures", f"{CURATED}/exposures/date=*/*.parquet", EXPOSURES_CURATED,
                doc="F1/F2 of each run day, one row per exposed person (pseudonyms)."),
    ParquetView("cases", f"{CURATED}/cases/date=*/*.parquet", CASES,
                doc="Case status per person as of each run day."),
    ParquetView("prediction", f"{CURATED}/prediction/date=*/*.parquet", PREDICTION,
                doc="How well each rule predicts: per group of F1 flags up to each day, how many became F0 "
                    "within the follow-up, with a 95 % Wilson interval."),
    ParquetView("sensor_quality", f"{CURATED}/sensor_quality/date=*/*.parquet", SENSOR_QUALITY,
                doc="Bluetooth sensor checks of each day (clock skew, bursts, RSSI outliers): counted, not filtered."),
    ParquetView("changes", f"{CURATED}/changes/date=*/*.parquet", CHANGES_CURATED,
                doc="What changed per person since the previous published day (new, upgraded, late, changed, "
                    "unchanged, retracted)."),
    ParquetView("quarantine", f"{QUARANTINE_DIR}/*/date=*/*.parquet", QUARANTINE, hidden=("raw_value",),
                doc="Rejected events with their reason (without the raw message)."),
    ParquetView("staff_check_agencies", f"{PUBLIC}/staff_check_agencies/date=*/*.parquet", STAFF_CHECK_AGENCIES,
                doc="Agency staff checks: per agency and unit, staff and the shares seen checking in or in Bluezone "
                    "(counts of 1 to 9 read <10)."),
)

MANIFEST_PATTERN = f"{MANIFESTS}/trace/date=*/manifest.json"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _absolute_root(lake_root: str) -> str:
    """An absolute location, so the views work from any working directory."""
    if "://" in lake_root:
        return lake_root.rstrip("/")
    return str(Path(lake_root).resolve())


def _has_files(con: duckdb.DuckDBPyConnection, reader: str) -> bool:
    try:
        con.execute(f"SELECT 1 FROM {reader} LIMIT 0")
    except duckdb.IOException as exc:
        if "No files found" in str(exc):
            return False
        raise
    return True


def _empty_select(con: duckdb.DuckDBPyConnection, schema: pa.Schema, hidden: Sequence[str]) -> str:
    """A typed, empty SELECT with the table's columns plus its `date` partition column."""
    con.register("_tracelake_empty", schema.empty_table())
    try:
        described = con.execute("DESCRIBE SELECT * FROM _tracelake_empty").fetchall()
    finally:
        con.unregister("_tracelake_empty")
    columns = [f'CAST(NULL AS {kind}) AS "{name}"' for name, kind, *_ in described if name not in hidden]
    columns.append('CAST(NULL AS DATE) AS "date"')
    return f"SELECT {', '.join(columns)} WHERE false"


def _readers(
    con: duckdb.DuckDBPyConnection, function: str, root: str, pattern: str, outputs: DayOutputs
) -> list[str]:
    """`FROM ...` clauses that read a day-partitioned table, as far as it has files.

    While a run of D is being built, D's partition is read from where the run
    staged it and the published one of D is left out.
    """
    table, _, files = pattern.partition("/date=*/")
    options = "hive_partitioning = true, union_by_name = true, hive_types = {'date': 'DATE'}"
    published = f"{function}({_quote(root + '/' + pattern)}, {options})"
    replaced = outputs.replaced_partition(root + "/" + table)
    if replaced is None:
        candidates = [published]
    else:
        day, staged = replaced
        candidates = [f"{published} WHERE date <> DATE '{day.isoformat()}'",
                      f"{function}({_quote(staged + '/' + files)}, {options})"]
    return [reader for reader in candidates if _has_files(con, reader.partition(" WHERE ")[0])]


def _parquet_select(con: duckdb.DuckDBPyConnection, root: str, view: ParquetView, outputs: DayOutputs) -> str:
    selects = []
    for reader in _readers(con, "read_parquet", root, view.pattern, outputs):
        # Only files landed before a hidden column left the schema still carry it.
        source = reader.partition(" WHERE ")[0]
        landed = {name for name, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        hidden = [name for name in view.hidden if name in landed]
        exclude = f" EXCLUDE ({', '.join(hidden)})" if hidden else ""
        selects.append(f"SELECT *{exclude} FROM {reader}")
    # The typed empty select gives every column of the schema, null in files landed before it existed.
    return " UNION ALL BY NAME ".join([*selects, _empty_select(con, view.schema, view.hidden)])


def _manifest_select(con: duckdb.DuckDBPyConnection, root: str, outputs: DayOutputs) -> str:
    readers = _readers(con, "read_json", root, MANIFEST_PATTERN, outputs)
    if not readers:
        return 'SELECT CAST(NULL AS DATE) AS "date" WHERE false'
    return " UNION ALL BY NAME ".join(f"SELECT * FROM {reader}" for reader in readers)


def _derived_views(rules: Rules) -> dict[str, str]:
    """Views computed from the base views; the district rule lives here, once for all consumers."""
    zone = _quote(rules.timezone)
    return {
        "venues": """
            SELECT venue_id, name, district_code, province_code, kind, lat, lon, kafka_offset, date AS landed_date
            FROM raw_venues
            QUALIFY row_number() OVER (
                PARTITION BY venue_id
                ORDER BY landed_at DESC NULLS LAST, kafka_partition DESC, kafka_offset DESC, date DESC) = 1
        """,
        # One district per exposed person and run day: the district of the registered venue of
        # their most recent venue exposure; else (Bluetooth only, or an unregistered venue) the
        # district of the registered venue they checked in at most often in the lookback (check-ins the
        # trace can use, `jobs.trace.usable`); else unknown. Each choice is an ordered `first` per person,
        # which DuckDB keeps as one running pick per group, not a window that sorts every contact of the day.
        "exposure_districts": f"""
            WITH by_exposure AS (
                SELECT date, person_pseudonym, chosen.district_code, chosen.venue_id FROM (
                    SELECT c.date, c.target_pseudonym AS person_pseudonym,
                           first({{'district_code': v.district_code, 'venue_id': c.venue_id}}
                                 ORDER BY c.exposure_end DESC, c.exposure_minutes DESC, c.venue_id) AS chosen
                    FROM contacts c JOIN venues v ON v.venue_id = c.venue_id
                    WHERE c.channel = 'venue'
                    GROUP BY c.date, c.target_pseudonym
                )
            ),
            visits AS (
                SELECT e.date, e.person_pseudonym, ci.venue_id, v.district_code,
                       count(DISTINCT ci.event_id) AS visits, max(ci.checkin_at) AS latest_visit
                FROM exposures e
                JOIN {usable_view("checkins", "raw_checkins")} ci ON ci.person_pseudonym = e.person_pseudonym
                JOIN venues v ON v.venue_id = ci.venue_id
                WHERE CAST(ci.checkin_at AT TIME ZONE {zone} AS DATE)
                      BETWEEN e.date - {rules.lookback_days} AND e.date
                GROUP BY ALL
            ),
            by_checkins AS (
                SELECT date, person_pseudonym, chosen.district_code, chosen.venue_id FROM (
                    SELECT date, person_pseudonym,
                           first({{'district_code': district_code, 'venue_id': venue_id}}
                                 ORDER BY visits DESC, latest_visit DESC, venue_id) AS chosen
                    FROM visits
                    GROUP BY date, person_pseudonym
                )
            )
            SELECT e.date, e.person_pseudonym, e.tier,
                   coalesce(x.district_code, k.district_code, '{UNKNOWN_DISTRICT}') AS district_code,
                   CASE WHEN x.district_code IS NOT NULL THEN 'exposure_venue'
                        WHEN k.district_code IS NOT NULL THEN 'checkin_venue'
                        ELSE '{UNKNOWN_DISTRICT}' END AS district_basis,
                   coalesce(x.venue_id, k.venue_id) AS district_venue_id
            FROM exposures e
            LEFT JOIN by_exposure x USING (date, person_pseudonym)
            LEFT JOIN by_checkins k USING (date, person_pseudonym)
        """,
        "district_exposures": f"""
            SELECT date, district_code, tier,
                   CASE WHEN count(*) < {SUPPRESS_BELOW} THEN NULL ELSE count(*) END AS exposed,
                   count(*) < {SUPPRESS_BELOW} AS suppressed
            FROM exposure_districts
            GROUP BY date, district_code, tier
        """,
    }


def register_lake_views(
    con: duckdb.DuckDBPyConnection, lake_root: str, rules: Rules | None = None, outputs: DayOutputs = DIRECT
) -> tuple[str, ...]:
    """Create every analysts' view in `con`; returns their names, base views first.

    `outputs` says where a run being built reads its day's tables from (`jobs.publication`).
    """
    rules = rules or load_rules()
    root = _absolute_root(lake_root)
    names = list(register_parquet_views(con, lake_root, outputs))
    con.execute(f"CREATE OR REPLACE VIEW run_manifests AS {_manifest_select(con, root, outputs)}")
    names.append("run_manifests")
    for name, sql in _derived_views(rules).items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
        names.append(name)
    _create_macros(con, rules)
    return tuple(names)


def register_parquet_views(
    con: duckdb.DuckDBPyConnection, lake_root: str, outputs: DayOutputs = DIRECT, names: Sequence[str] | None = None
) -> tuple[str, ...]:
    """Create (or create again) the views over the lake's Parquet tables, all or those `names`, as they are now."""
    root = _absolute_root(lake_root)
    wanted = [view for view in PARQUET_VIEWS if names is None or view.name in names]
    unknown = set(names or ()) - {view.name for view in wanted}
    if unknown:
        raise ValueError(f"no Parquet view named {', '.join(sorted(unknown))}")
    for view in wanted:
        con.execute(f"CREATE OR REPLACE VIEW {view.name} AS {_parquet_select(con, root, view, outputs)}")
    return tuple(view.name for view in wanted)


def derived_view_sql(rules: Rules, name: str) -> str:
    """The SQL of one derived view (`venues`, `exposure_districts`, `district_exposures`)."""
    return _derived_views(rules)[name]


def _create_macros(con: duckdb.DuckDBPyConnection, rules: Rules) -> None:
    zone = _quote(rules.timezone)
    con.execute(f"CREATE OR REPLACE MACRO local_time(instant) AS instant AT TIME ZONE {zone}")
    con.execute(f"CREATE OR REPLACE MACRO local_day(instant) AS CAST(instant AT TIME ZONE {zone} AS DATE)")


MATERIALIZED: tuple[str, ...] = (
    "raw_venues",
    "raw_case_reports",
    "contacts",
    "exposures",
    "cases",
    "changes",
    "prediction",
    "sensor_quality",
    "quarantine",
    "run_manifests",
    "exposure_districts",
    "staff_check_agencies",
)
"""Lake views copied into the file as tables: what the worked queries and the file's own views read."""

FILE_VIEWS: tuple[str, ...] = ("venues", "district_exposures")
"""Derived views kept as views in the file: their SQL reads only materialized tables."""

LANDED_TOPICS: dict[str, str] = {
    "checkins": "raw_checkins",
    "proximity": "raw_sightings",
    "case_reports": "raw_case_reports",
    "venues": "raw_venues",
}

LAKE_CATALOG = "lake"
"""An in-memory catalog, attached only while the file is built, that holds the views over the Parquet."""


def _landed_events_select(catalog: str) -> str:
    return " UNION ALL ".join(
        f"SELECT '{topic}' AS topic, date, count(*) AS events FROM {catalog}.main.{view} GROUP BY date"
        for topic, view in LANDED_TOPICS.items()
    )


def _copy_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """Materialize the lake views of `catalog` into `con`'s current database."""
    for name in MATERIALIZED:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {catalog}.main.{name}")
    con.execute(f"CREATE TABLE landed_events AS {_landed_events_select(catalog)} ORDER BY topic, date")


def _create_file_views(con: duckdb.DuckDBPyConnection, day: date | None, rules: Rules) -> None:
    """The file's own views and macros, in `con`'s current database, reading only its tables."""
    derived = _derived_views(rules)
    for name in FILE_VIEWS:
        con.execute(f"CREATE VIEW {name} AS {derived[name]}")
    if day is not None:
        con.execute(f"CREATE VIEW latest_day AS SELECT DATE '{day.isoformat()}' AS day")
    else:
        con.execute(
            "CREATE VIEW latest_day AS SELECT max(date) AS day FROM ("
            "SELECT date FROM run_manifests UNION ALL SELECT date FROM exposures UNION ALL SELECT date FROM cases)"
        )
    _create_macros(con, rules)


def fill_analyst_db(
    con: duckdb.DuckDBPyConnection, lake_root: str, day: date | None, rules: Rules, outputs: DayOutputs = DIRECT
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Materialize the analysts' tables and views into `con`'s database; returns (tables, views).

    The views over the lake's Parquet live in an in-memory catalog attached for
    the build and detached after it, so nothing that names a path is saved.
    """
    target = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute(f"ATTACH ':memory:' AS {LAKE_CATALOG}")
    try:
        con.execute(f"USE {LAKE_CATALOG}")
        register_lake_views(con, lake_root, rules, outputs)
        con.execute(f'USE "{target}"')
        _copy_tables(con, LAKE_CATALOG)
    finally:
        con.execute(f'USE "{target}"')
        con.execute(f"DETACH {LAKE_CATALOG}")
    _create_file_views(con, day, rules)
    return TABLES, VIEWS


TABLES: tuple[str, ...] = (*MATERIALIZED, "landed_events")
VIEWS: tuple[str, ...] = (*FILE_VIEWS, "latest_day")

FILE_CATALOG = "analysts_file"
"""The file being built, attached to a connection that already holds the lake views (`lake_views`)."""


def _record_build(con: duckdb.DuckDBPyConnection, rules: Rules) -> None:
    con.execute(
        "CREATE TABLE tracelake_build AS SELECT ? AS built_at, ? AS rules_version, "
        "? AS timezone, ? AS tables, ? AS views, ? AS suppress_below",
        [datetime.now(UTC), rules.version, rules.timezone, list(TABLES), list(VIEWS), SUPPRESS_BELOW],
    )


def _fill_from(lake_views: duckdb.DuckDBPyConnection, building: str, day: date | None, rules: Rules) -> None:
    """Fill the file at `building` from a connection whose current database holds the lake views."""
    source = lake_views.execute("SELECT current_database()").fetchall()[0][0]
    lake_views.execute(f"ATTACH {_quote(building)} AS {FILE_CATALOG}")
    try:
        lake_views.execute(f"USE {FILE_CATALOG}")
        _copy_tables(lake_views, f'"{source}"')
        _create_file_views(lake_views, day, rules)
        _record_build(lake_views, rules)
        lake_views.execute(f"CHECKPOINT {FILE_CATALOG}")
    finally:
        lake_views.execute(f'USE "{source}"')
        lake_views.execute(f"DETACH {FILE_CATALOG}")


def build_analyst_db(
    lake_root: str | Path,
    day: date | None = None,
    *,
    rules: Rules | None = None,
    outputs: DayOutputs = DIRECT,
    lake_views: duckdb.DuckDBPyConnection | None = None,
) -> Path:
    """Write `tracelake.duckdb` at the lake root (or where `outputs` stages it) and return its path.

    `day` is the day just traced, kept as the `latest_day` view so queries can
    say "today"; without it, `latest_day` is the newest traced day (manifests,
    exposures or cases), evaluated when queried. The file is built beside its final name and moved
    into place, so an analyst never opens half a file. `lake_views` is a connection that already
    holds the lake views for `outputs` (`jobs.publish.day_views`): the tables are copied from it.
    """
    root = str(lake_root)
    if "://" in root:
        raise ValueError(f"the analysts' DuckDB file needs a local lake root, not {root!r}")
    rules = rules or load_rules()
    directory = Path(root).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    final = Path(outputs.target(str(directory / DUCKDB_FILE)))
    final.parent.mkdir(parents=True, exist_ok=True)
    with building_atomically(str(final)) as building:
        for leftover in (building, f"{building}.wal"):
            Path(leftover).unlink(missing_ok=True)
        if lake_views is not None:
            _fill_from(lake_views, building, day, rules)
        else:
            con = duckdb_memory.connect(building)
            try:
                fill_analyst_db(con, str(directory), day, rules, outputs)
                _record_build(con, rules)
                con.execute("CHECKPOINT")
            finally:
                con.close()
    return final
