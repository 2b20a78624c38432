"""The clusters DuckDB finds are those of a plain union-find over the edges, tier by first appearance."""

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.publish.report.clusters import SPREADING_TIERS, Cluster, ContactEdge, transmission_clusters


def union_find_clusters(edges: Sequence[ContactEdge]) -> list[Cluster]:
    """The clusters as the report first computed them, one edge at a time."""
    parent: dict[str, str] = {}

    def find(item: str) -> str:
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    tiers: dict[str, str] = {}
    leaf_source: dict[str, str] = {}
    for edge in edges:
        tiers.setdefault(edge.source, edge.source_tier)
        tiers.setdefault(edge.target, edge.target_tier)
        find(edge.source)
        if edge.target_tier in SPREADING_TIERS:
            parent[find(edge.source)] = find(edge.target)
        else:
            leaf_source.setdefault(edge.target, edge.source)

    def anchor(person: str) -> str:
        seen: set[str] = set()
        while tiers[person] not in SPREADING_TIERS and person in leaf_source and person not in seen:
            seen.add(person)
            person = leaf_source[person]
        return find(person)

    members: dict[str, list[str]] = {}
    for person in tiers:
        members.setdefault(anchor(person), []).append(person)
    clusters = [
        Cluster(
            cases=tuple(sorted(person for person in people if tiers[person] == "F0")),
            f1=tuple(sorted(person for person in people if tiers[person] == "F1")),
            f2=tuple(sorted(person for person in people if tiers[person] not in SPREADING_TIERS)),
        )
        for people in members.values()
    ]
    return sorted(clusters, key=lambda cluster: (-cluster.size, cluster.cases, cluster.f1))


people = st.sampled_from([f"p{index}" for index in range(14)])
tiers = st.sampled_from(["F0", "F1", "F2", "F3"])
edges = st.lists(st.builds(ContactEdge, people, tiers, people, tiers), max_size=40)


@settings(max_examples=150, deadline=None)
@given(edges)
def test_duckdb_clusters_are_the_union_find_clusters(given_edges: list[ContactEdge]) -> None:
    assert transmission_clusters(given_edges) == union_find_clusters(given_edges)
