"""D's published curated tables as the engine's rows, in DuckDB: what `jobs.trace.duckdb.changed_sources` reads.

The curated tables are the engine's rows in the lake's schemas
(`jobs.trace.curate`): pseudonyms are the persons, tier names give depths back,
UTC timestamps give exact epoch microseconds back, so nothing is lost.
"""

from collections.abc import Callable

import duckdb
import pyarrow as pa

_DEPTHS = pa.schema([pa.field("tier", pa.string()), pa.field("depth", pa.int32())])

_PUBLISHED = (
    """CREATE OR REPLACE TEMP TABLE published_cases AS
    SELECT person_pseudonym AS person, status, epoch_us(window_start) AS window_start_us,
           epoch_us(window_end) AS window_end_us, epoch_us(isolated_at) AS isolated_at_us
    FROM curated_cases""",
    """CREATE OR REPLACE TEMP TABLE published_contacts AS
    SELECT c.source_pseudonym AS source, s.depth AS source_depth, c.target_pseudonym AS target,
           t.depth AS target_depth, c.channel, c.venue_id, epoch_us(c.exposure_start) AS start_us,
           epoch_us(c.exposure_end) AS end_us, c.os_pair, c.rssi_mean, c.rssi_max,
           c.imputed_checkout, c.venue_visitors
    FROM curated_contacts c
    JOIN tier_depths s ON s.tier = c.source_tier JOIN tier_depths t ON t.tier = c.target_tier""",
    """CREATE OR REPLACE TEMP TABLE published_people AS
    SELECT e.person_pseudonym AS person, d.depth, epoch_us(e.first_exposure_at) AS window_start_us,
           e.case_pseudonyms AS cases
    FROM curated_exposures e JOIN tier_depths d USING (tier)""",
)


def register_published(
    con: duckdb.DuckDBPyConnection,
    cases: pa.Table,
    contacts: Callable[[duckdb.DuckDBPyConnection, str], None],
    exposures: pa.Table,
    tier_names: list[str],
) -> None:
    """Create `published_cases`, `published_contacts` and `published_people` from D's curated tables;
    `tier_names[depth]` is the rules' name of each depth. The contacts, the largest by far, are read as DuckDB
    copies them: `contacts(con, view)` makes them the view `view`."""
    con.register("curated_cases", cases)
    contacts(con, "curated_contacts")
    con.register("curated_exposures", exposures)
    con.register("tier_depths", pa.table({"tier": tier_names, "depth": range(len(tier_names))}, schema=_DEPTHS))
    for statement in _PUBLISHED:
        con.execute(statement)
    for name in ("curated_cases", "curated_contacts", "curated_exposures", "tier_depths"):
        con.execute(f"DROP VIEW IF EXISTS {name}")
