"""Arrow schemas of the lake's tables: the only contract between streams/ and jobs/.

Raw tables hold validated, normalized events with every person id replaced by
its pseudonym (keyed HMAC). Times are UTC instants to the microsecond; the
`date=` directory above each file is the local day of the event.
"""

import pyarrow as pa

UTC_TIME = pa.timestamp("us", tz="UTC")

KAFKA_FIELDS: list[pa.Field] = [
    pa.field("kafka_topic", pa.string(), nullable=False),
    pa.field("kafka_partition", pa.int32(), nullable=False),
    pa.field("kafka_offset", pa.int64(), nullable=False),
    pa.field("kafka_timestamp", UTC_TIME),
    pa.field("landed_at", UTC_TIME),
]
"""Where a row came from: its Kafka record (a timestamp that cannot be an instant is null) and the
lander's clock when it judged it (null in files landed before the lander recorded it)."""

RAW_CHECKINS = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("person_pseudonym", pa.string(), nullable=False),
        pa.field("venue_id", pa.string(), nullable=False),
        pa.field("checkin_at", UTC_TIME, nullable=False),
        pa.field("checkout_at", UTC_TIME),
        pa.field("source", pa.string(), nullable=False),
        *KAFKA_FIELDS,
    ]
)

RAW_PROXIMITY = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("reporter_pseudonym", pa.string(), nullable=False),
        pa.field("contact_pseudonym", pa.string(), nullable=False),
        pa.field("rssi", pa.int32(), nullable=False),
        pa.field("reporter_os", pa.string(), nullable=False),
        pa.field("contact_os", pa.string(), nullable=False),
        pa.field("observed_at", UTC_TIME, nullable=False),
        pa.field("tx_power", pa.int32()),
        *KAFKA_FIELDS,
    ]
)

RAW_CASE_REPORTS = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("person_pseudonym", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("reported_at", UTC_TIME, nullable=False),
        pa.field("sample_date", pa.date32()),
        pa.field("onset_date", pa.date32()),
        pa.field("isolated_at", UTC_TIME),
        *KAFKA_FIELDS,
    ]
)

RAW_VENUES = pa.schema(
    [
        pa.field("event_id", pa.string()),
        pa.field("venue_id", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("district_code", pa.string(), nullable=False),
        pa.field("province_code", pa.string(), nullable=False),
        pa.field("kind", pa.string()),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
        *KAFKA_FIELDS,
    ]
)

RAW: dict[str, pa.Schema] = {
    "checkins": RAW_CHECKINS,
    "proximity": RAW_PROXIMITY,
    "case_reports": RAW_CASE_REPORTS,
    "venues": RAW_VENUES,
}

# Why each rejected message was refused; never its payload, which may name people.
QUARANTINE = pa.schema(
    [
        pa.field("kafka_topic", pa.string(), nullable=False),
        pa.field("kafka_partition", pa.int32(), nullable=False),
        pa.field("kafka_offset", pa.int64(), nullable=False),
        pa.field("kafka_timestamp", UTC_TIME),
        pa.field("event_id", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("landed_at", UTC_TIME, nullable=False),
    ]
)

# The rejected messages' payloads, kept in the identity area (the vault), never in the lake.
REJECTED = pa.schema(
    [
        pa.field("kafka_topic", pa.string(), nullable=False),
        pa.field("kafka_partition", pa.int32(), nullable=False),
        pa.field("kafka_offset", pa.int64(), nullable=False),
        pa.field("raw_value", pa.binary()),
    ]
)

VAULT = pa.schema(
    [
        pa.field("pseudonym", pa.string(), nullable=False),
        pa.field("person_id", pa.string(), nullable=False),
    ]
)

RISK_FIELDS: list[pa.Field] = [
    pa.field("imputed_checkout", pa.bool_()),
    pa.field("risk_score", pa.float64()),
]
"""After the contract's columns of an exposed person: whether every exposure of theirs rests on an imputed
checkout, and the risk score that orders the worklists (jobs/trace/risk.py); null in days traced before them."""

# The tracers' table (CONTRACT.md section 3): one row per exposed person.
EXPOSURES_EXPORT = pa.schema(
    [
        pa.field("person_id", pa.string(), nullable=False),
        pa.field("tier", pa.string(), nullable=False),
        pa.field("first_exposure_at", UTC_TIME, nullable=False),
        pa.field("last_exposure_at", UTC_TIME, nullable=False),
        pa.field("exposure_minutes", pa.float64(), nullable=False),
        pa.field("channels", pa.list_(pa.string()), nullable=False),
        pa.field("source_ids", pa.list_(pa.string()), nullable=False),
        pa.field("case_ids", pa.list_(pa.string()), nullable=False),
        pa.field("venue_ids", pa.list_(pa.string()), nullable=False),
        pa.field("rules_version", pa.string(), nullable=False),
        *RISK_FIELDS,
    ]
)

# The analysts' twin of the export: the same rows, pseudonyms instead of ids.
EXPOSURES_CURATED = pa.schema(
    [
        pa.field("person_pseudonym", pa.string(), nullable=False),
        pa.field("tier", pa.string(), nullable=False),
        pa.field("first_exposure_at", UTC_TIME, nullable=False),
        pa.field("last_exposure_at", UTC_TIME, nullable=False),
        pa.field("exposure_minutes", pa.float64(), nullable=False),
        pa.field("channels", pa.list_(pa.string()), nullable=False),
        pa.field("source_pseudonyms", pa.list_(pa.string()), nullable=False),
        pa.field("case_pseudonyms", pa.list_(pa.string()), nullable=False),
        pa.field("venue_ids", pa.list_(pa.string()), nullable=False),
        pa.field("rules_version", pa.string(), nullable=False),
        *RISK_FIELDS,
    ]
)

# The contact graph: one edge per exposure.
CONTACTS = pa.schema(
    [
        pa.field("source_pseudonym", pa.string(), nullable=False),
        pa.field("source_tier", pa.string(), nullable=False),
        pa.field("target_pseudonym", pa.string(), nullable=False),
        pa.field("target_tier", pa.string(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("venue_id", pa.string()),
        pa.field("exposure_start", UTC_TIME, nullable=False),
        pa.field("exposure_end", UTC_TIME, nullable=False),
        pa.field("exposure_minutes", pa.float64(), nullable=False),
        pa.field("rules_version", pa.string(), nullable=False),
        pa.field("os_pair", pa.string()),
        pa.field("rssi_mean", pa.float64()),
        pa.field("rssi_max", pa.int32()),
        pa.field("imputed_checkout", pa.bool_()),
        pa.field("venue_visitors", pa.int64()),
    ]
)
"""Bluetooth edges also carry their encounter's OS pair (`<source os>-<target os>`) and the mean and
strongest RSSI (dBm) of its close sightings in both directions; null for venue edges. Venue edges carry
`imputed_checkout` (the source's or the target's stay had no checkout: its end is the default stay; false
for Bluetooth) and `venue_visitors` (people with a stay at the venue meeting the exposure, both included;
null for Bluetooth). Both are null in days traced before they existed."""

# Case status per person as of day D (F0s and retractions), for reports and analysts.
CASES = pa.schema(
    [
        pa.field("person_pseudonym", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("window_start", UTC_TIME),
        pa.field("window_end", UTC_TIME),
        pa.field("isolated_at", UTC_TIME),
        pa.field("rules_version", pa.string(), nullable=False),
    ]
)

# How well each rule predicts (jobs/publish/prediction.py): per group of F1 flags, how many became F0 in the follow-up.
PREDICTION = pa.schema(
    [
        pa.field("breakdown", pa.string(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("rssi_from", pa.int32()),
        pa.field("rssi_to", pa.int32()),
        pa.field("flagged", pa.int64(), nullable=False),
        pa.field("became_f0", pa.int64(), nullable=False),
        pa.field("pending", pa.int64(), nullable=False),
        pa.field("share", pa.float64(), nullable=False),
        pa.field("ci_low", pa.float64(), nullable=False),
        pa.field("ci_high", pa.float64(), nullable=False),
        pa.field("follow_up_days", pa.int32(), nullable=False),
        pa.field("first_run_day", pa.date32()),
        pa.field("rules_version", pa.string(), nullable=False),
    ]
)

# Bluetooth sensor quality of a day (jobs/publish/sensor_quality.py): counted, never filtered.
SENSOR_QUALITY = pa.schema(
    [
        pa.field("check", pa.string(), nullable=False),
        pa.field("population", pa.string(), nullable=False),
        pa.field("reporters", pa.int64(), nullable=False),
        pa.field("sightings", pa.int64(), nullable=False),
        pa.field("of_reporters", pa.int64(), nullable=False),
        pa.field("of_sightings", pa.int64(), nullable=False),
    ]
)
