"""Shared by the page tests: a small shop and the steps of a buyer."""
import sqlalchemy as sa
from bs4 import BeautifulSoup
from sqlalchemy.orm import selectinload

from shop.accounts.models import Role
from shop.core.clock import today
from shop.extensions import db
from shop.inventory.queries import available_quantity
from shop.orders.models import Order
from tests.conftest import post_form
from tests.factories import make_point, make_product, make_stock, make_user

PICKUP = {"name": "Trần Văn Bình", "phone": "0912 345 678", "email": "binh@example.vn", "fulfilment": "pickup",
          "pickup_point": "DN-TT-01", "payment_method": "pay_at_pickup", "submit": "1"}


def build_site(app) -> dict:
    """A centre with 5 cashews and 5 bottles of wine, a point with 1 cashew, a customer account."""
    with app.app_context():
        staff = make_user(Role.POINT_MANAGER)
        centre = make_point("DN-TT-01", tier="centre", name="Trung tâm OCOP Đồng Nai")
        point = make_point("DN-XL-01", name="Điểm OCOP Xuân Lộc")
        cashews = make_product(name="Hạt điều rang muối", price_vnd=120_000)
        wine = make_product(name="Rượu sim", price_vnd=200_000, is_alcohol=True)
        make_stock(centre, cashews, staff, lot_code="C1", quantity=5)
        make_stock(point, cashews, staff, lot_code="X1", quantity=1)
        make_stock(centre, wine, staff, lot_code="W1", quantity=5)
        make_user(Role.CUSTOMER, email="khach@example.vn", full_name="Lê Thị Khách")
        db.session.commit()
        return {"cashews": cashews.id, "cashews_slug": cashews.slug, "wine": wine.id, "wine_slug": wine.slug,
                "centre": centre.id}


def add(client, site, product="cashews", quantity="2"):
    return post_form(client, "/cart/add", {"product_id": site[product], "quantity": quantity},
                     form_url=f"/products/{site['cashews_slug']}")


def page(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def orders(app) -> list[Order]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Order).options(selectinload(Order.lines))))


def available(app, site, product="cashews") -> int:
    with app.app_context():
        return available_quantity(site["centre"], site[product], today())


