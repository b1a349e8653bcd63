import pytest

from shop.accounts.models import Role
from shop.extensions import db
from shop.orders.services import Address, Contact
from tests.factories import make_point, make_product, make_stock, make_user

CONTACT = Contact(name="Nguyễn Thị Hoa", phone="+84912345678", email="hoa@example.vn")
ADDRESS = Address(province_code=75, ward_code=26221, street="12 Đường Hùng Vương")


@pytest.fixture
def staff(app_ctx):
    return make_user(Role.POINT_MANAGER, email="staff@example.vn")


@pytest.fixture
def point(app_ctx):
    return make_point("DN-TT-01", tier="centre")


@pytest.fixture
def product(point, staff):
    product = make_product(name="Hạt điều rang muối", price_vnd=120_000)
    make_stock(point, product, staff, lot_code="SOON", quantity=2, expires_in_days=20)
    make_stock(point, product, staff, lot_code="LATE", quantity=3, expires_in_days=200)
    db.session.commit()
    return product
