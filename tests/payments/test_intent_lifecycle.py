"""A card order that ends unpaid cancels its PaymentIntent at Stripe (localstripe over HTTP); a payment that still
succeeds after the order was cancelled is refunded automatically and the buyer is told; a customer cannot cancel
a paid order on their own (the point cancels and refunds it)."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
import stripe

from shop.core.errors import Conflict
from shop.core.models import utcnow
from shop.extensions import db
from shop.orders import services as orders
from shop.orders.models import OrderStatus
from shop.payments import services as payments
from shop.payments import stripe_gateway as gateway
from shop.payments.models import CardPayment, Refund
from tests.payments.conftest import pay_with_card
from tests.payments.test_webhook import intent_event, post_event


def _intent_id(shop, number: str) -> str:
    with shop.app.app_context():
        order = shop.order(number)
        return db.session.scalar(sa.select(CardPayment.intent_id).where(CardPayment.order_id == order.id))


def _status_at_stripe(shop, intent_id: str) -> str:
    with shop.app.app_context():
        return gateway.retrieve_payment_intent(intent_id).status


def test_an_expired_unpaid_card_order_cancels_its_intent_so_nothing_can_be_paid_on_it(shop, sdk):
    number, _key = shop.place_card_order()
    intent_id = _intent_id(shop, number)
    with shop.app.app_context():
        assert [o.number for o in orders.expire_overdue(now=utcnow() + timedelta(hours=1))] == [number]
        assert _status_at_stripe(shop, intent_id) != "canceled", "not before the commit"
        db.session.commit()
    assert _status_at_stripe(shop, intent_id) == "canceled"
    with pytest.raises(stripe.InvalidRequestError):  # the buyer's bank can no longer be charged on it
        pay_with_card(sdk, intent_id)


def test_a_customer_cancellation_of_an_unpaid_card_order_cancels_its_intent(shop):
    number, _key = shop.place_card_order()
    intent_id = _intent_id(shop, number)
    with shop.app.app_context():
        orders.cancel(shop.order(number), reason="Đổi ý", actor=None, by_customer=True)
        db.session.rollback()  # rolled back: the intent stays usable
    assert _status_at_stripe(shop, intent_id) == "requires_payment_method"
    with shop.app.app_context():
        orders.cancel(shop.order(number), reason="Đổi ý", actor=None, by_customer=True)
        db.session.commit()
    assert _status_at_stripe(shop, intent_id) == "canceled"


def test_a_payment_that_succeeds_after_the_order_expired_is_refunded_and_the_buyer_told(client, shop, sdk, app):
    number, _key = shop.place_card_order()
    intent_id = _intent_id(shop, number)
    assert pay_with_card(sdk, intent_id) == "succeeded"  # the bank took the money…
    with shop.app.app_context():  # …as the hold ran out, before the webhook arrived
        orders.expire_overdue(now=utcnow() + timedelta(hours=1))
        db.session.commit()  # cancelling the intent now fails at Stripe (it succeeded): logged, nothing else
    response = post_event(client, intent_event(shop, number))
    assert response.status_code == 200 and response.json["outcome"] == "paid_after_cancellation"
    with shop.app.app_context():
        order = shop.order(number)
        assert order.status == OrderStatus.REFUNDED
        assert order.paid_vnd == order.refunded_vnd == 150_000
        refund = db.session.scalar(sa.select(Refund).where(Refund.order_id == order.id))
        assert refund.stripe_refund_id and refund.actor_id is None
        assert [e.kind for e in order.events][-2:] == ["paid_after_cancellation", "refunded"]
    # A second delivery of the same news refunds nothing more.
    again = post_event(client, intent_event(shop, number))
    assert again.status_code == 200
    with shop.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 1


def test_a_customer_cannot_cancel_a_paid_card_order_alone(shop, sdk, client):
    number, _key = shop.place_card_order()
    intent_id = _intent_id(shop, number)
    assert pay_with_card(sdk, intent_id) == "succeeded"
    assert post_event(client, intent_event(shop, number)).status_code == 200
    with shop.app.app_context():
        order = shop.order(number)
        assert order.status == OrderStatus.CONFIRMED
        with pytest.raises(Conflict) as refused:
            orders.cancel(order, reason="Đổi ý", actor=None, by_customer=True)
        assert refused.value.code == "paid_cancel_by_point"


@pytest.fixture
def shared_stripe_app(make_app, localstripe, tmp_path):
    """The payments app on a database other threads reach too (a SQLite file, or the PostgreSQL test database)."""
    from tests.conftest import TEST_DATABASE_URL
    from tests.payments.conftest import stripe_config

    if TEST_DATABASE_URL:
        return make_app(**stripe_config(localstripe))
    app = make_app(**stripe_config(localstripe), SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/race.sqlite")
    with app.app_context():
        db.create_all()
    return app


def test_the_webhook_and_the_expiry_job_at_the_same_instant_settle_the_order_once(shared_stripe_app, sdk):
    """The buyer pays as the hold runs out: either the payment wins (confirmed, stock still held) or the expiry
    does (cancelled, stock back, the payment recorded for its refund) — never both, never neither."""
    from tests.inventory.conftest import run_in_threads
    from tests.payments.conftest import build_shop

    shop = build_shop(shared_stripe_app)
    number, _key = shop.place_card_order()
    intent_id = _intent_id(shop, number)
    assert pay_with_card(sdk, intent_id) == "succeeded"
    with shop.app.app_context():
        payment = db.session.scalar(sa.select(CardPayment).where(CardPayment.intent_id == intent_id))
        event = gateway.WebhookEvent(id="evt_race", type="payment_intent.succeeded", intent=gateway.Intent(
            id=intent_id, status="succeeded", amount_vnd=payment.amount_vnd, currency="vnd",
            client_secret=payment.client_secret, order_number=number))

    def work(n: int):
        if n == 0:
            return payments.handle_stripe_event(event)
        return [order.number for order in orders.expire_overdue(now=utcnow() + timedelta(hours=1))]

    _results, refusals = run_in_threads(shop.app, 2, work)
    assert not refusals, refusals
    with shop.app.app_context():
        order = shop.order(number)
        kinds = [e.kind for e in order.events]
        assert order.paid_vnd == 150_000 and kinds.count("paid") + kinds.count("paid_after_cancellation") == 1
        if order.status == OrderStatus.CONFIRMED:
            assert "expired" not in kinds and order.holds_stock
        else:
            assert order.status == OrderStatus.CANCELLED and kinds.index("expired") < kinds.index(
                "paid_after_cancellation")
        from shop.inventory.queries import verify_ledger
        assert verify_ledger() == []
        db.session.remove()
