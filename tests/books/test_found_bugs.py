"""Bugs in the services found while writing the books check and its state machine (test_books_stateful.py), each
as its shortest sequence: a regression test once fixed, xfail(strict) while not (when the service is fixed the test
passes, strict turns that into a failure, and the xfail goes)."""
import pytest

from shop.books.queries import verify_books
from shop.core.errors import DomainError
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders import services as orders
from shop.orders.models import OrderStatus
from tests.factories import make_point, make_point_manager, make_product, make_stock
from tests.orders.conftest import CONTACT


# Found first: orders.complete_delivery moved a ready pickup order to completed without handing its stock over (its
# units stayed reserved for ever, no cash taken). Fixed in orders.services; kept as a regression test.
def test_a_pickup_order_cannot_be_completed_as_delivered(app_ctx):
    manager = make_point_manager(email="staff@example.vn")
    point = make_point("DN-TT-01", tier="centre")
    product = make_product(price_vnd=120_000)
    make_stock(point, product, manager, lot_code="L1", quantity=5)
    order = orders.create_order(point, [(product, 2)], fulfilment="pickup", payment_method="pay_at_pickup",
                                contact=CONTACT)
    orders.mark_ready(order, actor=manager)
    db.session.commit()
    with pytest.raises(DomainError):  # what POST /manage/points/<code>/orders/<number>/delivered did for it
        orders.complete_delivery(order, actor=manager)
    db.session.rollback()
    assert order.status == OrderStatus.READY_FOR_PICKUP and verify_books() == []


def test_pulling_a_recalled_lot_alone_leaves_the_books_straight(app_ctx):
    """The stock side of a recall used to set reserved = 0 without releasing the allocations holding the lot; now
    it refuses while orders hold the lot (recalls.recall cancels them first)."""
    manager = make_point_manager(email="staff@example.vn")
    point = make_point("DN-TT-01", tier="centre")
    product = make_product(price_vnd=120_000)
    lot = make_stock(point, product, manager, lot_code="L1", quantity=5).lot
    order = orders.create_order(point, [(product, 2)], fulfilment="pickup", payment_method="pay_at_pickup",
                                contact=CONTACT)
    db.session.commit()
    lot.recalled_at, lot.recall_reason = utcnow(), "Nhiễm khuẩn"  # as recalls.recall marks it, orders left alone
    with pytest.raises(DomainError) as refused:
        inventory.pull_recalled_lot(lot, actor=manager)
    assert refused.value.code == "lot_held_by_orders"
    db.session.rollback()
    assert verify_books() == []
    orders.cancel(order, reason="Lô bị thu hồi", actor=manager)  # it used to raise Conflict not_reserved
