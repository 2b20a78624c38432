"""Raw events into Spark: read the planned segments, count each resend once, keep exact instants.

Rows the trace cannot use are dropped first and counted per reason
(`jobs.trace.usable`). Each topic is then deduplicated on `event_id` (the copy with
the smallest (landed_at NULLS FIRST, kafka_partition, kafka_offset) wins;
`_resent` says how it finds the copies) and filtered to exact instants.
Counts for the manifest come from one aggregate over the judged rows and one
over the usable ones, and from the small table of resends.

Stays and sightings are not cached: each round of the tiers reads the files
again for the few rows near its sources (`jobs.trace.spark.candidates`), and
only those rows are ever shuffled, joined or kept. Keeping a row only when it
is its event's first copy is a test of that row alone against the resends
found over every usable row, so de-duplication stays exact whatever a round
keeps.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from jobs.trace.engines import TopicCounts
from jobs.trace.parameters import TraceParams
from jobs.trace.plan import InputPlan
from jobs.trace.spark.frames import driver_rows
from jobs.trace.spark.usable import LANDED_ORDER, REASON, counted_reasons, judged, landed_order, reason_counts
from jobs.trace.usable import unusable_counts
from schemas.lake import RAW

BROADCAST_RESENDS = 2_000_000
"""Up to this many resent copies, the resend list is broadcast to the read instead of shuffling every row."""
_POSITION = ("event_id", LANDED_ORDER, "kafka_partition", "kafka_offset")
"""What tells the copies of an event apart and orders them."""
IN_RANGE = "_in_range"


@dataclass(frozen=True)
class SparkInputs:
    stays: DataFrame
    """person, venue_id, start_us, end_us, imputed: a check-in's stay (checkout, else the default stay and
    imputed true), no linger."""
    sightings: DataFrame
    """reporter, contact, observed_us: close sightings only (rssi at or above the pair's threshold)."""
    reports: DataFrame
    """person, kind, reported_us, sample_date, onset_date, isolated_us, landed_order, kafka_partition, kafka_offset."""
    counts: dict[str, TopicCounts]


THRESHOLD_COLUMNS = "reporter_os string, contact_os string, threshold_dbm int"
"""`TraceParams.thresholds()` as Spark types them."""


def read_raw(spark: SparkSession, topic: str, files: Sequence[str]) -> DataFrame:
    schema = from_arrow_schema(RAW[topic], prefer_timestamp_ntz=False)
    if not files:
        return driver_rows(spark, schema)
    return spark.read.schema(schema).parquet(*files)


def event_hash() -> Column:
    """A 64-bit hash of event_id: only rows sharing one can be copies of one event."""
    return F.xxhash64("event_id")


def _resent(usable: DataFrame, topic: str) -> tuple[DataFrame | None, int, int]:
    """event_id and first position of every event seen more than once, the copies beyond the first, and how
    many of those are in range; None when no event was.

    Copies are first counted per 64-bit hash of event_id: a hash aggregate
    over longs, cheaper than one over strings. Rows whose hash is seen
    more than once (the resends, and any hash collisions) are then grouped by
    the event_id itself, which decides exactly, and their first position (a
    struct minimum, which only a sort-based aggregate computes) is taken
    there. Both results are small and checkpointed, so the reads that follow
    can broadcast them.
    """
    suspected = Observation(f"{topic}_suspected")
    suspects = (
        usable.groupBy(event_hash().alias("_hash"))
        .agg(F.count(F.lit(1)).alias("_copies"))
        .filter(F.col("_copies") > 1)
        .observe(suspected, F.sum("_copies").alias("rows"))
        .select("_hash")
        .localCheckpoint()
    )
    suspect_rows = int(suspected.get["rows"] or 0)
    if suspect_rows == 0:
        return None, 0, 0
    wanted = F.broadcast(suspects) if suspect_rows <= BROADCAST_RESENDS else suspects
    copies = (
        usable.join(wanted, event_hash() == wanted["_hash"], "left_semi")
        .select(*_POSITION, IN_RANGE)
        .localCheckpoint()
    )
    counted = Observation(f"{topic}_resent")
    resent = (
        copies.groupBy("event_id")
        .agg(
            F.count(F.lit(1)).alias("_copies"),
            F.min(F.struct(LANDED_ORDER, "kafka_partition", "kafka_offset")).alias("_first"),
        )
        .filter(F.col("_copies") > 1)
        .observe(counted, F.count(F.lit(1)).alias("ids"), F.sum("_copies").alias("copies"))
        .select("event_id", "_first")
        .localCheckpoint()
    )
    ids, total = int(counted.get["ids"]), int(counted.get["copies"] or 0)
    if ids == 0:
        return None, 0, 0
    later_in_range = _first_copies(copies.filter(F.col(IN_RANGE)), resent, total - ids, keep=False).count()
    return resent, total - ids, later_in_range


def _is_first() -> Column:
    return F.col("_first").isNull() | (
        (F.col(LANDED_ORDER) == F.col(f"_first.{LANDED_ORDER}"))
        & (F.col("kafka_partition") == F.col("_first.kafka_partition"))
        & (F.col("kafka_offset") == F.col("_first.kafka_offset"))
    )


def _first_copies(rows: DataFrame, resent: DataFrame | None, duplicates: int, *, keep: bool = True) -> DataFrame:
    """The rows whose event_id was seen once and the first copy of the others (`keep`), or the later copies."""
    if resent is None:
        return rows if keep else rows.limit(0)
    others = F.broadcast(resent) if duplicates <= BROADCAST_RESENDS else resent
    joined = rows.join(others, "event_id", "left")
    return joined.filter(_is_first() if keep else ~_is_first()).drop("_first")


def _usable(rows: DataFrame) -> DataFrame:
    return rows.filter(F.col(REASON).isNull()).drop(REASON)


def _counted(
    topic: str, files: Sequence[str], rows: DataFrame, kept: "_Keep"
) -> tuple[DataFrame, TopicCounts]:
    """One topic's first copies in range, narrowed, as a plan to read again (`rows` are judged), and its counts.

    Nothing is cached: each reader of the result filters it to the rows it
    can use, and the first-copy test is a test of each row alone against the
    small table of resends found over every usable row, so it gives the same
    rows whatever filter comes before or after it.
    """
    judgements = rows.agg(F.count(F.lit(1)).alias("rows"), *reason_counts(topic)).collect()[0].asDict()
    usable = kept.select(_usable(rows))
    in_range = int(usable.agg(F.count_if(F.col(IN_RANGE)).alias("rows")).collect()[0]["rows"] or 0)
    resent, duplicates, later_in_range = _resent(usable, topic)
    first = _first_copies(usable.filter(F.col(IN_RANGE)), resent, duplicates)
    return kept.narrow(first), TopicCounts(
        files=len(files),
        rows_read=int(judgements["rows"]),
        duplicates_dropped=duplicates,
        rows_kept=in_range - later_in_range,
        unusable=unusable_counts(counted_reasons(topic, judgements)),
    )


class _Keep:
    """What a topic reads of its usable rows (`select`: the columns the tiers use, the copy's position and
    whether it is in range) and what it keeps of its first copies in range (`narrow`)."""

    def select(self, events: DataFrame) -> DataFrame:
        raise NotImplementedError

    def narrow(self, kept: DataFrame) -> DataFrame:
        raise NotImplementedError


class _Stays(_Keep):
    """Stays that can meet the range: with the linger a source adds after it (a target's own stay must meet
    the range, `jobs.trace.spark.venue_exposure` checks); a stay's end without checkout is checkin + default stay."""

    def __init__(self, params: TraceParams) -> None:
        self.params = params

    def select(self, events: DataFrame) -> DataFrame:
        start = F.unix_micros("checkin_at")
        end = F.coalesce(F.unix_micros("checkout_at"), start + F.lit(self.params.default_stay_us))
        stays = events.select(
            *_POSITION,
            F.col("person_pseudonym").alias("person"), "venue_id", start.alias("start_us"), end.alias("end_us"),
            F.col("checkout_at").isNull().alias("imputed"),
        )
        return stays.withColumn(
            IN_RANGE,
            (F.col("start_us") < self.params.range_end_us)
            & (F.col("end_us") + F.lit(self.params.linger_us) >= self.params.range_start_us),
        )

    def narrow(self, kept: DataFrame) -> DataFrame:
        return kept.select("person", "venue_id", "start_us", "end_us", "imputed")


class _Sightings(_Keep):
    """Sightings observed in [range_start, range_end); only the close ones are kept."""

    def __init__(self, params: TraceParams, spark: SparkSession) -> None:
        self.params = params
        self.thresholds = driver_rows(spark, THRESHOLD_COLUMNS, params.thresholds())

    def select(self, events: DataFrame) -> DataFrame:
        observed = F.unix_micros("observed_at")
        return events.select(
            *_POSITION,
            F.col("reporter_pseudonym").alias("reporter"),
            F.col("contact_pseudonym").alias("contact"),
            observed.alias("observed_us"),
            "rssi",
            "reporter_os",
            "contact_os",
        ).withColumn(
            IN_RANGE,
            (F.col("observed_us") >= self.params.range_start_us) & (F.col("observed_us") < self.params.range_end_us),
        )

    def narrow(self, kept: DataFrame) -> DataFrame:
        close = kept.join(F.broadcast(self.thresholds), ["reporter_os", "contact_os"]).filter(
            F.col("rssi") >= F.col("threshold_dbm")
        )
        return close.select("reporter", "contact", "observed_us", "rssi", "reporter_os", "contact_os")


class _Reports(_Keep):
    """Case reports reported before the end of D; they keep their position, which breaks ties of reported_at."""

    def __init__(self, params: TraceParams) -> None:
        self.params = params

    def select(self, events: DataFrame) -> DataFrame:
        reported: Column = F.unix_micros("reported_at")
        return events.select(
            *_POSITION,
            F.col("person_pseudonym").alias("person"),
            "kind",
            reported.alias("reported_us"),
            "sample_date",
            "onset_date",
            F.unix_micros("isolated_at").alias("isolated_us"),
        ).withColumn(IN_RANGE, F.col("reported_us") < self.params.end_of_day_us)

    def narrow(self, kept: DataFrame) -> DataFrame:
        """The few reports are cached: case status reads them several times."""
        return kept.select(
            "person", "kind", "reported_us", "sample_date", "onset_date", "isolated_us",
            LANDED_ORDER, "kafka_partition", "kafka_offset",
        ).localCheckpoint()


def read_inputs(spark: SparkSession, plan: InputPlan, params: TraceParams) -> SparkInputs:
    keeps: dict[str, _Keep] = {
        "checkins": _Stays(params),
        "proximity": _Sightings(params, spark),
        "case_reports": _Reports(params),
    }
    frames: dict[str, DataFrame] = {}
    counts: dict[str, TopicCounts] = {}
    for topic, keep in keeps.items():
        files = plan.files[topic]
        rows = judged(spark, read_raw(spark, topic, files), topic, params)
        rows = rows.withColumn(LANDED_ORDER, landed_order(params))
        frames[topic], counts[topic] = _counted(topic, files, rows, keep)
    return SparkInputs(
        stays=frames["checkins"], sightings=frames["proximity"], reports=frames["case_reports"], counts=counts
    )
