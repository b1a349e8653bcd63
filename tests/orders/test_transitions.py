"""The actions staff may take on an order come from the pipeline: each status (and way of receiving the order)
allows exactly these, and a refund only while money paid has not all been given back."""
from datetime import UTC, datetime

import pytest

from shop.orders.models import Fulfilment, Order, OrderStatus
from shop.orders.transitions import staff_actions

PICKUP, DELIVERY = Fulfilment.PICKUP, Fulfilment.DELIVERY


def order_in(status: OrderStatus, fulfilment: Fulfilment, *, paid: int = 0, refunded: int = 0) -> Order:
    return Order(status=status, fulfilment=fulfilment, paid_vnd=paid, refunded_vnd=refunded)


@pytest.mark.parametrize(("status", "fulfilment", "paid", "expected"), [
    (OrderStatus.PENDING_PAYMENT, PICKUP, 0, {"cancel"}),
    (OrderStatus.PENDING_PAYMENT, DELIVERY, 0, {"cancel"}),
    (OrderStatus.CONFIRMED, PICKUP, 0, {"ready", "cancel"}),
    (OrderStatus.CONFIRMED, PICKUP, 120_000, {"ready", "cancel", "refund"}),
    (OrderStatus.CONFIRMED, DELIVERY, 0, {"ship", "cancel"}),
    (OrderStatus.CONFIRMED, DELIVERY, 120_000, {"ship", "cancel", "refund"}),
    (OrderStatus.READY_FOR_PICKUP, PICKUP, 0, {"hand_over", "cancel"}),
    (OrderStatus.READY_FOR_PICKUP, PICKUP, 120_000, {"hand_over", "cancel", "refund"}),
    (OrderStatus.SHIPPED, DELIVERY, 0, {"delivered", "cancel"}),
    (OrderStatus.SHIPPED, DELIVERY, 120_000, {"delivered", "cancel", "refund"}),
    (OrderStatus.COMPLETED, PICKUP, 120_000, {"refund"}),
    (OrderStatus.COMPLETED, DELIVERY, 120_000, {"refund"}),
    (OrderStatus.CANCELLED, PICKUP, 0, set()),
    (OrderStatus.CANCELLED, PICKUP, 120_000, {"refund"}),  # a card payment that arrived after the expiry
    (OrderStatus.REFUNDED, PICKUP, 120_000, set()),
])
def test_each_status_allows_exactly_these_actions(status, fulfilment, paid, expected):
    assert staff_actions(order_in(status, fulfilment, paid=paid)) == expected


def test_a_refund_is_offered_until_everything_paid_is_given_back():
    assert "refund" in staff_actions(order_in(OrderStatus.COMPLETED, PICKUP, paid=120_000, refunded=40_000))
    assert "refund" not in staff_actions(order_in(OrderStatus.COMPLETED, PICKUP, paid=120_000, refunded=120_000))


def test_what_the_pages_read_from_the_order():
    shipped = order_in(OrderStatus.SHIPPED, DELIVERY, paid=120_000, refunded=20_000)
    assert shipped.in_transit and shipped.refundable_vnd == 100_000
    assert not order_in(OrderStatus.COMPLETED, DELIVERY).in_transit
    until = datetime(2026, 12, 8, 10, tzinfo=UTC)
    held = order_in(OrderStatus.READY_FOR_PICKUP, PICKUP)
    held.hold_until = until
    assert held.stock_held_until == until
    gone = order_in(OrderStatus.COMPLETED, PICKUP)
    gone.hold_until = until  # left behind: the order holds no stock any more
    assert gone.stock_held_until is None
