"""Two sections of the tracers' page only: how well each rule predicts, and the Bluetooth sensors' quality.

Both print exact counts of people, some from 1 to 9, so they refuse to render
on the public page; `jobs.publish.day` hands them to the tracers' report alone.
Each shows the table of the same run (`jobs.publish.prediction`, `jobs.publish.sensor_quality`),
so the page and the analysts' files cannot disagree.
"""

from datetime import date

import pyarrow as pa

from jobs.publish.report.context import ReportContext
from jobs.publish.report.html import Metric, format_number, note, slug, table
from jobs.publish.report.section import ReportSection

CHECK_NAMES = {
    "clock_ahead": "Đồng hồ chạy nhanh · clock ahead",
    "clock_behind": "Đồng hồ chạy chậm · clock behind",
    "burst": "Bản sao trùng lặp · bursts of copies",
    "rssi_implausible": "RSSI ngoài khoảng hợp lý · implausible RSSI",
    "rssi_outlier": "RSSI bất thường · RSSI outliers",
}
POPULATION_NAMES = {"landed": "đến lake hôm nay · landed on D", "observed": "ghi nhận hôm nay · observed on D"}
BREAKDOWN_NAMES = {
    "channel": "Kênh · channel",
    "venue_kind": "Loại địa điểm · venue kind",
    "os_pair": "Bluetooth: cặp hệ điều hành · OS pair",
    "rssi_band": "Bluetooth: RSSI trung bình · mean RSSI",
    "os_pair_rssi_band": "Bluetooth: cặp HĐH × RSSI · OS pair × RSSI",
}


class _TracersOnly(ReportSection):
    def __init__(self, day: date, rows: pa.Table) -> None:
        self.day = day
        self.rows = rows.to_pylist()

    def render(self, context: ReportContext) -> str:
        if context.public:
            raise ValueError(f"{self.key} prints exact counts of people: tracers' page only")
        if context.day != self.day:
            raise ValueError(f"{self.key} of {self.day} on the report of {context.day}")
        return self.body()

    def body(self) -> str:
        raise NotImplementedError

    def metric(self, name: str, value: float | int | None, suffix: str = "") -> Metric:
        return Metric(f"{self.key}.{name}", value, suffix)


def _percent(share: float) -> float:
    return round(100 * share, 1)


class PredictionSection(_TracersOnly):
    key = "prediction"
    title = "Quy tắc nào dự báo đúng"
    subtitle = "How well each rule predicts: of the people flagged F1, the share confirmed F0 within the follow-up"

    def body(self) -> str:
        if not self.rows:
            return note("Chưa có F1 nào · no F1 flagged in the run days so far.")
        follow_up = self.rows[0]["follow_up_days"]
        blocks = []
        for breakdown, name in BREAKDOWN_NAMES.items():
            rows = [row for row in self.rows if row["breakdown"] == breakdown]
            if not rows:
                continue
            blocks.append(f"<h3>{name}</h3>" + table(
                ("Nhóm · group", "F1", "→ F0", "Đang theo dõi · pending", "Tỉ lệ · share", "95 %"),
                (
                    (
                        row["label"],
                        self.metric(f"{breakdown}.{slug(row['label'])}.flagged", row["flagged"]),
                        self.metric(f"{breakdown}.{slug(row['label'])}.became_f0", row["became_f0"]),
                        self.metric(f"{breakdown}.{slug(row['label'])}.pending", row["pending"]),
                        self.metric(f"{breakdown}.{slug(row['label'])}.share", _percent(row["share"]), " %"),
                        f"{_percent(row['ci_low']):.1f}–{_percent(row['ci_high']):.1f} %",
                    )
                    for row in rows
                ),
            ))
        since = self.rows[0]["first_run_day"]
        return (
            note(
                f"Each person counts once per group, from the first run day an F1 edge of that group named them; "
                f"they count as F0 when a run day lists them confirmed within {follow_up} days of that exposure. "
                f"Run days read: {since} to {self.day}. Pending people are still inside their {follow_up} days: "
                "the share is a lower bound until they leave it. 95 % Wilson intervals."
            )
            + "".join(blocks)
        )


class SensorQualitySection(_TracersOnly):
    key = "sensor-quality"
    title = "Chất lượng cảm biến Bluetooth"
    subtitle = "Bluetooth sensor quality: counted, never filtered; no tier changes because of it"

    def body(self) -> str:
        rows = table(
            ("Kiểm tra · check", "Trên · among", "Máy báo · reporters", "Lần thấy · sightings", "Trong số · of"),
            (
                (
                    CHECK_NAMES.get(row["check"], row["check"]),
                    POPULATION_NAMES.get(row["population"], row["population"]),
                    self.metric(f"{row['check']}.reporters", row["reporters"]),
                    self.metric(f"{row['check']}.sightings", row["sightings"]),
                    f"{format_number(row['of_reporters'])} / {format_number(row['of_sightings'])}",
                )
                for row in self.rows
            ),
            numeric_from=2,
        )
        return rows + note(
            "Clock: a reporter whose newest sighting uploaded on D was observed after the upload (ahead), or longer "
            "before it than Bluezone keeps sightings (behind, or old data replayed). Bursts: extra copies of one "
            "sighting under other event ids. RSSI: outside -110..-20 dBm, or 4 standard deviations off the "
            "reporter's own mean of the day."
        )
