"""Transmission clusters: connected components of the contact graph through F0s and F1s.

An F0 or F1 links everyone it exposed and everyone who exposed it; an F2 is a
leaf that joins the cluster of its earliest source and never bridges two
clusters (two F1s who met the same shopper are not one outbreak on that
evidence alone). Each person counts with the tier of the first edge they
appear in (edges oldest first, a source before its target).

A province's day has millions of edges, so the clusters are found in DuckDB:
the components of the F0/F1 links by label propagation (each person takes the
smallest id among itself, its neighbours and its label's label, until nothing
changes), then each leaf follows its earliest source until it reaches an F0
or F1 (or a person without a source, or one it has passed before). The report
reads each cluster's root cases and how many F1s and F2s it holds.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa

from tracelake.core import duckdb_memory

SPREADING_TIERS = ("F0", "F1")
_SPREADING = "coalesce({tier} IN ('F0', 'F1'), false)"


@dataclass(frozen=True)
class ContactEdge:
    """The part of a contact-graph edge that clustering needs; edges come oldest first."""

    source: str
    source_tier: str
    target: str
    target_tier: str


@dataclass(frozen=True)
class Cluster:
    """One transmission cluster: its people by tier, root cases (F0s) first."""

    cases: tuple[str, ...]
    f1: tuple[str, ...]
    f2: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.cases) + len(self.f1) + len(self.f2)


@dataclass(frozen=True)
class ClusterCount:
    """A cluster as the report shows it: its root cases, and how many F1s and F2s (or further) it holds."""

    cases: tuple[str, ...]
    f1: int
    f2: int

    @property
    def size(self) -> int:
        return len(self.cases) + self.f1 + self.f2


_STEPS = (
    """
    CREATE OR REPLACE TEMP TABLE cluster_person AS
    SELECT person, arg_min(tier, position) AS tier, min(position) AS first_seen FROM (
        SELECT source AS person, source_tier AS tier, 2 * ordinal AS position FROM cluster_edge
        UNION ALL
        SELECT target, target_tier, 2 * ordinal + 1 FROM cluster_edge
    ) GROUP BY person
    """,
    f"""
    CREATE OR REPLACE TEMP TABLE cluster_link AS
    SELECT source AS person, target AS other FROM cluster_edge WHERE {_SPREADING.format(tier="target_tier")}
    UNION ALL
    SELECT target, source FROM cluster_edge WHERE {_SPREADING.format(tier="target_tier")}
    """,
    """
    CREATE OR REPLACE TEMP TABLE cluster_label AS
    SELECT person, person AS label
    FROM (SELECT source AS person FROM cluster_edge UNION SELECT person FROM cluster_link)
    """,
    f"""
    CREATE OR REPLACE TEMP TABLE cluster_leaf AS
    SELECT target AS person, arg_min(source, ordinal) AS source
    FROM cluster_edge WHERE NOT {_SPREADING.format(tier="target_tier")}
    GROUP BY target
    """,
    f"""
    CREATE OR REPLACE TEMP TABLE cluster_anchor AS
    SELECT person, person AS anchor, CAST([] AS VARCHAR[]) AS seen, NOT {_SPREADING.format(tier="tier")} AS moving
    FROM cluster_person
    """,
)

_PROPAGATE = """
CREATE OR REPLACE TEMP TABLE cluster_label_next AS
WITH hop AS (
    SELECT k.person, min(o.label) AS label FROM cluster_link k JOIN cluster_label o ON o.person = k.other
    GROUP BY k.person
)
SELECT l.person, least(l.label, coalesce(h.label, l.label), coalesce(j.label, l.label)) AS label
FROM cluster_label l LEFT JOIN hop h ON h.person = l.person LEFT JOIN cluster_label j ON j.person = l.label
"""
_CHANGED_LABELS = """
SELECT count(*) FROM cluster_label_next n JOIN cluster_label l ON l.person = n.person WHERE n.label <> l.label
"""

_FOLLOW = f"""
CREATE OR REPLACE TEMP TABLE cluster_anchor AS
SELECT a.person,
       CASE WHEN step THEN source ELSE a.anchor END AS anchor,
       CASE WHEN step THEN list_append(a.seen, a.anchor) ELSE a.seen END AS seen,
       step AS moving
FROM (
    SELECT a.*, f.source,
           coalesce(a.moving AND f.source IS NOT NULL AND NOT {_SPREADING.format(tier="t.tier")}
                    AND NOT list_contains(a.seen, a.anchor), false) AS step
    FROM cluster_anchor a
    LEFT JOIN cluster_leaf f ON f.person = a.anchor
    LEFT JOIN cluster_person t ON t.person = a.anchor
) a
"""

_MEMBERS = """
CREATE OR REPLACE TEMP TABLE cluster_member AS
SELECT p.person, p.tier, p.first_seen, coalesce(l.label, a.anchor) AS cluster
FROM cluster_person p JOIN cluster_anchor a USING (person) LEFT JOIN cluster_label l ON l.person = a.anchor
"""

_FURTHER = f"NOT {_SPREADING.format(tier='tier')}"
_CLUSTERS = """
SELECT {columns} FROM (
    SELECT coalesce(list(person ORDER BY person) FILTER (WHERE tier = 'F0'), []) AS cases,
           coalesce(list(person ORDER BY person) FILTER (WHERE tier = 'F1'), []) AS f1,
           {f2} AS f2, count(*) AS size, min(first_seen) AS first_seen
    FROM cluster_member GROUP BY cluster
) ORDER BY size DESC, cases, f1, first_seen
"""
"""Clusters largest first, then by root cases and F1s, then (clusters of F2s alone) by who was seen first."""


def _assign(con: duckdb.DuckDBPyConnection, edges: str) -> None:
    """Create `cluster_member(person, tier, first_seen, cluster)` from a relation of edges
    `(ordinal, source, source_tier, target, target_tier)`."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE cluster_edge AS SELECT * FROM {edges}")
    for step in _STEPS:
        con.execute(step)
    while True:
        con.execute(_PROPAGATE)
        changed = con.execute(_CHANGED_LABELS).fetchall()[0][0]
        con.execute("CREATE OR REPLACE TEMP TABLE cluster_label AS SELECT * FROM cluster_label_next")
        if not changed:
            break
    while con.execute("SELECT count(*) FROM cluster_anchor WHERE moving").fetchall()[0][0]:
        con.execute(_FOLLOW)
    con.execute(_MEMBERS)
    for table in ("edge", "person", "link", "label", "label_next", "leaf", "anchor"):
        con.execute(f"DROP TABLE IF EXISTS cluster_{table}")


def transmission_clusters(edges: Iterable[ContactEdge]) -> list[Cluster]:
    """Clusters largest first (then by their root cases and F1s), from edges sorted by exposure time."""
    listed = list(edges)
    table = pa.table(
        {
            "ordinal": pa.array(range(len(listed)), pa.int64()),
            "source": pa.array([edge.source for edge in listed], pa.string()),
            "source_tier": pa.array([edge.source_tier for edge in listed], pa.string()),
            "target": pa.array([edge.target for edge in listed], pa.string()),
            "target_tier": pa.array([edge.target_tier for edge in listed], pa.string()),
        }
    )
    con = duckdb_memory.connect()
    try:
        con.register("given_edges", table)
        _assign(con, "given_edges")
        rows = con.execute(_CLUSTERS.format(
            columns="cases, f1, f2", f2=f"coalesce(list(person ORDER BY person) FILTER (WHERE {_FURTHER}), [])"
        )).fetchall()
    finally:
        con.close()
    return [Cluster(tuple(cases), tuple(f1), tuple(f2)) for cases, f1, f2 in rows]


def cluster_counts(con: duckdb.DuckDBPyConnection, day: date) -> list[ClusterCount]:
    """Day D's clusters from the lake's `contacts` view, largest first (then by root cases and F1s)."""
    _assign(
        con,
        f"""(
            SELECT row_number() OVER (
                       ORDER BY exposure_start, exposure_end, source_pseudonym, target_pseudonym) AS ordinal,
                   source_pseudonym AS source, source_tier, target_pseudonym AS target, target_tier
            FROM contacts WHERE date = DATE '{day.isoformat()}'
        )""",
    )
    try:
        rows = con.execute(
            _CLUSTERS.format(columns="cases, len(f1), f2", f2=f"count(*) FILTER (WHERE {_FURTHER})")
        ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS cluster_member")
    return [ClusterCount(tuple(cases), f1, f2) for cases, f1, f2 in rows]
