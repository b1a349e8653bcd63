"""The order back office of a sales point: the list of this point's orders, an order with its pick list by lot,
and the pipeline's actions (ready, hand over with the pickup code, ship, delivered, cancel, refund) — each refusal
a 400 with nothing changed, another point's orders out of reach."""
import re

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from shop.accounts.models import Role
from shop.catalog.models import Product
from shop.core.clock import today
from shop.extensions import db
from shop.inventory.models import MovementKind, StockMovement
from shop.inventory.queries import available_quantity, verify_ledger
from shop.orders import services
from shop.orders.models import Order, OrderStatus
from shop.sales_points.queries import get_by_code
from tests.conftest import login, post_form
from tests.factories import make_point, make_point_manager, make_product, make_stock, make_user
from tests.orders.conftest import ADDRESS, CONTACT
from tests.test_accessibility import assert_accessible


class OrderDesk:
    """A logged-in manager of DN-XL-01, where 'Hạt điều rang muối' lies in lots L-SOON (6, expires in 20 days) and
    L-LATE (10, in 200 days); DN-BH-01 (not theirs) holds 10 units too."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        with app.app_context():
            point = make_point("DN-XL-01", name="Điểm OCOP Xuân Lộc")
            other = make_point("DN-BH-01", name="Điểm OCOP Biên Hòa")
            manager = make_point_manager(point, email="xuanloc@example.vn")
            product = make_product(name="Hạt điều rang muối", price_vnd=120_000)
            make_stock(point, product, manager, lot_code="L-SOON", quantity=6, expires_in_days=20)
            make_stock(point, product, manager, lot_code="L-LATE", quantity=10, expires_in_days=200)
            make_stock(other, product, manager, lot_code="L-BH", quantity=10)
            make_user(Role.TRADE_OFFICER, email="officer@example.vn")
            db.session.commit()
            self.point_id, self.product_id, self.slug = point.id, product.id, product.slug
        self.code, self.other_code = "DN-XL-01", "DN-BH-01"
        login(client, "xuanloc@example.vn")

    def url(self, path: str = "", code: str | None = None) -> str:
        return f"/manage/points/{code or self.code}{path}"

    def order_url(self, number: str, action: str = "", code: str | None = None) -> str:
        return self.url(f"/orders/{number}{'/' + action if action else ''}", code)

    def place(self, quantity: int = 2, *, code: str | None = None, paid: bool = False, **fields) -> str:
        """An order at the point (DN-XL-01 unless `code`); a card order is paid when `paid`."""
        fields = {"fulfilment": "pickup", "payment_method": "card", "contact": CONTACT, **fields}
        if fields["fulfilment"] == "delivery":
            fields["address"] = ADDRESS
        with self.app.app_context():
            product = db.session.get(Product, self.product_id)
            order = services.create_order(get_by_code(code or self.code), [(product, quantity)], **fields)
            if paid:
                services.mark_paid(order, order.total_vnd)
            db.session.commit()
            return order.number

    def order(self, number: str) -> Order:
        """The order as the database has it now (read in a fresh context; keep scalars only)."""
        with self.app.app_context():
            order = db.session.scalar(sa.select(Order).where(Order.number == number))
            db.session.expunge(order)
            return order

    def available(self) -> int:
        with self.app.app_context():
            return available_quantity(self.point_id, self.product_id, today())

    def movements(self, kind: MovementKind) -> list[tuple[str, int]]:
        with self.app.app_context():
            rows = db.session.scalars(sa.select(StockMovement).where(StockMovement.kind == kind)
                                      .order_by(StockMovement.id)).all()
            return [(row.lot.lot_code, row.quantity) for row in rows]

    def post(self, number: str, action: str, data: dict | None = None, code: str | None = None):
        return post_form(self.client, self.order_url(number, action, code), data or {},
                         form_url=self.order_url(number, code=code))


@pytest.fixture
def desk(app, client) -> OrderDesk:
    return OrderDesk(app, client)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def pick_rows(html: str) -> list[tuple[str, int]]:
    """(lot code, quantity) of the pick list, in the order shown."""
    section = html.split('id="pick-title"', 1)[1].split("</table>", 1)[0]
    return [(lot, int(quantity)) for lot, quantity in re.findall(
        r'<td class="mono">([^<]+)</td>\s*<td>[^<]*</td>\s*<td class="num">(\d+)</td>', section)]


# --------------------------------------------------------------------------------------------------- reading

def test_the_list_shows_this_points_orders_to_do_and_the_filter_widens_it(desk):
    confirmed = desk.place(1, paid=True)
    unpaid = desk.place(1)
    elsewhere = desk.place(1, code=desk.other_code, paid=True)
    page = text_of(desk.client.get(desk.url("/orders")))
    assert confirmed in page and unpaid not in page and elsewhere not in page
    assert CONTACT.name in page and "120.000" in page
    every = text_of(desk.client.get(desk.url("/orders?status=all")))
    assert confirmed in every and unpaid in every and elsewhere not in every
    pending = text_of(desk.client.get(desk.url("/orders?status=pending_payment")))
    assert unpaid in pending and confirmed not in pending


def test_the_pick_list_takes_the_first_expiring_lot_first(desk):
    number = desk.place(8, paid=True)
    response = desk.client.get(desk.order_url(number))
    assert response.status_code == 200
    assert pick_rows(text_of(response)) == [("L-SOON", 6), ("L-LATE", 2)]


def test_another_points_order_is_not_found_from_this_point(desk):
    theirs = desk.place(1, code=desk.other_code, paid=True)
    assert desk.client.get(desk.order_url(theirs)).status_code == 404
    response = post_form(desk.client, desk.order_url(theirs, "ready"), {}, form_url=desk.url("/orders"))
    assert response.status_code == 404
    assert desk.order(theirs).status == OrderStatus.CONFIRMED


def test_another_points_code_is_forbidden(desk):
    theirs = desk.place(1, code=desk.other_code, paid=True)
    assert desk.client.get(desk.url("/orders", desk.other_code)).status_code == 403
    assert desk.client.get(desk.order_url(theirs, code=desk.other_code)).status_code == 403
    response = post_form(desk.client, desk.order_url(theirs, "ready", desk.other_code), {},
                         form_url=desk.url("/orders"))
    assert response.status_code == 403
    assert desk.order(theirs).status == OrderStatus.CONFIRMED


def test_a_trade_officer_reads_orders_but_changes_none(desk):
    number = desk.place(1, paid=True)
    officer = desk.app.test_client()
    login(officer, "officer@example.vn")
    assert number in text_of(officer.get(desk.url("/orders")))
    page = text_of(officer.get(desk.order_url(number)))
    assert CONTACT.name in page and "/ready" not in page  # no action offered
    response = post_form(officer, desk.order_url(number, "ready"), {}, form_url=desk.url("/orders"))
    assert response.status_code == 403
    assert desk.order(number).status == OrderStatus.CONFIRMED


# ------------------------------------------------------------------------------------------------- pickup

def test_ready_then_hand_over_with_the_right_code_completes_through_the_ledger(desk):
    number = desk.place(8, paid=True)
    assert desk.available() == 8
    response = desk.post(number, "ready")
    assert response.status_code == 303
    assert desk.order(number).status == OrderStatus.READY_FOR_PICKUP

    code = desk.order(number).pickup_code
    wrong = "000000" if code != "000000" else "111111"
    refused = desk.post(number, "hand-over", {"pickup_code": wrong})
    assert refused.status_code == 400
    assert desk.order(number).status == OrderStatus.READY_FOR_PICKUP
    assert desk.movements(MovementKind.ORDER_FULFILMENT) == []
    assert desk.post(number, "hand-over", {"pickup_code": ""}).status_code == 400

    response = desk.post(number, "hand-over", {"pickup_code": code})
    assert response.status_code == 303
    assert desk.order(number).status == OrderStatus.COMPLETED
    assert desk.movements(MovementKind.ORDER_FULFILMENT) == [("L-SOON", -6), ("L-LATE", -2)]
    assert desk.available() == 8
    with desk.app.app_context():
        assert verify_ledger() == []
    page = text_of(desk.client.get(desk.order_url(number) + "?lang=en"))
    assert "Handed over" in page and "Left the shelf" in page


def test_the_wrong_pickup_code_is_shown_with_the_order(desk):
    number = desk.place(1, paid=True)
    desk.post(number, "ready")
    code = desk.order(number).pickup_code
    desk.client.get("/lang/en")
    refused = desk.post(number, "hand-over", {"pickup_code": "999999" if code != "999999" else "000000"})
    assert refused.status_code == 400 and "The pickup code is wrong." in text_of(refused)


def test_an_invalid_transition_is_refused_with_nothing_changed(desk):
    number = desk.place(1, paid=True)
    desk.client.get("/lang/en")
    refused = desk.post(number, "delivered")  # a confirmed pickup order was never shipped
    assert refused.status_code == 400 and "Only a shipped delivery order can be marked delivered" in text_of(refused)
    assert desk.post(number, "ship", {"tracking_note": "VNPost EB123"}).status_code == 400  # pickups are not shipped
    order = desk.order(number)
    assert order.status == OrderStatus.CONFIRMED and order.tracking_note is None
    assert desk.available() == 15


def test_pay_at_pickup_records_the_cash_at_hand_over_and_a_wrong_code_records_nothing(desk):
    number = desk.place(2, payment_method="pay_at_pickup")
    desk.post(number, "ready")
    code = desk.order(number).pickup_code
    refused = desk.post(number, "hand-over", {"pickup_code": "000000" if code != "000000" else "111111"})
    assert refused.status_code == 400
    assert desk.order(number).paid_vnd == 0 and desk.order(number).status == OrderStatus.READY_FOR_PICKUP
    response = desk.post(number, "hand-over", {"pickup_code": desk.order(number).pickup_code})
    assert response.status_code == 303
    order = desk.order(number)
    assert order.status == OrderStatus.COMPLETED and order.paid_vnd == 240_000


# ----------------------------------------------------------------------------------------------- delivery

def test_ship_needs_a_tracking_note_and_the_goods_leave_the_shelf(desk):
    number = desk.place(3, paid=True, fulfilment="delivery")
    refused = desk.post(number, "ship", {"tracking_note": "  "})
    assert refused.status_code == 400
    assert desk.order(number).status == OrderStatus.CONFIRMED
    assert desk.movements(MovementKind.ORDER_FULFILMENT) == []

    response = desk.post(number, "ship", {"tracking_note": "Viettel Post VTP-889900"})
    assert response.status_code == 303
    order = desk.order(number)
    assert order.status == OrderStatus.SHIPPED and order.tracking_note == "Viettel Post VTP-889900"
    assert desk.movements(MovementKind.ORDER_FULFILMENT) == [("L-SOON", -3)]
    assert "Viettel Post VTP-889900" in text_of(desk.client.get(desk.order_url(number)))


def test_a_failed_delivery_cancelled_with_a_reason_returns_the_stock_to_this_point(desk, app):
    number = desk.place(16, paid=True, fulfilment="delivery")
    desk.post(number, "ship", {"tracking_note": "GHN 12345"})
    storefront = app.test_client()
    product_page = f"/products/{desk.slug}"
    assert 'data-band="out_of_stock"' in text_of(storefront.get(product_page))

    assert desk.post(number, "cancel", {"reason": ""}).status_code == 400
    assert desk.order(number).status == OrderStatus.SHIPPED

    response = desk.post(number, "cancel", {"reason": "Khách không nhận hàng"})
    assert response.status_code == 303
    order = desk.order(number)
    assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "Khách không nhận hàng"
    assert sorted(desk.movements(MovementKind.RETURN)) == [("L-LATE", 10), ("L-SOON", 6)]
    assert desk.available() == 16
    with desk.app.app_context():
        assert verify_ledger() == []
    assert 'data-band="in_stock"' in text_of(storefront.get(product_page))


def test_cancelling_a_held_order_releases_it_and_the_storefront_shows_the_stock_again(desk, app):
    number = desk.place(16, paid=True)
    storefront = app.test_client()
    assert 'data-band="out_of_stock"' in text_of(storefront.get(f"/products/{desk.slug}"))
    assert desk.post(number, "cancel", {"reason": "Hết hạn giữ hàng"}).status_code == 303
    assert desk.available() == 16 and desk.movements(MovementKind.RETURN) == []
    assert 'data-band="in_stock"' in text_of(storefront.get(f"/products/{desk.slug}"))


def test_cash_on_delivery_is_completed_with_the_cash_recorded(desk):
    number = desk.place(1, fulfilment="delivery", payment_method="cash_on_delivery", shipping_fee_vnd=20_000)
    desk.post(number, "ship", {"tracking_note": "GHTK 777"})
    response = desk.post(number, "delivered")
    assert response.status_code == 303
    order = desk.order(number)
    assert order.status == OrderStatus.COMPLETED and order.paid_vnd == 140_000


# ------------------------------------------------------------------------------------------------- refunds

def test_a_partial_cash_refund_puts_the_units_back_when_asked(desk):
    number = desk.place(3, payment_method="pay_at_pickup")
    desk.post(number, "ready")
    desk.post(number, "hand-over", {"pickup_code": desk.order(number).pickup_code})
    with desk.app.app_context():
        line_id = db.session.scalar(sa.select(Order).where(Order.number == number)).lines[0].id
    for bad in ({"reason": ""}, {f"quantity_{line_id}": "4"}, {"amount_vnd": "400000"}, {"amount_vnd": "-1"}):
        refused = desk.post(number, "refund", {f"quantity_{line_id}": "1", f"restock_{line_id}": "y",
                                               "amount_vnd": "120000", "reason": "Hộp bị móp", **bad})
        assert refused.status_code == 400, bad
    assert desk.order(number).refunded_vnd == 0 and desk.available() == 13
    response = desk.post(number, "refund", {f"quantity_{line_id}": "1", f"restock_{line_id}": "y",
                                            "amount_vnd": "120000", "reason": "Hộp bị móp"})
    assert response.status_code == 303, text_of(response)
    assert desk.order(number).refunded_vnd == 120_000
    assert desk.available() == 14  # 16 − 3 handed over + 1 back on the shelf


# ---------------------------------------------------------------------------------------------- the pages

def test_the_order_pages_follow_the_accessibility_rules_with_every_form_shown(desk):
    delivery = desk.place(1, paid=True, fulfilment="delivery")  # ship, cancel and refund forms
    pickup = desk.place(1, paid=True)
    desk.post(pickup, "ready")  # the hand-over form
    for url in (desk.url("/orders"), desk.url("/orders?status=all"), desk.order_url(delivery),
                desk.order_url(pickup)):
        response = desk.client.get(url)
        assert response.status_code == 200, url
        assert_accessible(BeautifulSoup(text_of(response), "html.parser"), url)
    refused = desk.post(delivery, "ship", {"tracking_note": ""})
    page = BeautifulSoup(text_of(refused), "html.parser")
    assert refused.status_code == 400
    assert_accessible(page, "ship refused")
    assert page.select_one("#tracking_note")["aria-invalid"] == "true"
