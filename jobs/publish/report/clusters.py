"""Transmission clusters: connected components of the contact graph through F0s and F1s.

An F0 or F1 links everyone it exposed and everyone who exposed it; an F2 is a
leaf that joins the cluster of its earliest source and never bridges two
clusters (two F1s who met the same shopper are not one outbreak on that
evidence alone). A small union-find is enough: a province's day has at most a
few hundred thousand edges.
"""

from collections.abc import Iterable
from dataclasses import dataclass

SPREADING_TIERS = frozenset({"F0", "F1"})


class DisjointSet:
    """Union-find with path halving and union by size."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._size: dict[str, int] = {}

    def add(self, item: str) -> None:
        if item not in self._parent:
            self._parent[item] = item
            self._size[item] = 1

    def find(self, item: str) -> str:
        self.add(item)
        parent = self._parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, left: str, right: str) -> str:
        a, b = self.find(left), self.find(right)
        if a == b:
            return a
        if self._size[a] < self._size[b]:
            a, b = b, a
        self._parent[b] = a
        self._size[a] += self._size[b]
        return a


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


def transmission_clusters(edges: Iterable[ContactEdge]) -> list[Cluster]:
    """Clusters largest first (then by their first root case), from edges sorted by exposure time."""
    spreaders = DisjointSet()
    tiers: dict[str, str] = {}
    leaf_source: dict[str, str] = {}
    for edge in edges:
        tiers.setdefault(edge.source, edge.source_tier)
        tiers.setdefault(edge.target, edge.target_tier)
        spreaders.add(edge.source)
        if edge.target_tier in SPREADING_TIERS:
            spreaders.union(edge.source, edge.target)
        else:
            leaf_source.setdefault(edge.target, edge.source)

    def anchor(person: str) -> str:
        """The spreader a leaf hangs from (following F3 → F2 → F1 when the rules go deeper)."""
        seen: set[str] = set()
        while tiers[person] not in SPREADING_TIERS and person in leaf_source and person not in seen:
            seen.add(person)
            person = leaf_source[person]
        return spreaders.find(person)

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
