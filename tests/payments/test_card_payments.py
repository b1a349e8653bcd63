"""Card payments through the stripe SDK over real HTTP to localstripe: one intent per order reused on retry, the
return page reading the truth from Stripe, declined cards, the payment server down, and the pay page."""

import pytest
import sqlalchemy as sa

from shop.core.errors import DomainError
from shop.extensions import db
from shop.orders import services as orders
from shop.orders.models import OrderStatus
from shop.payments import services as payments
from shop.payments.models import CardPayment
from tests.live_server import free_port
from tests.orders.conftest import ADDRESS
from tests.payments.conftest import pay_with_card, place

DECLINED_CARD = "4000000000000341"  # localstripe: the card attaches but every charge is declined


def test_one_intent_per_order_created_once_and_reused_on_retry(card_order, sdk):
    first = payments.start_card_payment(card_order)
    db.session.commit()
    again = payments.start_card_payment(card_order)
    assert again.intent_id == first.intent_id and again.intent_id.startswith("pi_")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CardPayment)) == 1
    intent = sdk.v1.payment_intents.retrieve(first.intent_id)
    # VND is zero-decimal: 120 000 ₫ is sent as 120000, not 12000000.
    assert (intent.amount, intent.currency, intent.metadata["order_number"]) == (120_000, "vnd", card_order.number)


def test_only_card_orders_waiting_for_payment_get_an_intent(point, product, staff):
    cash = place(point, product, fulfilment="delivery", payment_method="cash_on_delivery", address=ADDRESS)
    with pytest.raises(DomainError) as refused:
        payments.start_card_payment(cash)
    assert refused.value.code == "not_card"
    card = place(point, product)
    orders.cancel(card, reason="changed my mind", actor=None, by_customer=True)
    with pytest.raises(DomainError) as refused:
        payments.start_card_payment(card)
    assert refused.value.code == "not_payable"


def test_a_real_confirmed_intent_is_read_on_return_and_marks_the_order_paid(card_order, sdk):
    payment = payments.start_card_payment(card_order)
    assert payments.sync_from_intent(card_order) is False  # nothing paid yet: nothing changes
    assert card_order.status == OrderStatus.PENDING_PAYMENT
    assert pay_with_card(sdk, payment.intent_id) == "succeeded"
    assert payments.sync_from_intent(card_order) is True
    assert (card_order.status, card_order.paid_vnd) == (OrderStatus.CONFIRMED, 120_000)
    assert payment.status == "succeeded"
    assert payments.sync_from_intent(card_order) is False  # idempotent
    assert [event.kind for event in card_order.events] == ["placed", "paid"]


def test_a_declined_card_leaves_the_order_pending(card_order, sdk):
    payment = payments.start_card_payment(card_order)
    assert pay_with_card(sdk, payment.intent_id, DECLINED_CARD) == "declined"
    assert payments.sync_from_intent(card_order) is False
    assert card_order.status == OrderStatus.PENDING_PAYMENT and card_order.paid_vnd == 0
    assert payment.status == "requires_payment_method"  # the buyer may try another card


def test_the_payment_server_down_is_a_clear_refusal_and_the_order_stays_pending(app_ctx, card_order):
    app_ctx.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(DomainError) as refused:
        payments.start_card_payment(card_order)
    assert refused.value.code == "payment_unavailable"
    db.session.rollback()
    assert card_order.status == OrderStatus.PENDING_PAYMENT and card_order.hold_until is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CardPayment)) == 0
    # The hold still ends by itself: no stock stays stuck with an order that could not be paid.
    assert orders.expire_overdue(now=card_order.hold_until) == [] and orders.expire_overdue(
        now=card_order.hold_until.replace(year=card_order.hold_until.year + 1)) == [card_order]
