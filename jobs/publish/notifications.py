"""The notification list: everyone a district's tracers cannot call today gets a text message instead.

`exports/notifications/date=D/district=<code>/notify.csv` is made for a bulk
SMS gateway: the person's own number (E.164) and a short Vietnamese message
naming the place and the day of their latest exposure, nothing about anyone
else (no source, no case, no other person's number). People known only by a
citizen ID cannot be texted: their row carries the ID instead of a number, so
the tracers see who still needs a phone number, and nobody drops out.

Cells go through `jobs.spreadsheet` (a column at a time, `jobs.publish.csv_columns`): a venue named like a
formula stays text. The message is put together in SQL (`NOTIFY_SELECT`), so a district of a hundred
thousand people to text is one query and one write, not a Python call per person.
"""

import pyarrow as pa

from jobs.publish.csv_columns import csv_bytes, safe_column

NOTIFY_FILE = "notify.csv"
COLUMNS = ("number", "citizen_id", "message")
HOTLINE = "1900 9095"
"""The Ministry of Health's hotline."""

NOTIFY_SELECT = f"""
    CASE WHEN starts_with(person_id, '+') THEN person_id ELSE '' END AS number,
    CASE WHEN starts_with(person_id, '+') THEN '' ELSE person_id END AS citizen_id,
    'Thông báo y tế: bạn có thể đã tiếp xúc với '
    || CASE WHEN tier = 'F1' THEN 'người nhiễm COVID-19' ELSE 'người đã tiếp xúc gần với ca COVID-19' END
    || CASE WHEN channel = 'venue' AND coalesce(place, '') <> '' THEN ' tại ' || place
            WHEN channel = 'ble' THEN ' qua Bluezone'
            ELSE '' END
    || ' ngày ' || strftime(timezone($zone, last_exposure_at), '%d/%m') || '. '
    || 'Hãy tự theo dõi sức khỏe 14 ngày, hạn chế tiếp xúc và gọi {HOTLINE} nếu có triệu chứng.' AS message
"""
"""The three columns of `notify.csv`, from a person's `person_id`, `tier`, `last_exposure_at`, the `channel`
of their latest exposure (`venue`, `ble`, or null when the contact graph does not know them) and its `place`
(the venue's name, or id when the venue is not registered); `$zone` is the rules' time zone.

The text: an F1 was near a case, anyone further down near someone who was; where (the venue, or Bluezone)
and the local day of their latest exposure; nothing about anyone else."""


def notify_csv(notices: pa.Table) -> bytes:
    """The CSV of a district's rows of `NOTIFY_SELECT`, formula-safe, UTF-8 with a byte-order mark."""
    return csv_bytes(COLUMNS, [safe_column(notices[column]) for column in COLUMNS])
