import pytest

from shop.accounts.models import Role
from shop.extensions import db
from shop.orders.services import Address, Contact
from tests.factories import make_point, make_product, make_stock, make_user

CONTACT = Contact(name="Nguyễn Thị Hoa", phone="0912 345 678", email="Hoa@Example.vn")
ADDRESS = Address(province_code=75, ward_code=26221, street="12 Đường Hùng Vương")


@pytest.fixture
def staff(app_ctx):
    return make_user(Role.POINT_MANAGER, email="staff@example.vn")


@pytest.fixture
def shop(staff):
    """A centre (serves deliveries) and a point; cashews at both (5 at the centre, 2 at the point), honey only at
    the centre (10)."""
    centre = make_point("DN-TT-01", tier="centre", name="Trung tâm OCOP Đồng Nai")
    point = make_point("DN-XL-01", name="Điểm OCOP Xuân Lộc")
    cashews = make_product(name="Hạt điều rang muối", price_vnd=120_000)
    honey = make_product(name="Mật ong hoa cà phê", price_vnd=90_000)
    make_stock(centre, cashews, staff, lot_code="C1", quantity=5)
    make_stock(point, cashews, staff, lot_code="X1", quantity=2)
    make_stock(centre, honey, staff, lot_code="H1", quantity=10)
    db.session.commit()
    return {"centre": centre, "point": point, "cashews": cashews, "honey": honey, "staff": staff}
