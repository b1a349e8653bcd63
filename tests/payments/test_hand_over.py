"""Handing over a pickup order and completing a delivery record the cash due with it, once, in one service call."""
import pytest
import sqlalchemy as sa

from shop.core.errors import DomainError
from shop.extensions import db
from shop.orders import services as orders
from shop.orders.models import OrderStatus
from shop.payments import services as payments
from shop.payments.models import CashCollection
from tests.orders.conftest import ADDRESS
from tests.payments.conftest import place


def collections_of(order) -> list[int]:
    return list(db.session.scalars(sa.select(CashCollection.amount_vnd).where(CashCollection.order_id == order.id)))


def test_a_pay_at_pickup_hand_over_collects_the_cash_once(point, product, staff):
    order = place(point, product, 2, payment_method="pay_at_pickup")
    orders.mark_ready(order, actor=staff)
    assert payments.cash_to_collect(order) == 240_000
    payments.hand_over_collecting_cash(order, order.pickup_code, actor=staff)
    db.session.commit()
    assert (order.status, order.paid_vnd, collections_of(order)) == (OrderStatus.COMPLETED, 240_000, [240_000])
    assert payments.cash_to_collect(order) == 0
    with pytest.raises(DomainError):
        payments.hand_over_collecting_cash(order, order.pickup_code, actor=staff)
    db.session.rollback()
    assert collections_of(order) == [240_000]


def test_a_wrong_pickup_code_takes_no_cash(point, product, staff):
    order = place(point, product, payment_method="pay_at_pickup")
    orders.mark_ready(order, actor=staff)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        payments.hand_over_collecting_cash(order, "000000" if order.pickup_code != "000000" else "111111",
                                           actor=staff)
    assert refused.value.code == "wrong_pickup_code"
    db.session.rollback()
    assert (order.status, order.paid_vnd, collections_of(order)) == (OrderStatus.READY_FOR_PICKUP, 0, [])


def test_a_card_order_is_handed_over_without_cash(point, product, staff):
    order = place(point, product)
    orders.mark_paid(order, order.total_vnd)
    orders.mark_ready(order, actor=staff)
    assert payments.cash_to_collect(order) == 0
    payments.hand_over_collecting_cash(order, order.pickup_code, actor=staff)
    assert (order.status, collections_of(order)) == (OrderStatus.COMPLETED, [])


def test_a_cash_on_delivery_order_records_the_carriers_cash_when_delivered(point, product, staff):
    order = place(point, product, fulfilment="delivery", payment_method="cash_on_delivery", address=ADDRESS,
                  shipping_fee_vnd=20_000)
    orders.ship(order, tracking_note="VNPost EB123", actor=staff)
    payments.complete_delivery_collecting_cash(order, actor=staff)
    db.session.commit()
    assert (order.status, order.paid_vnd, collections_of(order)) == (OrderStatus.COMPLETED, 140_000, [140_000])
