"""The notification list: everyone a district's tracers cannot call today gets a text message instead.

`exports/notifications/date=D/district=<code>/notify.csv` is made for a bulk
SMS gateway: the person's own number (E.164) and a short Vietnamese message
naming the place and the day of their latest exposure, nothing about anyone
else (no source, no case, no other person's number). People known only by a
citizen ID cannot be texted: their row carries the ID instead of a number, so
the tracers see who still needs a phone number, and nobody drops out.

Cells go through `jobs.spreadsheet`: a venue named like a formula stays text.
"""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from jobs.spreadsheet import safe_row

NOTIFY_FILE = "notify.csv"
COLUMNS = ("number", "citizen_id", "message")
CSV_ENCODING = "utf-8-sig"
HOTLINE = "1900 9095"
"""The Ministry of Health's hotline."""


@dataclass(frozen=True)
class Notice:
    """One person to text: who, their tier, and where and when they were last exposed."""

    person_id: str
    tier: str
    last_exposure_at: datetime
    channel: str | None
    """Of the latest exposure: `venue`, `ble`, or None when the contact graph does not know the person."""
    place: str | None
    """The latest exposure's venue name (or id, when the venue is not registered)."""


def _where(notice: Notice) -> str:
    if notice.channel == "venue" and notice.place:
        return f" tại {notice.place}"
    if notice.channel == "ble":
        return " qua Bluezone"
    return ""


def message(notice: Notice, zone: ZoneInfo) -> str:
    """The text: an F1 was near a case, anyone further down near someone who was."""
    who = "người nhiễm COVID-19" if notice.tier == "F1" else "người đã tiếp xúc gần với ca COVID-19"
    day = notice.last_exposure_at.astimezone(zone).strftime("%d/%m")
    return (
        f"Thông báo y tế: bạn có thể đã tiếp xúc với {who}{_where(notice)} ngày {day}. "
        f"Hãy tự theo dõi sức khỏe 14 ngày, hạn chế tiếp xúc và gọi {HOTLINE} nếu có triệu chứng."
    )


def notify_csv(notices: Sequence[Notice], zone: ZoneInfo) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for notice in notices:
        phone = notice.person_id.startswith("+")
        writer.writerow(
            safe_row(
                {
                    "number": notice.person_id if phone else "",
                    "citizen_id": "" if phone else notice.person_id,
                    "message": message(notice, zone),
                }
            )
        )
    return buffer.getvalue().encode(CSV_ENCODING)
