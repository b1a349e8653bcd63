"""Vietnam's administrative units after the 2025 reform (34 provinces, 2-tier), from `vietnam-provinces`,
plus the former districts of Đồng Nai that certificates and old labels still name."""
from functools import lru_cache

from vietnam_provinces import Province, ProvinceCode, Ward, WardCode

# Former (pre-1/7/2025) districts of Đồng Nai and Bình Phước, kept as history labels: key -> display name.
FORMER_DISTRICTS = {
    "bien-hoa": "TP. Biên Hòa",
    "long-khanh": "TP. Long Khánh",
    "vinh-cuu": "H. Vĩnh Cửu",
    "tan-phu": "H. Tân Phú",
    "dinh-quan": "H. Định Quán",
    "xuan-loc": "H. Xuân Lộc",
    "cam-my": "H. Cẩm Mỹ",
    "thong-nhat": "H. Thống Nhất",
    "trang-bom": "H. Trảng Bom",
    "long-thanh": "H. Long Thành",
    "nhon-trach": "H. Nhơn Trạch",
    # Former Bình Phước, merged into Đồng Nai in 2025
    "dong-xoai": "TP. Đồng Xoài",
    "dong-phu": "H. Đồng Phú",
    "bu-dang": "H. Bù Đăng",
    "bu-gia-map": "H. Bù Gia Mập",
    "phu-rieng": "H. Phú Riềng",
    "phuoc-long": "TX. Phước Long",
    "chon-thanh": "TX. Chơn Thành",
}


@lru_cache
def provinces() -> list[tuple[int, str]]:
    return sorted(((p.code.value, p.name) for p in Province.iter_all()), key=lambda item: item[1])


@lru_cache
def province_name(code: int | None) -> str:
    if code is None:
        return ""
    try:
        return Province.from_code(ProvinceCode(code)).name
    except ValueError:
        return ""


@lru_cache
def wards(province_code: int) -> list[tuple[int, str]]:
    return sorted(((w.code.value, w.name) for w in Ward.iter_by_province(ProvinceCode(province_code))),
                  key=lambda item: item[1])


@lru_cache
def ward_name(code: int | None) -> str:
    if code is None:
        return ""
    try:
        return Ward.from_code(WardCode(code)).name
    except ValueError:
        return ""


def ward_in_province(ward_code: int, province_code: int) -> bool:
    try:
        return Ward.from_code(WardCode(ward_code)).province_code.value == province_code
    except ValueError:
        return False


def ward_code_by_name(province_code: int, name: str) -> int | None:
    """'Phú Hòa' or 'Xã Phú Hòa' -> its code in that province."""
    from shop.core.text import fold

    wanted = fold(name)
    for code, ward in wards(province_code):
        folded = fold(ward)
        if folded == wanted or folded.split(" ", 1)[-1] == wanted:
            return code
    return None


def former_district_name(key: str | None) -> str:
    return FORMER_DISTRICTS.get(key or "", "")


def short_address(street: str | None, ward_code: int | None, province_code: int | None) -> str:
    return ", ".join(part for part in (street, ward_name(ward_code), province_name(province_code)) if part)
