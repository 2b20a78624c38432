"""The simulated province: its districts, where people live and what places are called.

Bắc Giang (province code 24) is the default because its 2021 outbreak ran
through industrial parks, which is the shape of contact network the tiers have
to handle: large factories, shared shifts, dense households around them.
"""

from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class District:
    code: str
    name: str
    lat: float
    lon: float
    population_share: float
    communes: tuple[str, ...]
    industrial_parks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    cccd_prefix: str
    """The 3-digit place-of-registration code that starts a citizen ID issued here."""
    timezone: ZoneInfo
    districts: tuple[District, ...]

    @property
    def shares(self) -> list[float]:
        total = sum(d.population_share for d in self.districts)
        return [d.population_share / total for d in self.districts]


BAC_GIANG = Province(
    code="24",
    name="Bắc Giang",
    cccd_prefix="024",
    timezone=ZoneInfo("Asia/Ho_Chi_Minh"),
    districts=(
        District("213", "TP Bắc Giang", 21.273, 106.194, 0.11,
                 ("Trần Phú", "Ngô Quyền", "Hoàng Văn Thụ", "Lê Lợi", "Dĩnh Kế", "Xương Giang",
                  "Đa Mai", "Thọ Xương", "Song Mai", "Tân Mỹ"),
                 ("Song Khê - Nội Hoàng",)),
        District("215", "Yên Thế", 21.520, 106.120, 0.055,
                 ("Cầu Gồ", "Bố Hạ", "Phồn Xương", "Đồng Kỳ", "Tam Tiến")),
        District("216", "Tân Yên", 21.380, 106.100, 0.095,
                 ("Cao Thượng", "Nhã Nam", "Phúc Hòa", "Ngọc Thiện", "Liên Sơn")),
        District("217", "Lạng Giang", 21.360, 106.250, 0.115,
                 ("Vôi", "Kép", "Tân Dĩnh", "Mỹ Thái", "Hương Sơn")),
        District("218", "Lục Nam", 21.290, 106.390, 0.12,
                 ("Đồi Ngô", "Lục Nam", "Bảo Đài", "Cương Sơn", "Tam Dị")),
        District("219", "Lục Ngạn", 21.380, 106.550, 0.13,
                 ("Chũ", "Kiên Lao", "Phượng Sơn", "Biển Động", "Tân Quang")),
        District("220", "Sơn Động", 21.330, 106.850, 0.05,
                 ("An Châu", "Thanh Sơn", "Long Sơn", "Vân Sơn")),
        District("221", "Yên Dũng", 21.210, 106.240, 0.09,
                 ("Neo", "Tân An", "Nham Sơn", "Tiến Dũng", "Cảnh Thụy"),
                 ("Song Khê - Nội Hoàng",)),
        District("222", "Việt Yên", 21.270, 106.080, 0.11,
                 ("Bích Động", "Nếnh", "Quang Châu", "Vân Trung", "Hoàng Ninh", "Tăng Tiến"),
                 ("Quang Châu", "Vân Trung", "Đình Trám")),
        District("223", "Hiệp Hòa", 21.350, 105.970, 0.125,
                 ("Thắng", "Đức Thắng", "Hoàng Vân", "Mai Đình", "Lương Phong"),
                 ("Hòa Phú",)),
    ),
)
