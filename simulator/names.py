"""Vietnamese-looking names for venues, so exports and dashboards read like the real thing."""

import numpy as np

from simulator.province import District

_PRODUCTS = ("may mặc", "linh kiện điện tử", "giày da", "bao bì", "chế biến gỗ",
             "thức ăn chăn nuôi", "cơ khí chính xác", "nhựa", "dây cáp điện", "kính quang học")
_COMPANIES = ("Công ty CP Đầu tư Phú Cường", "Công ty TNHH Minh Phát", "Công ty CP Xây dựng Hà Bắc",
              "Công ty TNHH Thương mại An Phúc", "Công ty CP Vận tải Sông Thương")
_PUBLIC = ("UBND xã", "Bưu điện", "Ngân hàng Agribank chi nhánh", "Chi cục Thuế", "Công an xã")
_SCHOOLS = ("Trường Mầm non", "Trường Tiểu học", "Trường THCS", "Trường THPT")
_CLINICS = ("Trạm Y tế xã", "Phòng khám đa khoa", "Bệnh viện Đa khoa")
_SUPERMARKETS = ("Co.opmart", "WinMart", "Bách Hóa Xanh", "Big C", "Siêu thị Mini")
_CAFES = ("Mộc", "Hạt Nâu", "Phố Núi", "Gió", "Ngõ Nhỏ", "Sông Thương", "Lá", "Đen Đá",
          "Góc Phố", "Mây", "Ấm", "Bên Hồ", "Cây Bàng", "Vườn Xưa")
_EATERIES = ("Quán cơm", "Quán phở", "Bún chả", "Bún đậu", "Lẩu dê", "Cơm bình dân", "Bánh cuốn")
_OWNERS = ("Bà Hoa", "Cô Lan", "Anh Tuấn", "Hùng Béo", "Thu Hà", "Minh Phương", "Chị Hằng",
           "Cường", "Bác Tư", "Ngọc Mai")
_PHARMACIES = ("Nhà thuốc Long Châu", "Nhà thuốc An Khang", "Nhà thuốc Minh Châu",
               "Quầy thuốc Bảo Ngọc", "Nhà thuốc Thanh Bình")


def venue_name(kind: str, district: District, rng: np.random.Generator) -> str:
    def one(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(0, len(options)))]

    place = one(district.communes)
    number = int(rng.integers(1, 10))
    if kind == "factory":
        park = one(district.industrial_parks) if district.industrial_parks else place
        return f"Nhà máy {one(_PRODUCTS)} số {number} - KCN {park}" if district.industrial_parks \
            else f"Nhà máy {one(_PRODUCTS)} {place}"
    if kind == "office":
        return f"{one(_PUBLIC)} {place}" if rng.random() < 0.5 else f"{one(_COMPANIES)} - VP {place}"
    if kind == "school":
        return f"{one(_SCHOOLS)} {place}"
    if kind == "clinic":
        clinic = one(_CLINICS)
        return f"{clinic} {district.name}" if clinic == "Bệnh viện Đa khoa" else f"{clinic} {place}"
    if kind == "market":
        return f"Chợ {place}" if rng.random() < 0.7 else f"Chợ đầu mối {place} {number}"
    if kind == "supermarket":
        return f"Siêu thị {one(_SUPERMARKETS)} {place}"
    if kind == "cafe":
        return f"Quán cà phê {one(_CAFES)}" + (f" {number}" if rng.random() < 0.3 else "")
    if kind == "restaurant":
        return f"{one(_EATERIES)} {one(_OWNERS)}"
    if kind == "pharmacy":
        return f"{one(_PHARMACIES)} {place}"
    raise ValueError(f"unknown venue kind {kind!r}")
