"""Judging a chunk of one topic's Kafka values at once: the lander's fast path.

`tracelake.core.events.judge` is the reference: one value in, a record or a reason
out. The lander meets values by the thousand, so for the busy topics it
decodes each value with msgspec into a typed struct (strict JSON, exact
types, unknown fields ignored), turns the fields into Arrow columns and runs
the contract's checks as vectorized comparisons; person ids go through the
lander's memo of people (streams.people) and ISO times through a memo of
parsed stamps (streams.instants). A value that is not plain (not JSON, a wrong type, a null, a number out
of range, an id or a time the memo tables refuse) goes through `judge`
itself, so every reason is the reference's. The fast path never accepts what
`judge` refuses nor accepts it differently; tests/streams/test_verdicts.py
holds it to that on generated values.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from schemas.lake import RAW
from streams.instants import instants
from streams.people import People
from streams.segment_tables import pseudonym_column
from tracelake.core.events import (
    CONTRACT_PLAUSIBILITY,
    FUTURE_TOLERANCE_US,
    OPERATING_SYSTEMS,
    PERSON_FIELDS,
    RECORD_FIELDS,
    RSSI_RANGE,
    SOURCES,
    TX_POWER_RANGE,
    Accepted,
    Plausibility,
    Rejected,
    judge,
)


def record_schema(topic: str) -> pa.Schema:
    """An accepted record as Arrow: the raw table's types, normalized ids, then their pseudonyms."""
    raw = RAW[topic]
    fields = []
    for name in RECORD_FIELDS[topic]:
        if name in PERSON_FIELDS[topic]:
            fields.append(pa.field(name, pa.string(), nullable=False))
        else:
            fields.append(raw.field(name))
    fields.extend(raw.field(pseudonym_column(name)) for name in PERSON_FIELDS[topic])
    return pa.schema(fields)


RECORDS = {topic: record_schema(topic) for topic in RECORD_FIELDS}


@dataclass
class ChunkVerdicts:
    """A chunk's verdicts: the accepted records (in chunk order) and the refused values with their reasons."""

    records: pa.Table
    """`RECORDS[topic]` rows, one per accepted value."""
    accepted: list[int]
    """The chunk index of each row of `records`."""
    rejected: list[tuple[int, Rejected]]


class _PlainSighting(msgspec.Struct, gc=False):
    event_id: str
    reporter_id: str
    contact_id: str
    rssi: int
    reporter_os: str
    contact_os: str
    observed_at: str | int
    tx_power: int | None = None


class _PlainCheckin(msgspec.Struct, gc=False):
    event_id: str
    person_id: str
    venue_id: str
    checkin_at: str | int
    checkout_at: str | int | None = None
    source: str | None = None


def _decoded(decoder: msgspec.json.Decoder, values: Sequence[bytes | None]) -> list[Any]:
    """Each value decoded, or None where msgspec refuses it (the reference then says why).

    Refusals include a TypeError for a null value and a RecursionError for JSON nested thousands deep.
    """
    decode = decoder.decode
    out: list[Any] = []
    append = out.append
    for value in values:
        try:
            append(decode(value))  # type: ignore[arg-type]  # None raises TypeError
        except Exception:
            append(None)
    return out


def _strings(values: list[str | None]) -> pa.Array:
    return pa.array(values, pa.string())


def _ints(values: list[int | None]) -> pa.Array:
    return pa.array(values, pa.int64())


def _within(values: pa.Array, low: int, high: int) -> pa.Array:
    return pc.and_(pc.greater_equal(values, low), pc.less_equal(values, high))


class _Plausible(NamedTuple):
    """The instants a chunk's times may take: from the earliest instant to a day after the chunk landed."""

    earliest_us: int
    latest_us: int

    def holds(self, instants: pa.Array) -> pa.Array:
        return _within(instants, self.earliest_us, self.latest_us)


_OPERATING_SYSTEMS = pa.array(sorted(OPERATING_SYSTEMS), pa.string())
_SOURCES = pa.array(sorted(SOURCES), pa.string())
_UTC = RAW["proximity"].field("observed_at").type


def _sightings(structs: list[Any], plausible: _Plausible, people: People) -> tuple[dict[str, pa.Array], pa.Array]:
    event_id = _strings([struct.event_id for struct in structs])
    reporter, reporter_pseudonym = people.lookup([struct.reporter_id for struct in structs])
    contact, contact_pseudonym = people.lookup([struct.contact_id for struct in structs])
    rssi = _ints([struct.rssi for struct in structs])
    reporter_os = _strings([struct.reporter_os for struct in structs])
    contact_os = _strings([struct.contact_os for struct in structs])
    observed = instants([struct.observed_at for struct in structs])
    tx_power = _ints([struct.tx_power for struct in structs])
    plain = [
        pc.greater(pc.binary_length(event_id), 0),
        pc.is_valid(reporter),
        pc.is_valid(contact),
        pc.not_equal(reporter, contact),
        _within(rssi, *RSSI_RANGE),
        pc.is_in(reporter_os, value_set=_OPERATING_SYSTEMS),
        pc.is_in(contact_os, value_set=_OPERATING_SYSTEMS),
        plausible.holds(observed),
        pc.or_kleene(pc.is_null(tx_power), _within(tx_power, *TX_POWER_RANGE)),
    ]
    columns = {
        "event_id": event_id,
        "reporter_id": reporter,
        "contact_id": contact,
        "rssi": rssi.cast(pa.int32(), safe=False),
        "reporter_os": reporter_os,
        "contact_os": contact_os,
        "observed_at": observed.cast(_UTC),
        "tx_power": tx_power.cast(pa.int32(), safe=False),
        "reporter_pseudonym": reporter_pseudonym,
        "contact_pseudonym": contact_pseudonym,
    }
    return columns, _all(plain)


def _checkins(structs: list[Any], plausible: _Plausible, people: People) -> tuple[dict[str, pa.Array], pa.Array]:
    event_id = _strings([struct.event_id for struct in structs])
    person, person_pseudonym = people.lookup([struct.person_id for struct in structs])
    venue_id = _strings([struct.venue_id for struct in structs])
    checkin = instants([struct.checkin_at for struct in structs])
    checkout_text = [struct.checkout_at for struct in structs]
    checkout = instants(checkout_text)
    source = _strings([struct.source for struct in structs])
    no_checkout = pa.array([text is None for text in checkout_text], pa.bool_())
    plain = [
        pc.greater(pc.binary_length(event_id), 0),
        pc.is_valid(person),
        pc.greater(pc.binary_length(venue_id), 0),
        plausible.holds(checkin),
        pc.or_kleene(no_checkout, pc.and_(plausible.holds(checkout), pc.greater_equal(checkout, checkin))),
        pc.or_kleene(pc.is_null(source), pc.is_in(source, value_set=_SOURCES)),
    ]
    columns = {
        "event_id": event_id,
        "person_id": person,
        "venue_id": venue_id,
        "checkin_at": checkin.cast(_UTC),
        "checkout_at": checkout.cast(_UTC),
        "source": pc.fill_null(source, "qr_venue"),
        "person_pseudonym": person_pseudonym,
    }
    return columns, _all(plain)


def _all(conditions: list[pa.Array]) -> pa.Array:
    """Rows meeting every condition; a null (a missing value) counts as not met."""
    met = conditions[0]
    for condition in conditions[1:]:
        met = pc.and_kleene(met, condition)
    return pc.fill_null(met, False)


_PlainChecks = Callable[[list[Any], _Plausible, People], tuple[dict[str, pa.Array], pa.Array]]
_PLAIN: dict[str, tuple[msgspec.json.Decoder, _PlainChecks]] = {
    "proximity": (msgspec.json.Decoder(_PlainSighting), _sightings),
    "checkins": (msgspec.json.Decoder(_PlainCheckin), _checkins),
}


def _plain(
    topic: str, values: Sequence[bytes | None], plausible: _Plausible, people: People
) -> tuple[pa.Table, list[int]]:
    """The records the fast path accepts, and their chunk indices."""
    schema = RECORDS[topic]
    if topic not in _PLAIN or not values:
        return schema.empty_table(), []
    decoder, checks = _PLAIN[topic]
    structs = _decoded(decoder, values)
    rows = list(range(len(values)))
    if None in structs:
        rows = [index for index, struct in enumerate(structs) if struct is not None]
        structs = [structs[index] for index in rows]
    if not rows:
        return schema.empty_table(), []
    try:
        columns, met = checks(structs, plausible, people)
    except Exception:  # a number beyond 64 bits, a lone surrogate: the reference judges the chunk
        return schema.empty_table(), []
    table = pa.Table.from_pydict(columns, schema=schema)
    failed = pc.indices_nonzero(pc.invert(met)).to_pylist()
    if failed:
        table = table.filter(met)
        refused = {rows[index] for index in failed}
        rows = [index for index in rows if index not in refused]
    return table, rows


def judge_chunk(
    topic: str,
    values: Sequence[bytes | None],
    landed_at_us: int,
    people: People,
    plausible: Plausibility = CONTRACT_PLAUSIBILITY,
) -> ChunkVerdicts:
    """`judge` for every value of a chunk, landed at `landed_at_us` (one clock read per chunk); never raises.

    Accepted records carry their people's pseudonyms from `people`.
    """
    window = _Plausible(plausible.earliest_us, landed_at_us + FUTURE_TOLERANCE_US)
    plain_table, plain_rows = _plain(topic, values, window, people)
    if len(plain_rows) == len(values):
        others: list[int] = []
    else:
        passed = set(plain_rows)
        others = [index for index in range(len(values)) if index not in passed]
    rejected: list[tuple[int, Rejected]] = []
    judged_rows: list[dict[str, Any]] = []
    judged_indices: list[int] = []
    for index in others:
        verdict = judge(topic, values[index], landed_at_us, plausible)
        if isinstance(verdict, Accepted):
            judged_rows.append(verdict.record)
            judged_indices.append(index)
        else:
            rejected.append((index, verdict))
    if not judged_rows:
        return ChunkVerdicts(plain_table, plain_rows, rejected)
    judged = _reference_table(judged_rows, topic, people)
    records = pa.concat_tables([plain_table, judged])
    indices = plain_rows + judged_indices
    order = sorted(range(len(indices)), key=indices.__getitem__)
    return ChunkVerdicts(records.take(order), [indices[position] for position in order], rejected)


def _reference_table(records: list[dict[str, Any]], topic: str, people: People) -> pa.Table:
    """`judge`'s records (µs instants, epoch days) as `RECORDS[topic]` columns, with their pseudonyms."""
    schema = RECORDS[topic]
    people_of = {pseudonym_column(person_field): person_field for person_field in PERSON_FIELDS[topic]}
    columns = []
    for field in schema:
        if field.name in people_of:
            columns.append(people.pseudonyms([record[people_of[field.name]] for record in records]))
            continue
        values = [record[field.name] for record in records]
        if pa.types.is_timestamp(field.type):
            columns.append(pa.array(values, pa.int64()).cast(field.type))
        elif pa.types.is_date32(field.type):
            columns.append(pa.array(values, pa.int32()).cast(field.type))
        else:
            columns.append(pa.array(values, field.type))
    return pa.Table.from_arrays(columns, schema=schema)
