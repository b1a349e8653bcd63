"""The customer's order pages: the owner (logged in) or the holder of the emailed key sees the order — status,
timeline, lines, totals, where to receive it, and for pickup the code with its QR; anyone else gets the same 404
as for a number that does not exist. The customer cancels while the order has not left the point."""
import re
from datetime import time

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from shop.accounts.models import Role, User
from shop.catalog.models import Product
from shop.core import admin_units
from shop.core.clock import VN_TZ, today
from shop.core.money import format_vnd
from shop.extensions import db
from shop.inventory.queries import available_quantity
from shop.orders import services
from shop.orders.models import Order, OrderStatus
from shop.sales_points.queries import get_by_code
from tests.conftest import login, post_form
from tests.factories import make_point, make_product, make_stock, make_user
from tests.orders.conftest import ADDRESS, CONTACT
from tests.test_accessibility import assert_accessible

BUYER, OTHER = "buyer@example.vn", "other@example.vn"


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(MAIL_FOLDER=str(tmp_path / "mail"))


class Shopfront:
    """Point DN-TT-01 (open 08:00–17:00) with 5 units of 'Hạt điều rang muối' at 120 000 ₫; customers BUYER and
    OTHER; a staff account for the back-office steps."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        with app.app_context():
            self.staff = make_user(Role.POINT_MANAGER, email="staff@example.vn").id
            point = make_point("DN-TT-01", tier="centre", name="Trung tâm OCOP Đồng Nai", opens_at=time(8),
                               closes_at=time(17), street="1 Đường Võ Thị Sáu")
            product = make_product(name="Hạt điều rang muối", price_vnd=120_000)
            make_stock(point, product, db.session.get(User, self.staff), lot_code="L1", quantity=5)
            make_user(email=BUYER)
            make_user(email=OTHER)
            db.session.commit()
            self.point_id, self.product_id = point.id, product.id

    def place(self, quantity: int = 2, *, customer: str | None = None, **fields) -> tuple[str, str]:
        """An order (pay at pickup unless told); returns (number, access key)."""
        fields = {"fulfilment": "pickup", "payment_method": "pay_at_pickup", "contact": CONTACT, **fields}
        if fields["fulfilment"] == "delivery":
            fields["address"] = ADDRESS
        with self.app.app_context():
            buyer = db.session.scalar(sa.select(User).where(User.email == customer)) if customer else None
            order = services.create_order(get_by_code("DN-TT-01"), [(db.session.get(Product, self.product_id),
                                                                     quantity)], customer=buyer, **fields)
            db.session.commit()
            return order.number, order.access_key

    def act(self, number: str, step) -> None:
        """A back-office step (services.mark_ready, ship…) on the order, committed."""
        with self.app.app_context():
            step(self.order(number), db.session.get(User, self.staff))
            db.session.commit()

    def order(self, number: str) -> Order:
        return db.session.scalar(sa.select(Order).where(Order.number == number))

    def available(self) -> int:
        with self.app.app_context():
            return available_quantity(self.point_id, self.product_id, today())

    def page(self, url: str) -> tuple[int, BeautifulSoup]:
        response = self.client.get(url)
        return response.status_code, BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.fixture
def shop(app, client) -> Shopfront:
    return Shopfront(app, client)


def test_the_owner_sees_status_lines_totals_and_the_pickup_code_with_its_qr(shop):
    number, _ = shop.place(2, customer=BUYER)
    login(shop.client, BUYER)
    response = shop.client.get(f"/orders/{number}?lang=en")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert number in page.h1.get_text() and "Confirmed" in page.select_one(".status").get_text()
    line = page.select_one(".order-lines tbody tr").get_text(" ", strip=True)
    assert "Hạt điều rang muối" in line and "4-star OCOP product" in line and format_vnd(240_000) in line
    with shop.app.app_context():
        order = shop.order(number)
        code, certificate = order.pickup_code, order.lines[0].certificate_no
        deadline = order.hold_until.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")
    assert certificate in line
    assert page.select_one(".pickup__code").get_text(strip=True) == code
    qr = page.select_one('.pickup-qr[role="img"]')
    assert qr.find("svg") is not None and code in qr["aria-label"]
    receiving = page.get_text(" ", strip=True)
    assert "Trung tâm OCOP Đồng Nai" in receiving and "08:00–17:00" in receiving and deadline in receiving
    assert page.find("button", string=re.compile("Cancel order"))
    assert_accessible(page, f"/orders/{number}")


def test_a_guest_sees_the_order_only_with_its_key(shop):
    number, key = shop.place(1)
    status, page = shop.page(f"/orders/{number}?key={key}")
    assert status == 200 and number in page.h1.get_text()
    assert shop.client.get(f"/orders/{number}").status_code == 404
    assert shop.client.get(f"/orders/{number}?key={key[:-1]}x").status_code == 404
    assert shop.client.get(f"/orders/{number}?key=%C3%A9").status_code == 404  # not even ASCII
    # An unknown number answers exactly like a wrong key: the page does not tell which numbers exist.
    missing = shop.client.get(f"/orders/DH-999999?key={key}")
    assert missing.status_code == 404 and "no-store" in missing.headers["Cache-Control"]


def test_another_customer_gets_a_404_but_the_owner_needs_no_key(shop):
    number, key = shop.place(1, customer=BUYER)
    login(shop.client, OTHER)
    assert shop.client.get(f"/orders/{number}").status_code == 404
    assert number not in shop.client.get("/orders").get_data(as_text=True)
    assert shop.client.get(f"/orders/{number}?key={key}").status_code == 200  # the emailed link still works


def test_my_orders_needs_a_login_and_lists_the_newest_first(shop):
    response = shop.client.get("/orders")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    first, _ = shop.place(1, customer=BUYER)
    second, _ = shop.place(1, customer=BUYER, fulfilment="delivery", payment_method="cash_on_delivery")
    guest, _ = shop.place(1)
    login(shop.client, BUYER)
    status, page = shop.page("/orders")
    assert status == 200
    numbers = [row.th.get_text(strip=True) for row in page.select("tbody tr")]
    assert numbers == [second, first] and guest not in numbers
    assert_accessible(page, "/orders")


def test_the_timeline_lists_every_event_in_order_in_vietnam_time(shop):
    number, key = shop.place(1)
    shop.act(number, lambda order, staff: services.mark_ready(order, actor=staff))
    _, page = shop.page(f"/orders/{number}?key={key}&lang=en")
    entries = page.select(".timeline__event")
    assert [entry.select_one(".timeline__what").get_text(strip=True) for entry in entries] == [
        "Placed", "Confirmed", "Ready for pickup"]
    with shop.app.app_context():
        expected = [event.occurred_at.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")
                    for event in shop.order(number).events]
    assert [entry.time.get_text(strip=True) for entry in entries] == expected


def test_a_delivery_order_shows_the_address_and_no_pickup_code(shop):
    number, key = shop.place(1, fulfilment="delivery", payment_method="cash_on_delivery", shipping_fee_vnd=20_000)
    status, page = shop.page(f"/orders/{number}?key={key}")
    assert status == 200
    text = page.get_text(" ", strip=True)
    assert ADDRESS.street in text and admin_units.ward_name(ADDRESS.ward_code) in text
    assert admin_units.province_name(ADDRESS.province_code) in text
    assert format_vnd(20_000) in text and format_vnd(140_000) in text  # shipping and total
    assert page.find("svg") is None and page.select_one(".pickup__code") is None
    assert_accessible(page, f"/orders/{number} (delivery)")


def test_an_unpaid_card_order_offers_pay_now_and_keeps_the_code_back(shop):
    number, key = shop.place(1, payment_method="card")
    _, page = shop.page(f"/orders/{number}?key={key}")
    pay = page.find("a", href=re.compile(r"/pay\?"))
    assert pay["href"] == f"/orders/{number}/pay?key={key}"
    assert page.select_one(".pickup__code") is None and page.find("svg") is None


def test_the_customer_cancels_a_confirmed_pickup_order_and_the_stock_comes_back(shop):
    number, key = shop.place(2)
    assert shop.available() == 3
    url = f"/orders/{number}?key={key}"
    response = post_form(shop.client, f"/orders/{number}/cancel", {"key": key, "reason": ""}, form_url=url)
    assert response.status_code == 302 and response.headers["Location"] == url
    assert shop.available() == 5
    with shop.app.app_context():
        order = shop.order(number)
        assert order.status == OrderStatus.CANCELLED and order.cancel_reason
        assert order.events[-1].kind == "cancelled" and order.events[-1].data["by_customer"] is True
    _, page = shop.page(url)
    assert page.find("button", string=re.compile("Cancel order")) is None


def test_a_shipped_order_cannot_be_cancelled_by_the_customer(shop):
    number, _ = shop.place(1, customer=BUYER, fulfilment="delivery", payment_method="cash_on_delivery")
    shop.act(number, lambda order, staff: services.ship(order, tracking_note="VNPost EB123", actor=staff))
    login(shop.client, BUYER)
    shop.client.get("/lang/en")
    token_page = shop.client.get(f"/orders/{number}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', token_page).group(1)
    response = shop.client.post(f"/orders/{number}/cancel", data={"csrf_token": token, "reason": "Đổi ý"})
    assert response.status_code in (400, 409)
    assert "can no longer be cancelled" in response.get_data(as_text=True)
    with shop.app.app_context():
        assert shop.order(number).status == OrderStatus.SHIPPED


def test_cancelling_with_a_wrong_key_is_a_404_and_changes_nothing(shop):
    number, key = shop.place(1)
    response = post_form(shop.client, f"/orders/{number}/cancel", {"key": "not-the-key"},
                         form_url=f"/orders/{number}?key={key}")
    assert response.status_code == 404
    assert shop.available() == 4
