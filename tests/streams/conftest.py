"""A scratch lake, vault and event files around a fresh broker, and ways to read back what landed."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from schemas.lake import QUARANTINE, RAW
from streams.broker import EmbeddedBroker
from streams.lander import land
from streams.landing_counts import LandingCounts, Progress
from streams.publisher import publish_events
from streams.segments import SegmentLimits
from tracelake.core.identity import Pseudonymizer
from tracelake.core.rejected import read_rejected
from tracelake.core.settings import Settings

KEY = "streams-test-key-0123456789abcdef"
EVENTS = Pseudonymizer.for_events(KEY.encode())
"""Lake event_ids under this folder's key: what the lander writes for a producer's event_id."""


def lake_event_id(producer_event_id: str) -> str:
    """The event_id the lake keeps (raw and quarantine) for a producer's `producer_event_id`."""
    return EVENTS.pseudonym(producer_event_id)


def checkin(number: int, person: str = "0912 345 678", at: str = "2021-08-03T08:15:00+07:00") -> dict[str, Any]:
    return {"event_id": f"c-{number}", "person_id": person, "venue_id": f"V-{number % 7}", "checkin_at": at,
            "checkout_at": "2021-08-03T09:00:00+07:00" if at < "2021-08-03T09" else None, "source": "qr_venue"}


def sighting(number: int, reporter: str = "+84912345678", contact: str = "84-987-654-321",
             at: str = "2021-08-03T10:00:00+07:00") -> dict[str, Any]:
    return {"event_id": f"p-{number}", "reporter_id": reporter, "contact_id": contact, "rssi": -70,
            "reporter_os": "android", "contact_os": "ios", "observed_at": at, "tx_power": -12}


def case_report(number: int, person: str = "0912.345.678", kind: str = "confirmed") -> dict[str, Any]:
    event = {"event_id": f"r-{number}", "person_id": person, "kind": kind, "reported_at": "2021-08-05T10:00:00Z"}
    if kind == "confirmed":
        event["sample_date"] = "2021-08-04"
    if kind == "isolated":
        event["isolated_at"] = "2021-08-05T12:00:00+07:00"
    return event


def venue(number: int) -> dict[str, Any]:
    return {"event_id": f"v-{number}", "venue_id": f"V-{number}", "name": f"Chợ {number}", "district_code": "568",
            "province_code": "56", "kind": "market", "lat": 12.25, "lon": 109.19}


def phone(number: int) -> str:
    """A distinct valid Vietnamese mobile number per `number`, spelled one of the contract's ways."""
    digits = f"9{number % 10**8:08d}"
    return (f"0{digits[:3]} {digits[3:6]} {digits[6:]}", f"+84{digits}", f"84-{digits}", f"0{digits}")[number % 4]


@dataclass
class Landing:
    """One test's lake, vault, events directory and settings, on its own broker."""

    broker: EmbeddedBroker
    root: Path
    settings: Settings = field(init=False)

    def __post_init__(self) -> None:
        self.events_dir = self.root / "events"
        self.events_dir.mkdir()
        self.settings = Settings(
            bootstrap_servers=self.broker.bootstrap,
            lake=str(self.root / "lake"),
            vault=str(self.root / "vault"),
            pseudonymization_key=KEY,
        )

    def write(self, topic: str, events: list[Any]) -> list[bytes]:
        """Append events (dicts become JSON, bytes and str are written as they are) to `<topic>.jsonl`."""
        lines = [
            event if isinstance(event, bytes)
            else event.encode() if isinstance(event, str)
            else json.dumps(event, ensure_ascii=False).encode()
            for event in events
        ]
        with (self.events_dir / f"{topic}.jsonl").open("ab") as out:
            for line in lines:
                out.write(line + b"\n")
        return lines

    def publish(self) -> dict[str, int]:
        return publish_events(self.events_dir, self.broker.bootstrap)

    def land(
        self, limits: SegmentLimits | None = None, progress: Progress | None = None, **changes: Any
    ) -> LandingCounts:
        settings = self.settings.model_copy(update=changes) if changes else self.settings
        return land(settings, KEY.encode(), until_idle=True, progress=progress, limits=limits)

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a lander subprocess with this test's settings."""
        variables = dict(
            os.environ,
            TRACELAKE_BOOTSTRAP_SERVERS=self.broker.bootstrap,
            TRACELAKE_LAKE=self.settings.lake,
            TRACELAKE_VAULT=str(self.settings.vault),
            TRACELAKE_PSEUDONYMIZATION_KEY=KEY,
        )
        variables.update(extra)
        return variables

    def lander_process(self, *args: str, **env: str) -> subprocess.Popen[bytes]:
        """`tracelake land` as a deployment runs it, with `args` and this test's settings."""
        return subprocess.Popen(
            [sys.executable, "-m", "tracelake", "land", *args],
            env=self.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def _read(self, kind: str, topic: str, schema: pa.Schema) -> pa.Table:
        path = self.root / "lake" / kind / topic
        if not path.exists():
            return schema.empty_table().append_column("date", pa.array([], pa.date32()))
        partitioning = ds.partitioning(pa.schema([("date", pa.date32())]), flavor="hive")
        return ds.dataset(path, format="parquet", partitioning=partitioning).to_table()

    def raw(self, topic: str) -> pa.Table:
        """Every raw row of `topic`, with its `date=` directory as a `date` column."""
        return self._read("raw", topic, RAW[topic])

    def quarantine(self, topic: str) -> pa.Table:
        return self._read("quarantine", topic, QUARANTINE)

    def payloads(self, topic: str) -> dict[bytes | None, dict[str, Any]]:
        """Each quarantined payload (from the vault) → its lake quarantine row: what was sent, and why refused."""
        rows = {(row["kafka_partition"], row["kafka_offset"]): row for row in self.quarantine(topic).to_pylist()}
        rejected = read_rejected(self.settings.vault_location, topic).to_pylist()
        assert len(rejected) == len(rows), "every quarantine row has its payload in the vault, and no other"
        return {payload["raw_value"]: rows[payload["kafka_partition"], payload["kafka_offset"]]
                for payload in rejected}

    def files(self, kind: str, topic: str) -> list[Path]:
        return sorted((self.root / "lake" / kind / topic).glob("date=*/*.parquet"))

    def days(self, kind: str, topic: str) -> set[date]:
        return {date.fromisoformat(path.parent.name.removeprefix("date=")) for path in self.files(kind, topic)}


@pytest.fixture
def landing(fresh_broker: EmbeddedBroker, tmp_path: Path) -> Iterator[Landing]:
    yield Landing(fresh_broker, tmp_path)
