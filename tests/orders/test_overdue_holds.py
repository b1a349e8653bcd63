"""A hold whose time is up never keeps goods from a buyer, whether or not `flask orders expire` has run: the counter
and checkout expire the point's overdue orders before they look for stock (their customers are told, as by the
job); holds still in their time are left alone."""
from datetime import timedelta

import sqlalchemy as sa

from shop.catalog.models import Product
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory.models import CounterSale
from shop.orders import services as orders
from shop.orders.models import Order, OrderStatus
from shop.sales_points.models import SalesPoint
from tests.inventory.conftest import desk  # noqa: F401 (the fixture)
from tests.orders.conftest import CONTACT


def _hold_everything(desk, *, overdue: bool) -> str:  # noqa: F811
    """A pickup order holding all 16 units of the point, its hold over (or not); its number."""
    with desk.app.app_context():
        point, product = db.session.get(SalesPoint, desk.point_id), db.session.get(Product, desk.product_id)
        order = orders.create_order(point, [(product, 16)], fulfilment="pickup", payment_method="pay_at_pickup",
                                    contact=CONTACT)
        if overdue:
            order.hold_until = utcnow() - timedelta(minutes=1)
        db.session.commit()
        return order.number


def _sell_one(desk):  # noqa: F811
    from tests.conftest import post_form

    return post_form(desk.client, desk.url("/counter"), {"product_id": [str(desk.product_id)], "quantity": ["1"],
                                                          "payment_method": "cash"})


def _status(desk, number: str) -> OrderStatus:  # noqa: F811
    with desk.app.app_context():
        return db.session.scalar(sa.select(Order.status).where(Order.number == number))


def test_the_counter_sells_goods_an_overdue_hold_was_keeping(desk):  # noqa: F811
    number = _hold_everything(desk, overdue=True)
    response = _sell_one(desk)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert _status(desk, number) == OrderStatus.CANCELLED
    with desk.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CounterSale.id))) == 1
        kinds = [e.kind for e in db.session.scalar(sa.select(Order).where(Order.number == number)).events]
        assert kinds[-1] == "expired"


def test_a_hold_still_in_its_time_keeps_its_goods_from_the_counter(desk):  # noqa: F811
    number = _hold_everything(desk, overdue=False)
    desk.client.get("/lang/en")
    response = _sell_one(desk)
    assert response.status_code == 400 and "Not enough" in response.get_data(as_text=True)
    assert _status(desk, number) == OrderStatus.CONFIRMED


def test_checkout_takes_goods_an_overdue_hold_was_keeping(desk):  # noqa: F811
    from flask import current_app

    from shop.checkout.services import place_order

    number = _hold_everything(desk, overdue=True)
    with desk.app.app_context():
        order = place_order({desk.product_id: 2}, fulfilment="pickup", payment_method="pay_at_pickup",
                            contact=CONTACT, pickup_point_code=desk.code, config=current_app.config)
        db.session.commit()
        assert order.status == OrderStatus.CONFIRMED
    assert _status(desk, number) == OrderStatus.CANCELLED
