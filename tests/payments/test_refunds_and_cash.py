"""Refunds (by card through localstripe, or cash recorded; per line, back into stock or not) and cash collected
for cash-on-delivery and pay-at-pickup orders."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.core.clock import today
from shop.core.errors import DomainError
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory import queries
from shop.inventory.models import MovementKind, StockMovement
from shop.orders import services as orders
from shop.orders.models import OrderStatus
from shop.payments import services as payments
from shop.payments.models import CashCollection, Refund, RefundMethod
from tests.orders.conftest import ADDRESS
from tests.payments.conftest import pay_with_card, place


def available(point, product) -> int:
    return queries.available_quantity(point.id, product.id, today())


def returns_of(order) -> list[int]:
    return list(db.session.scalars(sa.select(StockMovement.quantity).where(
        StockMovement.kind == MovementKind.RETURN, StockMovement.reference == order.number)))


def paid_by_card(order, sdk):
    payment = payments.start_card_payment(order)
    assert pay_with_card(sdk, payment.intent_id) == "succeeded"
    assert payments.sync_from_intent(order)
    db.session.commit()
    return payment


@pytest.fixture
def collected(point, product, staff, sdk):
    """A card pickup order of 2 units (240 000 ₫), paid and handed over: the units left the shelf."""
    order = place(point, product, 2)
    paid_by_card(order, sdk)
    orders.mark_ready(order, actor=staff)
    orders.hand_over(order, order.pickup_code, actor=staff)
    db.session.commit()
    assert order.status == OrderStatus.COMPLETED and available(point, product) == 3
    return order


def test_a_partial_card_refund_goes_through_stripe_and_keeps_the_status(card_order, sdk, staff):
    paid_by_card(card_order, sdk)
    record = payments.refund(card_order, amount_vnd=50_000, reason="Hộp bị móp", actor=staff)
    db.session.commit()
    assert record.method == RefundMethod.CARD and record.stripe_refund_id is None  # recorded, not yet sent
    assert payments.refunds_waiting_for_stripe() == [record]
    assert payments.send_card_refund(record) and record.stripe_refund_id.startswith("re_")
    db.session.commit()
    assert payments.send_card_refund(record) and payments.refunds_waiting_for_stripe() == []  # sent once
    assert sdk.v1.refunds.retrieve(record.stripe_refund_id).amount == 50_000
    assert (card_order.status, card_order.refunded_vnd) == (OrderStatus.CONFIRMED, 50_000)
    assert card_order.events[-1].kind == "partially_refunded"


def test_a_full_refund_with_the_goods_back_in_stock_refunds_the_order(collected, point, product, staff, sdk):
    [line] = collected.lines
    record = payments.refund(collected, {line.id: (2, True)}, amount_vnd=240_000, reason="Sai sản phẩm",
                             actor=staff)
    db.session.commit()
    assert collected.status == OrderStatus.REFUNDED and collected.refunded_vnd == 240_000
    assert line.quantity_refunded == 2 and [(rl.quantity, rl.restocked) for rl in record.lines] == [(2, True)]
    assert returns_of(collected) == [2]  # both units had left from lot SOON: one return row there
    assert available(point, product) == 5
    assert queries.verify_ledger() == []


def test_goods_not_back_in_stock_write_no_ledger_row(collected, point, product, staff):
    [line] = collected.lines
    payments.refund(collected, {line.id: (1, False)}, amount_vnd=120_000, reason="Khách giữ hàng", actor=staff)
    db.session.commit()
    assert returns_of(collected) == [] and available(point, product) == 3
    assert collected.status == OrderStatus.COMPLETED and line.quantity_refunded == 1
    with pytest.raises(DomainError) as refused:  # one unit left to refund on that line
        payments.refund(collected, {line.id: (2, False)}, amount_vnd=120_000, reason="again", actor=staff)
    assert refused.value.code == "invalid_refund_line"


def test_a_refund_of_more_than_was_paid_is_refused_and_changes_nothing(collected, staff):
    [line] = collected.lines
    for amount in (240_001, 0, -5):
        with pytest.raises(DomainError) as refused:
            payments.refund(collected, {line.id: (1, True)}, amount_vnd=amount, reason="x", actor=staff)
        assert refused.value.code == "refund_too_large"
    db.session.rollback()
    payments.refund(collected, amount_vnd=200_000, reason="Giảm giá", actor=staff)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        payments.refund(collected, amount_vnd=40_001, reason="x", actor=staff)
    assert refused.value.code == "refund_too_large"
    db.session.rollback()
    assert collected.refunded_vnd == 200_000 and line.quantity_refunded == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 1


def test_refusals_name_the_problem(collected, staff):
    [line] = collected.lines
    cases = [({line.id + 99: (1, False)}, "reason", "invalid_refund_line"),
             ({line.id: (3, False)}, "reason", "invalid_refund_line"),
             ({line.id: (0, False)}, "reason", "invalid_refund_line"),
             ({}, "  ", "reason_required")]
    for lines, reason, code in cases:
        with pytest.raises(DomainError) as refused:
            payments.refund(collected, lines, amount_vnd=1_000, reason=reason, actor=staff)
        assert refused.value.code == code
    with pytest.raises(DomainError) as refused:
        payments.refund(collected, amount_vnd=1_000, reason="x", actor=None)
    assert refused.value.code == "actor_required"


def test_units_still_on_the_shelf_cannot_be_restocked_and_a_held_order_is_cancelled_first(
        card_order, point, product, staff, sdk):
    paid_by_card(card_order, sdk)  # confirmed: the unit is held at the point, not handed over
    [line] = card_order.lines
    with pytest.raises(DomainError) as refused:
        payments.refund(card_order, {line.id: (1, True)}, amount_vnd=60_000, reason="x", actor=staff)
    assert refused.value.code == "not_left_shelf"
    with pytest.raises(DomainError) as refused:
        payments.refund(card_order, amount_vnd=120_000, reason="x", actor=staff)
    assert refused.value.code == "cancel_first"
    db.session.rollback()
    orders.cancel(card_order, reason="Hết hàng", actor=staff)
    payments.refund(card_order, {line.id: (1, False)}, amount_vnd=120_000, reason="Hết hàng", actor=staff)
    db.session.commit()
    assert card_order.status == OrderStatus.REFUNDED and available(point, product) == 5
    assert returns_of(card_order) == []  # the held unit came back through the cancellation, not a return row


def test_a_late_payment_after_expiry_can_be_refunded_in_full(card_order, staff, sdk):
    payment = payments.start_card_payment(card_order)
    orders.expire_overdue(now=utcnow() + timedelta(hours=1))
    assert pay_with_card(sdk, payment.intent_id) == "succeeded"
    payments.sync_from_intent(card_order)
    assert (card_order.status, card_order.paid_vnd) == (OrderStatus.CANCELLED, 120_000)
    record = payments.refund(card_order, amount_vnd=120_000, reason="Đơn đã hết hạn", actor=staff)
    db.session.commit()
    assert payments.send_card_refund(record) and record.stripe_refund_id
    assert card_order.status == OrderStatus.REFUNDED


# ------------------------------------------------------------------------------------------------------- cash

@pytest.fixture
def delivered(point, product, staff):
    """A cash-on-delivery order (120 000 ₫ + 20 000 ₫ shipping), shipped and delivered."""
    order = place(point, product, fulfilment="delivery", payment_method="cash_on_delivery", address=ADDRESS,
                  shipping_fee_vnd=20_000)
    orders.ship(order, tracking_note="VNPost EB123", actor=staff)
    orders.complete_delivery(order, actor=staff)
    return order


def test_cash_on_delivery_is_recorded_with_who_and_how_much(delivered, staff):
    collection = payments.record_cash(delivered, 140_000, actor=staff, note="Thu tại nhà")
    db.session.commit()
    assert (collection.amount_vnd, collection.collected_by_id, collection.note) == (140_000, staff.id, "Thu tại nhà")
    assert collection.collected_at is not None and delivered.paid_vnd == 140_000
    event = delivered.events[-1]
    assert (event.kind, event.actor_id, event.data["amount_vnd"]) == ("cash_collected", staff.id, 140_000)


def test_cash_must_be_exactly_what_is_due_and_taken_once(delivered, staff):
    for amount in (100_000, 150_000):
        with pytest.raises(DomainError) as refused:
            payments.record_cash(delivered, amount, actor=staff)
        assert refused.value.code == "wrong_amount"
    payments.record_cash(delivered, 140_000, actor=staff)
    with pytest.raises(DomainError) as refused:
        payments.record_cash(delivered, 140_000, actor=staff)
    assert refused.value.code == "already_paid"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CashCollection)) == 1


def test_pay_at_pickup_is_collected_at_hand_over_and_refunded_in_cash(point, product, staff):
    order = place(point, product, 2, payment_method="pay_at_pickup")
    orders.mark_ready(order, actor=staff)
    orders.hand_over(order, order.pickup_code, actor=staff)
    payments.record_cash(order, 240_000, actor=staff)
    [line] = order.lines
    record = payments.refund(order, {line.id: (1, True)}, amount_vnd=120_000, reason="Hỏng", actor=staff)
    assert (record.method, record.stripe_refund_id) == (RefundMethod.CASH, None)
    assert order.refunded_vnd == 120_000 and sum(returns_of(order)) == 1


def test_cash_is_refused_for_card_orders_and_orders_not_going_out(card_order, point, product, staff):
    with pytest.raises(DomainError) as refused:
        payments.record_cash(card_order, 120_000, actor=staff)
    assert refused.value.code == "not_cash"
    order = place(point, product, payment_method="pay_at_pickup")
    orders.cancel(order, reason="Khách hủy", actor=staff)
    with pytest.raises(DomainError) as refused:
        payments.record_cash(order, 120_000, actor=staff)
    assert refused.value.code == "not_collectable"


def test_a_card_refund_stripe_did_not_take_waits_and_is_sent_once_by_the_command(card_order, sdk, staff, app):
    """Stripe is called after the refund's commit; when it cannot be reached the refund is kept, listed as waiting,
    and `flask payments send-refunds` sends it later, once."""
    from tests.live_server import free_port

    paid_by_card(card_order, sdk)
    record = payments.refund(card_order, amount_vnd=30_000, reason="Thiếu quà tặng", actor=staff)
    db.session.commit()
    real_base = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    try:
        with pytest.raises(DomainError) as unreachable:
            payments.send_card_refund(record)
        assert unreachable.value.code == "payment_unavailable"
    finally:
        app.config["STRIPE_API_BASE"] = real_base
    db.session.rollback()
    assert [r.id for r in payments.refunds_waiting_for_stripe()] == [record.id]
    result = app.test_cli_runner().invoke(args=["payments", "send-refunds"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 card refunds sent to Stripe." in result.output
    db.session.expire_all()
    sent = db.session.get(Refund, record.id)
    assert sdk.v1.refunds.retrieve(sent.stripe_refund_id).amount == 30_000
    again = app.test_cli_runner().invoke(args=["payments", "send-refunds"])
    assert again.exit_code == 0 and "0 of 0 card refunds sent" in again.output
    assert len(sdk.v1.refunds.list(params={"payment_intent": payments.card_payment_of(card_order).intent_id}).data) == 1
