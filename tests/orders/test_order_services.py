"""The order pipeline: placing holds stock, payment confirms, pickup and delivery hand the goods over through the
ledger, cancelling and expiry give the stock back; every change is an event; impossible moves are refused."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.core.clock import today
from shop.core.errors import DomainError
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory import queries
from shop.inventory.models import MovementKind, StockMovement
from shop.orders import services
from shop.orders.models import AllocationState, OrderStatus
from tests.orders.conftest import ADDRESS, CONTACT


def available(point, product) -> int:
    return queries.available_quantity(point.id, product.id, today())


def place(point, product, quantity=2, **kw):
    fields = {"fulfilment": "pickup", "payment_method": "card", "contact": CONTACT}
    fields.update(kw)
    return services.create_order(point, [(product, quantity)], **fields)


def events(order) -> list[str]:
    return [event.kind for event in order.events]


def test_placing_an_order_holds_stock_first_expired_first_and_snapshots_the_line(point, product):
    order = place(point, product, 3)
    db.session.commit()
    assert order.number == f"DH-{order.id:06d}" and order.status == OrderStatus.PENDING_PAYMENT
    assert len(order.pickup_code) == 6 and order.pickup_code.isdigit()
    [line] = order.lines
    assert (line.product_name, line.unit_price_vnd, line.stars) == ("Hạt điều rang muối", 120_000, 4)
    assert line.certificate_no and line.producer_name
    assert [(a.stock_level.lot.lot_code, a.quantity) for a in line.allocations] == [("SOON", 2), ("LATE", 1)]
    assert order.total_vnd == 360_000 and available(point, product) == 2
    assert order.hold_until is not None and events(order) == ["placed"]


def test_cash_on_delivery_is_confirmed_at_once_with_the_shipping_fee(point, product):
    order = place(point, product, 1, fulfilment="delivery", payment_method="cash_on_delivery", address=ADDRESS,
                  shipping_fee_vnd=30_000)
    assert order.status == OrderStatus.CONFIRMED and order.total_vnd == 150_000
    assert (order.street, order.ward_code, order.pickup_code) == ("12 Đường Hùng Vương", 26221, None)
    assert events(order) == ["placed", "confirmed"]


def test_not_enough_stock_creates_nothing(point, product):
    with pytest.raises(DomainError) as refused:
        place(point, product, 6)
    assert refused.value.code == "insufficient_stock"
    db.session.rollback()
    assert available(point, product) == 5


@pytest.mark.parametrize("fulfilment, method", [("pickup", "cash_on_delivery"), ("delivery", "pay_at_pickup")])
def test_payment_methods_must_fit_the_fulfilment(point, product, fulfilment, method):
    with pytest.raises(DomainError) as refused:
        place(point, product, 1, fulfilment=fulfilment, payment_method=method, address=ADDRESS)
    assert refused.value.code == "invalid_payment_method"


def test_a_card_payment_confirms_once_and_a_duplicate_notice_changes_nothing(point, product):
    order = place(point, product, 1)
    assert services.mark_paid(order, 120_000, reference="pi_1") is True
    assert services.mark_paid(order, 120_000, reference="pi_1") is False
    assert order.status == OrderStatus.CONFIRMED and order.paid_vnd == 120_000
    assert events(order) == ["placed", "paid"]


def test_a_wrong_amount_is_refused(point, product):
    order = place(point, product, 1)
    with pytest.raises(DomainError) as refused:
        services.mark_paid(order, 1_000)
    assert refused.value.code == "amount_mismatch"


def test_pickup_ready_then_handed_over_with_the_code_writes_the_ledger(point, product, staff):
    order = place(point, product, 2, payment_method="pay_at_pickup")
    services.mark_ready(order, actor=staff)
    with pytest.raises(DomainError) as refused:
        services.hand_over(order, "000000" if order.pickup_code != "000000" else "111111", actor=staff)
    assert refused.value.code == "wrong_pickup_code"
    services.hand_over(order, order.pickup_code, actor=staff)
    assert order.status == OrderStatus.COMPLETED
    rows = db.session.scalars(sa.select(StockMovement).where(StockMovement.kind == MovementKind.ORDER_FULFILMENT))
    assert sorted((m.quantity, m.reference, m.actor_id) for m in rows) == [(-2, order.number, staff.id)]
    assert queries.verify_ledger() == [] and available(point, product) == 3
    assert events(order) == ["placed", "confirmed", "ready_for_pickup", "handed_over"]


def test_invalid_transitions_are_refused(point, product, staff):
    order = place(point, product, 1)
    with pytest.raises(DomainError) as refused:
        services.mark_ready(order, actor=staff)  # not paid yet
    assert refused.value.code == "invalid_transition"
    with pytest.raises(DomainError) as refused:
        services.ship(order, tracking_note="VNPost 123", actor=staff)  # a pickup order
    assert refused.value.code == "not_delivery"


def test_cancelling_gives_the_held_stock_back(point, product, staff):
    order = place(point, product, 4)
    assert available(point, product) == 1
    services.cancel(order, reason="Khách đổi ý", actor=None, by_customer=True)
    assert order.status == OrderStatus.CANCELLED and available(point, product) == 5
    assert {a.state for line in order.lines for a in line.allocations} == {AllocationState.RELEASED}
    with pytest.raises(DomainError):
        services.cancel(order, reason="Lần nữa", actor=staff)


def test_a_failed_delivery_brings_the_units_back_through_the_ledger(point, product, staff):
    order = place(point, product, 2, fulfilment="delivery", payment_method="cash_on_delivery", address=ADDRESS)
    services.ship(order, tracking_note="VNPost EB123", actor=staff)
    assert available(point, product) == 3
    with pytest.raises(DomainError) as refused:
        services.cancel(order, reason="Đổi ý", actor=None, by_customer=True)
    assert refused.value.code == "not_cancellable"
    services.cancel(order, reason="Giao không thành công", actor=staff)
    assert available(point, product) == 5 and queries.verify_ledger() == []
    kinds = db.session.scalars(sa.select(StockMovement.kind).where(StockMovement.reference == order.number)
                               .order_by(StockMovement.id)).all()
    assert kinds == ["order_fulfilment", "return"]  # both units came from lot SOON


def test_overdue_orders_expire_and_release_their_stock(point, product):
    unpaid = place(point, product, 2)
    fresh = place(point, product, 1)
    unpaid.hold_until = utcnow() - timedelta(minutes=1)
    expired = services.expire_overdue()
    assert expired == [unpaid]
    assert unpaid.status == OrderStatus.CANCELLED and fresh.status == OrderStatus.PENDING_PAYMENT
    assert available(point, product) == 4
    assert events(unpaid)[-1] == "expired"
    # A payment that lands after the expiry is kept for a refund, not lost.
    assert services.mark_paid(unpaid, unpaid.total_vnd, reference="pi_late") is True
    assert unpaid.status == OrderStatus.CANCELLED and unpaid.paid_vnd == unpaid.total_vnd


def test_refunds_are_recorded_and_a_full_refund_ends_the_order(point, product, staff):
    order = place(point, product, 2)
    services.mark_paid(order, order.total_vnd)
    assert services.mark_refunded(order, actor=staff, amount_vnd=100_000, reason="Hộp móp") is False
    assert order.status == OrderStatus.CONFIRMED and events(order)[-1] == "partially_refunded"
    with pytest.raises(DomainError) as refused:
        services.mark_refunded(order, actor=staff, amount_vnd=order.total_vnd, reason="Quá số đã trả")
    assert refused.value.code == "refund_too_large"
    assert services.mark_refunded(order, actor=staff, amount_vnd=order.total_vnd - 100_000, reason="Hủy") is True
    assert order.status == OrderStatus.REFUNDED and order.refunded_vnd == order.paid_vnd
