"""The 6 OCOP product groups and their sub-groups under Decision 148/QĐ-TTg (2023).

Sub-groups 1.4–1.6 and those of groups 2–5 follow the 148 annex as reproduced by provincial guides; the
domain notes mark some as unconfirmed, so they are data here and easy to change.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    code: str
    vi: str
    en: str

    def label(self, locale: str = "vi") -> str:
        return self.vi if locale == "vi" else self.en


GROUPS: dict[str, Group] = {g.code: g for g in (
    Group("1", "Thực phẩm", "Food"),
    Group("2", "Đồ uống", "Drinks"),
    Group("3", "Thảo dược", "Medicinal herbs and herbal products"),
    Group("4", "Thủ công mỹ nghệ", "Handicrafts"),
    Group("5", "Sinh vật cảnh", "Ornamental plants and animals"),
    Group("6", "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
          "Community tourism, eco-tourism and tourist sites"),
)}

SUBGROUPS: dict[str, Group] = {g.code: g for g in (
    Group("1.1a", "Rau, củ, quả, hạt tươi", "Fresh vegetables, tubers, fruit and nuts"),
    Group("1.1b", "Thịt, thủy sản, trứng, sữa tươi", "Fresh meat, aquatic products, eggs and milk"),
    Group("1.2a", "Gạo, ngũ cốc", "Rice and cereals"),
    Group("1.2b", "Mật ong, các loại mật khác, nông sản thực phẩm khác", "Honey, syrups and other produce"),
    Group("1.3a", "Thực phẩm ăn nhanh", "Fast food"),
    Group("1.3b", "Chế biến từ gạo, ngũ cốc", "Processed from rice and cereals"),
    Group("1.3c", "Chế biến từ rau, củ, quả, hạt", "Processed from vegetables, fruit and nuts"),
    Group("1.3d", "Chế biến từ thịt, trứng, sữa, thủy sản, mật ong", "Processed from meat, eggs, milk, fish, honey"),
    Group("1.4", "Gia vị", "Spices and sauces"),
    Group("1.5", "Chè", "Tea"),
    Group("1.6", "Sản phẩm từ cà phê, ca cao", "Coffee and cocoa products"),
    Group("2.1", "Đồ uống có cồn", "Alcoholic drinks"),
    Group("2.2", "Đồ uống không cồn", "Non-alcoholic drinks"),
    Group("3.1", "Thực phẩm chức năng, thuốc dược liệu", "Health supplements and herbal medicines"),
    Group("3.2", "Mỹ phẩm có thành phần từ thảo dược", "Herbal cosmetics"),
    Group("3.3", "Tinh dầu và thảo dược khác", "Essential oils and other herbal products"),
    Group("4.1", "Thủ công mỹ nghệ, trang trí, gia dụng", "Handicrafts, decoration and household goods"),
    Group("5.1", "Hoa, cây cảnh", "Flowers and ornamental plants"),
    Group("5.2", "Động vật cảnh", "Ornamental animals"),
    Group("6.1", "Du lịch cộng đồng, du lịch sinh thái, điểm du lịch", "Community and eco-tourism, tourist sites"),
)}


def group_of(subgroup_code: str) -> str:
    return subgroup_code.split(".", 1)[0]
