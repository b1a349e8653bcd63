"""Payment use cases: card payments (one Stripe PaymentIntent per order), the Stripe webhook's events, cash collected
at the door or the counter, and refunds. They flush, never commit. Stripe is reached only through stripe_gateway;
its failures become DomainErrors ("payment_unavailable" when it cannot be reached: the buyer may retry, the order
stays pending and expires by itself)."""
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from shop.core import audit_trail
from shop.core.database import after_commit, open_transaction
from shop.core.errors import Conflict, DomainError
from shop.core.models import utcnow
from shop.core.money import format_vnd
from shop.core.state import bounded_increment, compare_and_set
from shop.core.text import nfc
from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders import services as orders
from shop.orders.models import (
    AllocationState,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderLine,
    OrderPaymentMethod,
    OrderStatus,
)
from shop.payments import stripe_gateway as gateway
from shop.payments.models import CardPayment, CashCollection, Refund, RefundLine, RefundMethod, StripeEvent

CASH_METHODS = frozenset({OrderPaymentMethod.CASH_ON_DELIVERY, OrderPaymentMethod.PAY_AT_PICKUP})
# Cash is taken when the goods change hands; never for an order that is not (or no longer) going to the buyer.
CASH_STATUSES = frozenset({OrderStatus.CONFIRMED, OrderStatus.READY_FOR_PICKUP, OrderStatus.SHIPPED,
                           OrderStatus.COMPLETED})


log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    orders.order_event.connect(_cancel_intent_of_ended_order)  # connecting twice keeps one receiver


def _cancel_intent_of_ended_order(order: Order, *, kind: str, **_ignored) -> None:
    """A card order cancelled or expired before it was paid: its PaymentIntent is cancelled once the change is
    committed (never while the database lock is held), so the buyer's bank cannot take money for it any more. If
    the cancel fails or a payment wins the race anyway, the late payment is refunded (refund_late_payment)."""
    if kind not in ("cancelled", "expired") or order.payment_method != OrderPaymentMethod.CARD or order.paid_vnd:
        return
    payment = card_payment_of(order)
    if payment is None or payment.status in ("succeeded", "canceled"):
        return
    intent_id, app = payment.intent_id, current_app._get_current_object()

    def cancel_at_stripe() -> None:
        try:
            with app.app_context():
                gateway.cancel_payment_intent(intent_id)
        except gateway.GatewayError:  # logged; a payment that still succeeds is refunded when it is reported
            log.warning("could not cancel payment intent %s of order %s", intent_id, order.number)

    after_commit(cancel_at_stripe)


def holds_from_config() -> orders.Holds:
    config = current_app.config
    return orders.Holds(unpaid_card_minutes=config["UNPAID_CARD_HOLD_MINUTES"],
                        pickup_hours=config["PICKUP_HOLD_HOURS"])


@contextmanager
def _stripe() -> Iterator[None]:
    """Turn the gateway's failures into refusals the views and the checkout show."""
    try:
        yield
    except gateway.GatewayUnavailable as error:
        raise DomainError(str(_l("The payment service cannot be reached right now. Please try again in a few "
                                 "minutes.")), code="payment_unavailable") from error
    except gateway.GatewayDeclined as error:
        raise DomainError(str(_l("The card was declined: %(reason)s", reason=str(error))), field="card",
                          code="card_declined") from error
    except gateway.GatewayError as error:
        raise DomainError(str(_l("The payment service refused the request: %(reason)s", reason=str(error))),
                          code="payment_refused") from error


def _secret_tag(order: Order) -> str:
    """A per-order tag for idempotency keys: unique even when a database is reset and numbers repeat, and it does
    not reveal the order's access key."""
    return hashlib.sha256(order.access_key.encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------------ card payments

def card_payment_of(order: Order) -> CardPayment | None:
    return db.session.scalar(sa.select(CardPayment).where(CardPayment.order_id == order.id))


def start_card_payment(order: Order) -> CardPayment:
    """The order's PaymentIntent: created on the first visit to the pay page, the same one on every retry. The
    amount is the order's total as stored (never anything from the browser). Stripe is asked before the order is
    locked (nothing may wait on its answer); the per-order idempotency key gives two tabs paying at once the same
    intent, and only one of them stores it."""
    if order.payment_method != OrderPaymentMethod.CARD:
        raise DomainError(str(_l("This order is not paid by card.")), code="not_card")
    not_payable = Conflict(str(_l("This order is not waiting for a payment.")), field="status", code="not_payable")
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise not_payable
    payment = card_payment_of(order)
    if payment is not None:
        return payment
    with _stripe():
        intent = gateway.create_payment_intent(order.total_vnd, order.number,
                                               idempotency_key=f"intent-{order.number}-{_secret_tag(order)}")
    _lock(order)  # decided again under the lock: paid, cancelled or stored by the other tab meanwhile
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise not_payable
    payment = card_payment_of(order)
    if payment is not None:
        return payment
    payment = CardPayment(order_id=order.id, intent_id=intent.id, client_secret=intent.client_secret,
                          amount_vnd=intent.amount_vnd, status=intent.status)
    db.session.add(payment)
    db.session.flush()
    return payment


def confirm_sandbox_card(order: Order, token_id: str) -> CardPayment:
    """Sandbox (localstripe) only: confirm the intent with the card the browser tokenised. Real Stripe.js confirms
    in the browser instead. The result reaches the order through the webhook or the return page."""
    payment = start_card_payment(order)
    with _stripe():
        intent = gateway.confirm_with_card_token(payment.intent_id, token_id)
    _note_status(payment, intent.status)
    db.session.flush()
    return payment


def _note_status(payment: CardPayment, status: str) -> None:
    # A late or replayed notice never downgrades a payment Stripe already reported as succeeded.
    if payment.status != "succeeded":
        payment.status = status


def _order_for_intent(intent: gateway.Intent) -> tuple[CardPayment | None, Order | None]:
    payment = db.session.scalar(sa.select(CardPayment).where(CardPayment.intent_id == intent.id))
    return payment, (db.session.get(Order, payment.order_id) if payment else None)


def _lock(order: Order) -> None:
    """Re-read the order under a row lock (SQLite: the write lock), so that the webhook and the return page
    landing at the same moment see each other's result instead of both recording the payment."""
    open_transaction()
    db.session.refresh(order, with_for_update=True)


def _apply_success(order: Order, payment: CardPayment, intent: gateway.Intent) -> bool:
    if intent.currency.lower() != "vnd" or intent.amount_vnd != payment.amount_vnd:
        raise Conflict(str(_l("The amount paid does not match the order's total.")), code="amount_mismatch")
    _lock(order)
    _note_status(payment, intent.status)
    return orders.mark_paid(order, intent.amount_vnd, holds=holds_from_config(), reference=intent.id)


def _first_time(event: gateway.WebhookEvent, order: Order | None) -> bool:
    """Record the event id before acting on it: a replay (or the same event delivered twice at once) finds it."""
    if db.session.get(StripeEvent, event.id) is not None:
        return False
    open_transaction()  # SQLite: so that a later rollback also undoes the savepoint's insert
    try:
        with db.session.begin_nested():
            db.session.add(StripeEvent(event_id=event.id, type=event.type, order_id=order.id if order else None))
    except sa.exc.IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class WebhookOutcome:
    outcome: str
    order: Order | None = None


def handle_stripe_event(event: gateway.WebhookEvent) -> str:
    """Act on a verified webhook event once. Returns what happened: "duplicate", "ignored", "paid",
    "already_paid", "failure_recorded". Out of order is fine: a failure after a success changes nothing, a success
    after the order expired is recorded (for a refund)."""
    payment, order = _order_for_intent(event.intent) if event.intent else (None, None)
    if not _first_time(event, order):
        return "duplicate"
    if order is None or event.type not in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        db.session.flush()
        return "ignored"
    if event.type == "payment_intent.succeeded":
        outcome = "paid" if _apply_success(order, payment, event.intent) else "already_paid"
        if order.status == OrderStatus.CANCELLED:
            outcome = "paid_after_cancellation"
    else:
        _note_status(payment, event.intent.status)
        orders.record_payment_failure(order, event.intent.failure_message or "payment failed",
                                      reference=event.intent.id)
        outcome = "failure_recorded"
    db.session.flush()
    return outcome


def receive_stripe_webhook(payload: bytes, signature_header: str | None) -> WebhookOutcome:
    """The webhook endpoint's one call: verify the signature with the endpoint secret, then act once. The order
    comes back with the outcome "paid_after_cancellation": the caller commits, then refund_late_payment(order)."""
    try:
        event = gateway.construct_event(payload, signature_header, current_app.config["STRIPE_WEBHOOK_SECRET"])
    except gateway.BadSignature as error:
        raise DomainError(str(_l("The webhook signature is missing or wrong.")), code="bad_signature") from error
    outcome = handle_stripe_event(event)
    return WebhookOutcome(outcome, _order_for_intent(event.intent)[1] if event.intent else None)


def sync_from_intent(order: Order) -> bool:
    """The return page: read the intent from Stripe (never the browser's word) and, if it succeeded, record the
    payment like the webhook would. True when the order became paid now."""
    payment = card_payment_of(order)
    if payment is None:
        return False
    with _stripe():
        intent = gateway.retrieve_payment_intent(payment.intent_id)
    if intent.status != "succeeded":
        _note_status(payment, intent.status)
        db.session.flush()
        return False
    return _apply_success(order, payment, intent)


# ------------------------------------------------------------------------------------------------------ cash

def _order_event(order: Order, kind: str, *, actor, note: str | None = None, **data) -> OrderEvent:
    """An event that does not change the status (orders.services has no public helper for these)."""
    event = OrderEvent(order=order, kind=kind, from_status=str(order.status), to_status=str(order.status),
                       actor_id=actor.id, note=note, data=data, occurred_at=utcnow())
    db.session.add(event)
    orders.order_event.send(order, kind=kind, event=event)
    return event


def _require_actor(actor) -> None:
    if getattr(actor, "id", None) is None:
        raise DomainError(str(_l("A staff member must be named.")), code="actor_required")


def record_cash(order: Order, amount_vnd: int, *, actor, note: str | None = None) -> CashCollection:
    """Cash taken for a cash-on-delivery or pay-at-pickup order: exactly what is due, once."""
    _require_actor(actor)
    if order.payment_method not in CASH_METHODS:
        raise DomainError(str(_l("This order is paid by card, not in cash.")), code="not_cash")
    if order.status not in CASH_STATUSES:
        raise Conflict(str(_l("Cash cannot be collected for an order that is %(status)s.",
                              status=order.status.value)), field="status", code="not_collectable")
    due = order.total_vnd - order.paid_vnd
    if due <= 0:
        raise Conflict(str(_l("This order is already paid.")), code="already_paid")
    if amount_vnd != due:
        raise DomainError(str(_l("The cash collected must be exactly the amount due (%(due)s).", due=format_vnd(due))),
                          field="amount_vnd", code="wrong_amount")
    note = (nfc(note) or "").strip() or None
    orders.claim(order)  # before anything is written: of two hand-overs at once, only one records the cash
    # Bounded in SQL as well: cash recorded never exceeds what is due.
    bounded_increment(order, "paid_vnd", amount_vnd, Conflict(str(_l("This order is already paid.")),
                                                              code="already_paid"), at_most=Order.total_vnd)
    collection = CashCollection(order_id=order.id, amount_vnd=amount_vnd, collected_by_id=actor.id, note=note)
    db.session.add(collection)
    _order_event(order, "cash_collected", actor=actor, note=note, amount_vnd=amount_vnd)
    db.session.flush()
    audit_trail.record("payments.cash_collected", order, actor=actor, number=order.number, amount_vnd=amount_vnd)
    return collection


def cash_to_collect(order: Order) -> int:
    """What staff take in cash when the goods change hands (from the customer at the hand-over of a pay-at-pickup
    order, from the carrier of a cash-on-delivery one): what is still owed; nothing for a card order."""
    if order.payment_method not in CASH_METHODS:
        return 0
    return max(order.total_vnd - order.paid_vnd, 0)


def _collect_cash(order: Order, actor) -> None:
    due = cash_to_collect(order)
    if due:
        record_cash(order, due, actor=actor)


def hand_over_collecting_cash(order: Order, pickup_code: str, *, actor) -> Order:
    """The customer collects a pickup order; a pay-at-pickup order's cash is recorded with it, in the same
    transaction (a wrong pickup code refuses both)."""
    _collect_cash(order, actor)
    return orders.hand_over(order, pickup_code, actor=actor)


def complete_delivery_collecting_cash(order: Order, *, actor) -> Order:
    """A shipped order was delivered; the cash the carrier took for a cash-on-delivery order is recorded with it."""
    _collect_cash(order, actor)
    return orders.complete_delivery(order, actor=actor)


# ---------------------------------------------------------------------------------------------------- refunds

def _refund_lines(order: Order, lines: dict[int, tuple[int, bool]]) -> list[tuple[OrderLine, int, bool]]:
    by_id = {line.id: line for line in order.lines}
    checked = []
    for line_id, (quantity, restock) in lines.items():
        line = by_id.get(int(line_id))
        if line is None:
            raise DomainError(str(_l("That line is not part of this order.")), field="lines",
                              code="invalid_refund_line")
        if not isinstance(quantity, int) or quantity <= 0 or quantity > line.quantity - line.quantity_refunded:
            raise DomainError(str(_l("%(product)s: at most %(n)s units can still be refunded.",
                                     product=line.product_name, n=line.quantity - line.quantity_refunded)),
                              field="lines", code="invalid_refund_line")
        if restock and quantity > _units_out(line):
            raise DomainError(str(_l("%(product)s: only units that left the shelf can come back into stock (%(n)s).",
                                     product=line.product_name, n=_units_out(line))),
                              field="lines", code="not_left_shelf")
        checked.append((line, quantity, bool(restock)))
    return checked


def _units_out(line: OrderLine) -> int:
    return sum(a.quantity for a in line.allocations if a.state == AllocationState.FULFILLED)


def _restock(order: Order, line: OrderLine, quantity: int, *, reason: str, actor) -> None:
    """`return` ledger rows at the stock levels the units left from; the part that came back is split off its
    allocation as released, so a later cancellation of the order does not bring it back a second time."""
    for allocation in [a for a in line.allocations if a.state == AllocationState.FULFILLED]:
        if quantity == 0:
            break
        back = min(quantity, allocation.quantity)
        inventory.restock_returned(allocation.stock_level, back, reference=order.number, note=reason, actor=actor)
        if back == allocation.quantity:
            allocation.state = AllocationState.RELEASED
        else:
            allocation.quantity -= back
            line.allocations.append(OrderAllocation(stock_level_id=allocation.stock_level_id, quantity=back,
                                                    state=AllocationState.RELEASED))
        quantity -= back


def refund(order: Order, lines: dict[int, tuple[int, bool]] | None = None, *, amount_vnd: int, reason: str,
           actor) -> Refund:
    """Give money back, full or partial: by card through Stripe on the order's intent, otherwise as cash
    recorded. Per line, the manager says how many units and whether they came back into stock. When everything
    paid has been refunded the order becomes `refunded`. A card refund is recorded here and sent to Stripe by
    send_card_refund once this transaction has committed: Stripe is never called while the order is locked."""
    _require_actor(actor)
    reason = (nfc(reason) or "").strip()
    if not reason:
        raise DomainError(str(_l("Give the reason for the refund.")), field="reason", code="reason_required")
    orders.claim(order)  # what follows decides on the order as this request read it: only one refund at a time
    if not isinstance(amount_vnd, int) or amount_vnd <= 0 or amount_vnd > order.paid_vnd - order.refunded_vnd:
        raise DomainError(str(_l("A refund cannot be more than what was paid and not yet refunded.")),
                          field="amount_vnd", code="refund_too_large")
    if amount_vnd == order.paid_vnd - order.refunded_vnd and order.holds_stock:
        # A full refund ends the order; its held stock is released by cancelling it, which must come first.
        raise Conflict(str(_l("Cancel the order first: its stock is still held for it.")), field="status",
                       code="cancel_first")
    checked = _refund_lines(order, lines or {})
    payment = card_payment_of(order) if order.payment_method == OrderPaymentMethod.CARD else None
    record = Refund(order_id=order.id, amount_vnd=amount_vnd, reason=reason, actor_id=actor.id,
                    method=RefundMethod.CARD if payment else RefundMethod.CASH)
    for line, quantity, restock in checked:
        line.quantity_refunded += quantity
        record.lines.append(RefundLine(order_line_id=line.id, quantity=quantity, restocked=restock))
        if restock:
            _restock(order, line, quantity, reason=reason, actor=actor)
    db.session.add(record)
    orders.mark_refunded(order, actor=actor, amount_vnd=amount_vnd, reason=reason)
    db.session.flush()
    audit_trail.record("payments.refunded", order, actor=actor, number=order.number, amount_vnd=amount_vnd,
                       method=record.method.value)
    return record


def refund_late_payment(order: Order) -> Refund | None:
    """A card payment that succeeded after its order was cancelled (the buyer paid as the hold ran out) goes back
    to the buyer in full, and the buyer is told (the "refunded" email). Stripe is called first, outside any
    database lock, with a key derived from the order so that a retry never refunds twice; then the refund is
    recorded in the caller's transaction. None when there is nothing to give back."""
    if order.status != OrderStatus.CANCELLED or order.paid_vnd <= order.refunded_vnd:
        return None
    payment = card_payment_of(order)
    if payment is None:
        return None
    amount_vnd = order.paid_vnd - order.refunded_vnd
    db.session.rollback()  # end the read transaction: nothing is locked while Stripe answers
    with _stripe():
        result = gateway.refund(payment.intent_id, amount_vnd,
                                idempotency_key=f"late-refund-{order.number}-{_secret_tag(order)}")
    orders.claim(order)
    if order.status != OrderStatus.CANCELLED or order.paid_vnd - order.refunded_vnd != amount_vnd:
        raise Conflict(str(_l("This order has just been changed by someone else.")), code="order_changed")
    reason = str(_l("Paid after the order was cancelled: refunded automatically."))
    record = Refund(order_id=order.id, amount_vnd=amount_vnd, reason=reason, actor_id=None,
                    method=RefundMethod.CARD, stripe_refund_id=result.id)
    db.session.add(record)
    orders.mark_refunded(order, actor=None, amount_vnd=amount_vnd, reason=reason)
    db.session.flush()
    audit_trail.record("payments.late_payment_refunded", order, number=order.number, amount_vnd=amount_vnd)
    return record


def send_card_refund(record: Refund) -> bool:
    """Send a recorded card refund to Stripe (after the refund's transaction committed: no lock is held while
    Stripe answers). The key is the refund's own, so sending again — a retry, `flask payments send-refunds` —
    never refunds twice. True once Stripe has it; a failure raises (the refund stays waiting, listed by
    refunds_waiting_for_stripe)."""
    if record.method != RefundMethod.CARD or record.stripe_refund_id:
        return bool(record.stripe_refund_id)
    order = db.session.get(Order, record.order_id)
    payment = card_payment_of(order)
    intent_id, amount_vnd, key = payment.intent_id, record.amount_vnd, f"refund-{_secret_tag(order)}-{record.id}"
    db.session.rollback()  # end the read transaction before the network call
    with _stripe():
        result = gateway.refund(intent_id, amount_vnd, idempotency_key=key)
    try:
        compare_and_set(record, Conflict(str(_l("This refund was already sent.")), code="already_sent"),
                        expected={"stripe_refund_id": None}, stripe_refund_id=result.id)
    except Conflict:
        db.session.rollback()  # another sender recorded the same Stripe refund (same key, same id)
    db.session.flush()
    return True


def refunds_waiting_for_stripe() -> list[Refund]:
    return list(db.session.scalars(sa.select(Refund).where(Refund.method == RefundMethod.CARD,
                                                            Refund.stripe_refund_id.is_(None))
                                   .order_by(Refund.id)))
