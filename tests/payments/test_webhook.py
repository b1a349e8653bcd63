"""The Stripe webhook: signed events only, each event id acts once, out-of-order events are harmless, and a
payment that lands after the order expired is recorded for a refund."""
import json
import secrets
from datetime import timedelta

import sqlalchemy as sa
import stripe

from shop.core.models import utcnow
from shop.extensions import db
from shop.orders import services as orders
from shop.orders.models import OrderStatus
from shop.payments.models import CardPayment, StripeEvent
from tests.payments.conftest import WEBHOOK_SECRET

URL = "/payments/stripe/webhook"


def intent_event(shop, number, kind="payment_intent.succeeded", *, event_id=None, amount=None, message=None):
    with shop.app.app_context():
        order = shop.order(number)
        payment = db.session.scalar(sa.select(CardPayment).where(CardPayment.order_id == order.id))
        status = "succeeded" if kind.endswith("succeeded") else "requires_payment_method"
        intent = {"id": payment.intent_id, "object": "payment_intent", "amount": amount or payment.amount_vnd,
                  "currency": "vnd", "status": status, "client_secret": payment.client_secret,
                  "metadata": {"order_number": number},
                  "last_payment_error": {"message": message} if message else None}
    return {"id": event_id or f"evt_{secrets.token_hex(8)}", "object": "event", "type": kind,
            "data": {"object": intent}}


def post_event(client, event, *, secret=WEBHOOK_SECRET, header=None, payload=None):
    payload = payload if payload is not None else json.dumps(event)
    if header is None:
        header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    headers = {"Stripe-Signature": header} if header else {}
    return client.post(URL, data=payload, headers=headers, content_type="application/json")


def state(shop, number):
    with shop.app.app_context():
        order = shop.order(number)
        return order.status, order.paid_vnd, [event.kind for event in order.events]


def stored_events(shop) -> int:
    with shop.app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent))


def test_a_signed_success_marks_the_order_paid_and_a_replay_changes_nothing(client, shop):
    number, _ = shop.place_card_order()
    event = intent_event(shop, number)
    first = post_event(client, event)
    assert first.status_code == 200 and first.json["outcome"] == "paid"
    assert state(shop, number) == (OrderStatus.CONFIRMED, 150_000, ["placed", "paid"])

    replay = post_event(client, event)  # Stripe retries, or someone replays a captured request
    assert replay.status_code == 200 and replay.json["outcome"] == "duplicate"
    assert state(shop, number) == (OrderStatus.CONFIRMED, 150_000, ["placed", "paid"])
    assert stored_events(shop) == 1


def test_a_second_success_event_for_a_paid_order_changes_nothing(client, shop):
    number, _ = shop.place_card_order()
    post_event(client, intent_event(shop, number))
    again = post_event(client, intent_event(shop, number))  # another id, same news
    assert again.json["outcome"] == "already_paid"
    assert state(shop, number)[2] == ["placed", "paid"]


def test_unsigned_badly_signed_stale_or_tampered_events_are_refused_and_change_nothing(client, shop):
    number, _ = shop.place_card_order()
    event = intent_event(shop, number)
    payload = json.dumps(event)
    stale = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET,
                                                              timestamp=int(utcnow().timestamp()) - 3600)
    signed = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    tampered = payload.replace('"amount": 150000', '"amount": 1')
    refusals = [
        post_event(client, event, header=""),                       # no Stripe-Signature header at all
        post_event(client, event, secret="whsec_someone_else"),     # signed with another secret
        post_event(client, event, header="t=1,v1=deadbeef"),        # garbage
        post_event(client, event, header=stale),                    # a replay from an hour ago
        post_event(client, event, header=signed, payload=tampered),  # body changed after signing
        post_event(client, event, header=signed, payload="not json"),
    ]
    for response in refusals:
        assert response.status_code == 400
        assert response.json["error"]["code"] == "bad_signature"
    assert state(shop, number) == (OrderStatus.PENDING_PAYMENT, 0, ["placed"])
    assert stored_events(shop) == 0


def test_the_webhook_needs_no_csrf_token_but_only_accepts_post(client, shop):
    assert client.get(URL).status_code == 405


def test_a_failure_is_recorded_and_the_buyer_may_still_pay(client, shop):
    number, _ = shop.place_card_order()
    failed = post_event(client, intent_event(shop, number, "payment_intent.payment_failed",
                                             message="Your card was declined."))
    assert failed.json["outcome"] == "failure_recorded"
    assert state(shop, number) == (OrderStatus.PENDING_PAYMENT, 0, ["placed", "payment_failed"])
    post_event(client, intent_event(shop, number))
    assert state(shop, number)[:2] == (OrderStatus.CONFIRMED, 150_000)


def test_a_failure_arriving_after_the_success_changes_nothing(client, shop):
    number, _ = shop.place_card_order()
    post_event(client, intent_event(shop, number))
    late = post_event(client, intent_event(shop, number, "payment_intent.payment_failed", message="late"))
    assert late.status_code == 200
    assert state(shop, number) == (OrderStatus.CONFIRMED, 150_000, ["placed", "paid"])
    with shop.app.app_context():
        assert db.session.scalar(sa.select(CardPayment.status)) == "succeeded"


def test_a_success_after_the_order_expired_is_recorded_for_a_refund(client, shop):
    number, _ = shop.place_card_order()
    with shop.app.app_context():
        assert [o.number for o in orders.expire_overdue(now=utcnow() + timedelta(hours=1))] == [number]
        db.session.commit()
    response = post_event(client, intent_event(shop, number))
    assert response.status_code == 200
    status, paid, kinds = state(shop, number)
    assert (status, paid) == (OrderStatus.CANCELLED, 150_000)
    assert kinds[-1] == "paid_after_cancellation"


def test_an_amount_that_does_not_match_the_order_is_refused(client, shop):
    number, _ = shop.place_card_order()
    response = post_event(client, intent_event(shop, number, amount=1_000))
    assert response.status_code == 409 and response.json["error"]["code"] == "amount_mismatch"
    assert state(shop, number) == (OrderStatus.PENDING_PAYMENT, 0, ["placed"])
    assert stored_events(shop) == 0  # not marked as handled: a corrected delivery may still come


def test_events_of_other_kinds_or_unknown_intents_are_acknowledged_and_ignored(client, shop):
    number, _ = shop.place_card_order()
    other = {"id": "evt_other", "object": "event", "type": "customer.created",
             "data": {"object": {"id": "cus_1", "object": "customer"}}}
    assert post_event(client, other).json["outcome"] == "ignored"
    stranger = intent_event(shop, number)
    stranger["data"]["object"]["id"] = "pi_not_ours"
    assert post_event(client, stranger).json["outcome"] == "ignored"
    assert state(shop, number)[0] == OrderStatus.PENDING_PAYMENT
