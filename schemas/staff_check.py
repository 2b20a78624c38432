"""Arrow schemas of the agency staff check's tables (jobs.staff_check).

`STAFF_CHECK_PEOPLE` names people and lives in the tracers' area only
(`exports/staff_check/date=D/`); `STAFF_CHECK_AGENCIES` is the public and
analysts' table (`public/staff_check_agencies/date=D/`), whose counts are
figures as printed: a number, or `<10` / `≥10` when hidden.
"""

import pyarrow as pa

STAFF_CHECK_PEOPLE = pa.schema(
    [
        pa.field("agency", pa.string(), nullable=False),
        pa.field("unit", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("person_id", pa.string(), nullable=False),
        pa.field("checked_in", pa.bool_(), nullable=False),
        pa.field("bluezone", pa.bool_(), nullable=False),
        pa.field("last_checkin_day", pa.date32()),
        pa.field("last_bluezone_day", pa.date32()),
        pa.field("roster_line", pa.int32(), nullable=False),
    ]
)

STAFF_CHECK_AGENCIES = pa.schema(
    [
        pa.field("agency", pa.string(), nullable=False),
        pa.field("unit", pa.string()),
        pa.field("level", pa.string(), nullable=False),
        pa.field("staff", pa.string(), nullable=False),
        pa.field("checked_in", pa.string(), nullable=False),
        pa.field("bluezone", pa.string(), nullable=False),
        pa.field("neither", pa.string(), nullable=False),
        pa.field("checked_in_share", pa.float64()),
        pa.field("bluezone_share", pa.float64()),
        pa.field("neither_share", pa.float64()),
        pa.field("window_first_day", pa.date32(), nullable=False),
        pa.field("window_last_day", pa.date32(), nullable=False),
    ]
)
