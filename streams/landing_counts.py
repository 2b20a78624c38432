"""What a landing run did, per topic: rows landed, rows quarantined, files written."""

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[str, int], None]
"""`progress(topic, events so far)`: landed plus quarantined, as the CLI's progress bars take it."""


@dataclass
class LandingCounts:
    """Counts of committed segments only: rows a crash makes us land again are not counted twice."""

    landed: dict[str, int] = field(default_factory=dict)
    """Valid events written to raw/, per topic."""
    quarantined: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    """Parquet files written to raw/ and quarantine/, per topic (vault files not counted)."""
    joining_s: float | None = None
    """Seconds from the start until the group first gave this member partitions."""
    landing_s: float = 0.0
    """Seconds from then until the last segment was committed: the landing itself, not waiting for more."""

    def add(self, topic: str, landed: int, quarantined: int, files: int) -> None:
        self.landed[topic] = self.landed.get(topic, 0) + landed
        self.quarantined[topic] = self.quarantined.get(topic, 0) + quarantined
        self.files[topic] = self.files.get(topic, 0) + files

    def events(self, topic: str) -> int:
        """Events of `topic` accounted for: landed or quarantined."""
        return self.landed.get(topic, 0) + self.quarantined.get(topic, 0)

    def merge(self, other: "LandingCounts") -> None:
        for topic in other.landed:
            self.add(topic, other.landed[topic], other.quarantined.get(topic, 0), other.files.get(topic, 0))
        if other.joining_s is not None:
            self.joining_s = min(self.joining_s or other.joining_s, other.joining_s)
        self.landing_s = max(self.landing_s, other.landing_s)

    @property
    def total_landed(self) -> int:
        return sum(self.landed.values())

    @property
    def total_quarantined(self) -> int:
        return sum(self.quarantined.values())

    @property
    def total_files(self) -> int:
        return sum(self.files.values())

    def __str__(self) -> str:
        parts = [
            f"{topic}: {self.landed[topic]} landed, {self.quarantined.get(topic, 0)} quarantined, "
            f"{self.files.get(topic, 0)} files"
            for topic in self.landed
        ]
        return "; ".join(parts) or "nothing landed"
