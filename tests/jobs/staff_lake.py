"""A hand-made lake and an agency roster whose staff check is known exactly (D = 2021-08-10, 7 days).

The window is 2021-08-04 to 2021-08-10, local (Asia/Ho_Chi_Minh). What the lake
says of each roster person:

| person | phone / CCCD | QR check-in in window | Bluezone in window |
|---|---|---|---|
| An | 0912 345 001 | 08-09 (and 08-03, before) | - |
| Bình | 0912 345 002 | - | 08-05 as reporter |
| Cường | 0912 345 003 | 08-10 23:30 | 08-08 as contact |
| Dung | 0912 345 004 | 08-11 00:30 (after) | 08-03 23:59 (before) |
| Em | CCCD 056201234567 | 08-07 | - |
| Hải | 0912 345 005 | only a `manual` one, 08-08 | - |
| Hương | 0912 345 006 | 08-04 00:10 | 08-06 as reporter |
| Khoa | 0912 345 007 | - | - |
"""

import csv
import io
from datetime import date
from pathlib import Path

from tests.jobs.lakebuilder import LakeBuilder

DAY = date(2021, 8, 10)
DAYS = 7
STRANGER = "0988 000 111"
"""Someone the roster's people meet, who is on no roster."""

HEALTH = "Sở Y tế Khánh Hòa"
WARD = "UBND phường Lộc Thọ"
SERVICE = "Phòng Nghiệp vụ Y"
OFFICE = "Văn phòng Sở"
DESK = "Bộ phận một cửa"

ENGLISH_HEADER = ("Agency", "Unit", "Full name", "Phone", "Citizen ID")
VIETNAMESE_HEADER = ("STT", "Cơ quan", "Đơn vị", "Họ và tên", "Số điện thoại", "CCCD")
ROWS: tuple[tuple[str, str, str, str, str], ...] = (
    (HEALTH, SERVICE, "Nguyễn Văn An", "0912 345 001", ""),         # line 2
    (HEALTH, SERVICE, "Trần Thị Bình", "+84912345002", ""),          # line 3
    (HEALTH, SERVICE, "Lê Văn Cường", "84-912-345-003", ""),         # line 4
    (HEALTH, OFFICE, "Phạm Thị Dung", "0912.345.004", ""),           # line 5
    (HEALTH, OFFICE, "Hoàng Văn Em", "", "056201234567"),            # line 6
    (HEALTH, "phòng nghiệp vụ y", "Nguyễn Văn An", "+84 912 345 001", ""),  # line 7: line 2 again
    (HEALTH, OFFICE, "Đỗ Thị Giang", "0912 34", ""),                 # line 8: a bad number
    (WARD, DESK, "Võ Văn Hải", "0912345005", ""),                    # line 9
    (WARD, DESK, "Lê Văn Cường", "0912345003", ""),                  # line 10: also on the health roster
    (WARD, DESK, "Ngô Thị Hương", "091 234 5006", ""),               # line 11
    (WARD, DESK, "Bùi Văn Khoa", "0912-345-007", ""),                # line 12
    ("", DESK, "Đinh Văn Long", "0912345008", ""),                   # line 13: no agency
)
NAMES = tuple(sorted({row[2] for row in ROWS}))
PHONE_DIGITS = ("912345001", "912345002", "912345003", "912345004", "912345005", "912345006", "912345007",
                "912345008", "056201234567")
"""Every roster id as digits only: any spelling of it, separators removed, contains one of these."""


def build_lake(root: Path, vault: Path) -> LakeBuilder:
    builder = LakeBuilder(root, vault)
    builder.venue("V1", "Chợ Đầm", "568", "56")
    builder.checkin("0912345001", "V1", "2021-08-09T10:00")
    builder.checkin("0912345001", "V1", "2021-08-03T10:00")
    builder.checkin("0912345003", "V1", "2021-08-10T23:30")
    builder.checkin("0912345004", "V1", "2021-08-11T00:30")
    builder.checkin("056201234567", "V1", "2021-08-07T09:00")
    builder.checkin("0912345005", "V1", "2021-08-08T09:00", source="manual")
    builder.checkin("0912345006", "V1", "2021-08-04T00:10")
    builder.checkin(STRANGER, "V1", "2021-08-09T10:05")
    builder.sighting("0912345002", STRANGER, "2021-08-05T08:00")
    builder.sighting(STRANGER, "0912345003", "2021-08-08T12:00")
    builder.sighting("0912345004", STRANGER, "2021-08-03T23:59")
    builder.sighting("0912345006", STRANGER, "2021-08-06T18:00")
    builder.write()
    return builder


def roster_text(header: tuple[str, ...] = ENGLISH_HEADER, *, delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for number, row in enumerate(ROWS, start=1):
        writer.writerow((str(number), *row) if header[0] == "STT" else row)
    return buffer.getvalue()


def write_roster(path: Path, header: tuple[str, ...] = ENGLISH_HEADER, *, bom: bool = False,
                 delimiter: str = ",") -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + roster_text(header, delimiter=delimiter).encode("utf-8"))
    return path
