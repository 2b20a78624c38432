"""Build a raw lake and its identity vault from plain Python events, the way the lander would.

Tests of the trace job (and later of Airflow, reports, ...) describe events
with people written in any spelling and times as local wall-clock strings;
the builder normalizes and pseudonymizes ids with a fixed test key, writes
`raw/<topic>/date=<lander's local day>/<topic>+<partition>+<offset>.parquet`
with `schemas.lake.RAW`, assigns Kafka offsets in call order, and fills the
vault so the export can re-identify people.

Times: an aware `datetime`, an ISO string with offset, or a naive string or
datetime read as local time in the builder's zone (a test convenience; the
contract itself refuses naive timestamps, see `add_json`).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.lake import RAW, VAULT
from tracelake.core.events import PERSON_FIELDS, Accepted, judge
from tracelake.core.identity import Pseudonymizer, normalize_person_id
from tracelake.core.lake import Lake, segment_file_name
from tracelake.core.vault import write_identities

TEST_KEY = b"tracelake-test-pseudonymization-key"
ZONE = "Asia/Ho_Chi_Minh"
Instant = datetime | str

_TIME_FIELDS = ("checkin_at", "checkout_at", "observed_at", "reported_at", "isolated_at")
_PSEUDONYM_FIELDS = {
    "person_id": "person_pseudonym",
    "reporter_id": "reporter_pseudonym",
    "contact_id": "contact_pseudonym",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass
class _Pending:
    topic: str
    partition: int
    offset: int
    row: dict[str, Any]
    landed_day: date


class LakeBuilder:
    def __init__(
        self,
        root: Path | str,
        vault: Path | str | None = None,
        *,
        zone: str = ZONE,
        lander_zone: str | None = None,
        key: bytes = TEST_KEY,
    ) -> None:
        self.root = Path(root)
        self.vault = Path(vault) if vault is not None else self.root.with_name(self.root.name + "-vault")
        self.lake = Lake(str(self.root))
        self.zone = ZoneInfo(zone)
        self.lander_zone = ZoneInfo(lander_zone or zone)
        self._pseudonymizer = Pseudonymizer(key)
        self._next_offset: dict[tuple[str, int], int] = defaultdict(int)
        self._pending: list[_Pending] = []
        self._identities: dict[str, str] = {}
        self._event_serial = 0
        self._batch = 0
        self.incarnation = "lakebuilder"
        self.rejected: list[tuple[str, str]] = []

    # --- people and times -------------------------------------------------

    def person_id(self, person: str) -> str:
        normalized = normalize_person_id(person)
        if normalized is None:
            raise ValueError(f"not a phone number or citizen ID: {person!r}")
        return normalized

    def pseudonym(self, person: str) -> str:
        return self._pseudonymizer.pseudonym(self.person_id(person))

    def at(self, instant: Instant) -> datetime:
        """An aware UTC datetime; naive values are local wall-clock time in the builder's zone."""
        moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(UTC)

    # --- events -----------------------------------------------------------

    def checkin(
        self,
        person: str,
        venue_id: str,
        checkin_at: Instant,
        checkout_at: Instant | None = None,
        *,
        source: str = "qr_venue",
        event_id: str | None = None,
        partition: int = 0,
        landed_at: Instant | None = None,
    ) -> str:
        """`landed_at`: the lander's clock when it landed the check-in (left null, as older landers did, if None)."""
        return self._add(
            "checkins",
            {
                "event_id": event_id,
                "person_pseudonym": self._identify(person),
                "venue_id": venue_id,
                "checkin_at": self.at(checkin_at),
                "checkout_at": None if checkout_at is None else self.at(checkout_at),
                "source": source,
                "landed_at": None if landed_at is None else self.at(landed_at),
            },
            partition,
        )

    def sighting(
        self,
        reporter: str,
        contact: str,
        observed_at: Instant,
        rssi: int = -60,
        reporter_os: str = "android",
        contact_os: str = "android",
        *,
        tx_power: int | None = None,
        event_id: str | None = None,
        partition: int = 0,
        landed_at: Instant | None = None,
    ) -> str:
        """`landed_at`: the lander's clock when it landed the sighting (left null, as older landers did, if None)."""
        return self._add(
            "proximity",
            {
                "event_id": event_id,
                "reporter_pseudonym": self._identify(reporter),
                "contact_pseudonym": self._identify(contact),
                "rssi": rssi,
                "reporter_os": reporter_os,
                "contact_os": contact_os,
                "observed_at": self.at(observed_at),
                "tx_power": tx_power,
                "landed_at": None if landed_at is None else self.at(landed_at),
            },
            partition,
        )

    def case(
        self,
        person: str,
        kind: str,
        reported_at: Instant,
        *,
        sample_date: date | str | None = None,
        onset_date: date | str | None = None,
        isolated_at: Instant | None = None,
        event_id: str | None = None,
        partition: int = 0,
        landed_at: Instant | None = None,
    ) -> str:
        """`landed_at`: the lander's clock when it landed the report (left null, as older landers did, if None)."""
        return self._add(
            "case_reports",
            {
                "event_id": event_id,
                "person_pseudonym": self._identify(person),
                "kind": kind,
                "reported_at": self.at(reported_at),
                "sample_date": _day(sample_date),
                "onset_date": _day(onset_date),
                "isolated_at": None if isolated_at is None else self.at(isolated_at),
                "landed_at": None if landed_at is None else self.at(landed_at),
            },
            partition,
        )

    def confirmed(
        self, person: str, reported_at: Instant, sample_date: date | str, onset_date: date | str | None = None
    ) -> str:
        return self.case(person, "confirmed", reported_at, sample_date=sample_date, onset_date=onset_date)

    def venue(self, venue_id: str, name: str, district_code: str, province_code: str, **extra: Any) -> str:
        row = {"venue_id": venue_id, "name": name, "district_code": district_code, "province_code": province_code}
        return self._add("venues", {"event_id": None, **row, **extra}, 0, landed=datetime.now(UTC))

    def add_json(self, topic: str, line: bytes | str | dict[str, Any], *, partition: int = 0) -> bool:
        """One event in contract form (CONTRACT.md section 1), judged like the lander does.

        Returns False (and records the reason in `rejected`) for an event the
        lander would quarantine.
        """
        value = line if isinstance(line, bytes) else (line.encode() if isinstance(line, str) else orjson.dumps(line))
        verdict = judge(topic, value, _micros(datetime.now(UTC)) + 10 * 365 * 86_400_000_000)
        if not isinstance(verdict, Accepted):
            self.rejected.append((topic, verdict.reason))
            return False
        record = dict(verdict.record)
        for field in PERSON_FIELDS[topic]:
            record[_PSEUDONYM_FIELDS[field]] = self._remember(record.pop(field))
        for name in _TIME_FIELDS:
            if record.get(name) is not None:
                record[name] = _from_micros(record[name])
        for name in ("sample_date", "onset_date"):
            if record.get(name) is not None:
                record[name] = date.fromordinal(date(1970, 1, 1).toordinal() + record[name])
        self._add(topic, record, partition, keep_event_id=True)
        return True

    def add_jsonl(self, topic: str, lines: Iterable[bytes | str], *, partition: int = 0) -> int:
        return sum(self.add_json(topic, line, partition=partition) for line in lines if line.strip())

    # --- writing ----------------------------------------------------------

    def new_incarnation(self, incarnation: str) -> None:
        """What follows lands as a restarted broker's would: offsets from 0 again, names with another incarnation."""
        self.incarnation = incarnation
        self._next_offset.clear()

    def write(self, *, old_style: bool = False) -> list[Path]:
        """Land everything added since the last write: one segment per topic, local day and partition.

        `old_style`: as a lander from before incarnations and `landed_at` did: names
        `topic+partition+offset`, no `landed_at` column.
        """
        self._batch += 1
        groups: dict[tuple[str, date, int], list[_Pending]] = defaultdict(list)
        for pending in self._pending:
            groups[(pending.topic, pending.landed_day, pending.partition)].append(pending)
        written: list[Path] = []
        for (topic, day, partition), events in sorted(groups.items()):
            directory = Path(self.lake.raw_day(topic, day))
            directory.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pylist([event.row for event in events], schema=RAW[topic])
            if old_style:
                table = table.drop_columns(["landed_at"])
                name = f"{topic}+{partition}+{events[0].offset:020d}.parquet"
            else:
                name = segment_file_name(topic, partition, self.incarnation, events[0].offset)
            path = directory / name
            pq.write_table(table, path)
            written.append(path)
        if self._identities:
            pairs = {"pseudonym": list(self._identities), "person_id": list(self._identities.values())}
            write_identities(str(self.vault), f"batch-{self._batch:05d}.parquet", pa.table(pairs, schema=VAULT))
        self._pending.clear()
        self._identities.clear()
        return written

    def write_raw_rows(self, topic: str, rows: list[dict[str, Any]], day: date | str, *, partition: int = 9) -> Path:
        """Rows landed as they are, now, in one segment of `date=day`: what an older lander or another writer left.

        Times may be epoch microseconds (the ends of int64 included) and dates
        days since the epoch; any column may be null or left out. The Kafka
        columns get this partition and the next offsets.
        """
        schema = pa.schema([field.with_nullable(True) for field in RAW[topic]])
        first = self._next_offset[(topic, partition)]
        self._next_offset[(topic, partition)] = first + len(rows)
        kafka = {"kafka_topic": topic, "kafka_partition": partition}
        filled = [{**kafka, "kafka_offset": first + index, **row} for index, row in enumerate(rows)]
        columns = [_raw_column([row.get(field.name) for row in filled], field.type) for field in schema]
        directory = Path(self.lake.raw_day(topic, _day(day) or date.min))
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / segment_file_name(topic, partition, self.incarnation, first)
        pq.write_table(pa.Table.from_arrays(columns, schema=schema), path)
        return path

    # --- internals --------------------------------------------------------

    def _identify(self, person: str) -> str:
        return self._remember(self.person_id(person))

    def _remember(self, person_id: str) -> str:
        pseudonym = self._pseudonymizer.pseudonym(person_id)
        self._identities[pseudonym] = person_id
        return pseudonym

    def _add(
        self,
        topic: str,
        record: dict[str, Any],
        partition: int,
        *,
        keep_event_id: bool = False,
        landed: datetime | None = None,
    ) -> str:
        if not keep_event_id and record.get("event_id") is None and topic != "venues":
            self._event_serial += 1
            record["event_id"] = f"{topic}-{self._event_serial:06d}"
        offset = self._next_offset[(topic, partition)]
        self._next_offset[(topic, partition)] = offset + 1
        moment = landed or record[_LANDING_TIME[topic]]
        row = {
            **record,
            "kafka_topic": topic,
            "kafka_partition": partition,
            "kafka_offset": offset,
            "kafka_timestamp": moment,
        }
        self._pending.append(_Pending(topic, partition, offset, row, moment.astimezone(self.lander_zone).date()))
        return str(record.get("event_id"))


_LANDING_TIME = {"checkins": "checkin_at", "proximity": "observed_at", "case_reports": "reported_at"}


def _day(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_MICROSECOND


def _from_micros(micros: int) -> datetime:
    return _EPOCH + micros * _ONE_MICROSECOND


def _raw_column(values: list[Any], kind: pa.DataType) -> pa.Array:
    """Times and dates go through their integers (epoch microseconds, epoch days): any int64/int32 is kept."""
    if pa.types.is_timestamp(kind):
        micros = [_micros(value) if isinstance(value, datetime) else value for value in values]
        return pa.array(micros, pa.int64()).cast(kind)
    if pa.types.is_date32(kind):
        days = [(value - _EPOCH.date()).days if isinstance(value, date) else value for value in values]
        return pa.array(days, pa.int32()).cast(kind)
    return pa.array(values, kind)
