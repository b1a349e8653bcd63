"""Order use cases. They flush, never commit. Every status change goes through `_move`, which checks the pipeline
(orders.models.TRANSITIONS) and writes an OrderEvent; stock is held, released and handed over only through the
inventory services, in the same transaction."""
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import lazy_gettext as _l

from shop.catalog.models import Product
from shop.certification.queries import current_certificates
from shop.core import audit_trail
from shop.core.clock import today
from shop.core.errors import Conflict, DomainError, StaleRead
from shop.core.models import utcnow
from shop.core.state import bounded_increment, compare_and_set
from shop.core.text import nfc
from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders.models import (
    TRANSITIONS,
    AllocationState,
    Fulfilment,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderLine,
    OrderPaymentMethod,
    OrderStatus,
)
from shop.sales_points.models import SalesPoint

PICKUP_CODE_DIGITS = 6

# Sent with (order, kind) for every order event ("placed", "paid", "ready_for_pickup", "shipped", "cancelled",
# "expired", "refunded"…) once it is flushed; listeners that act outside the database (emails) must wait for the
# commit (shop.core.database.after_commit). The domain does not know who listens.
order_event = Namespace().signal("order-event")


@dataclass(frozen=True)
class Holds:
    """How long an order holds its stock when nothing happens (from the configuration)."""

    unpaid_card_minutes: int = 30
    pickup_hours: int = 48


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str  # already validated and in E.164 form (checkout validates with phonenumbers)
    email: str


@dataclass(frozen=True)
class Address:
    province_code: int
    ward_code: int
    street: str


# ----------------------------------------------------------------------------------------------- placing

def create_order(point: SalesPoint, lines: list[tuple[Product, int]], *, fulfilment: Fulfilment | str,
                 payment_method: OrderPaymentMethod | str, contact: Contact, address: Address | None = None,
                 shipping_fee_vnd: int = 0, holds: Holds = Holds(), customer=None, locale: str = "vi",
                 age_confirmed: bool = False) -> Order:
    """The order with its lines (snapshots of name, producer, price, stars, certificate) and its stock held at
    `point`, all in the caller's transaction: if any line cannot be held, nothing is created. Prices come from
    the catalogue, never from the request. Cash on delivery and pay-at-pickup orders are confirmed at once; card
    orders wait for the payment."""
    fulfilment, payment_method = Fulfilment(fulfilment), OrderPaymentMethod(payment_method)
    _check_method(fulfilment, payment_method)
    if fulfilment == Fulfilment.DELIVERY and address is None:
        raise DomainError(str(_l("Give the delivery address.")), field="street", code="address_required")
    if not point.is_open:
        raise DomainError(str(_l("This sales point is not open.")), field="point", code="point_not_open")
    if not lines:
        raise DomainError(str(_l("The order has no lines.")), field="lines", code="empty_order")
    now = utcnow()
    certificates = current_certificates([product.id for product, _ in lines], today())
    order = Order(number=f"DH-TMP-{secrets.token_hex(6)}", access_key=secrets.token_urlsafe(32),
                  customer_id=getattr(customer, "id", None), contact_name=nfc(contact.name).strip(),
                  phone=contact.phone, email=contact.email.strip().lower(), locale=locale, fulfilment=fulfilment,
                  point_id=point.id, payment_method=payment_method, status=OrderStatus.PENDING_PAYMENT,
                  subtotal_vnd=0, shipping_fee_vnd=shipping_fee_vnd, total_vnd=0, age_confirmed=age_confirmed,
                  created_at=now, updated_at=now)
    if address is not None and fulfilment == Fulfilment.DELIVERY:
        order.province_code, order.ward_code = address.province_code, address.ward_code
        order.street = nfc(address.street).strip()
    for product, quantity in lines:
        certificate = certificates.get(product.id)
        order.lines.append(OrderLine(product_id=product.id, product_name=product.name,
                                     producer_name=product.producer.name, unit_price_vnd=product.price_vnd,
                                     quantity=quantity, stars=certificate.stars if certificate else None,
                                     certificate_no=certificate.decision_no if certificate else None))
    order.subtotal_vnd = sum(line.total_vnd for line in order.lines)
    order.total_vnd = order.subtotal_vnd + shipping_fee_vnd
    db.session.add(order)
    db.session.flush()
    order.number = f"DH-{order.id:06d}"
    if fulfilment == Fulfilment.PICKUP:
        order.pickup_code = "".join(secrets.choice("0123456789") for _ in range(PICKUP_CODE_DIGITS))
    _event(order, "placed", None, order.status, actor=customer, total_vnd=order.total_vnd)
    if payment_method == OrderPaymentMethod.CARD:
        order.hold_until = now + timedelta(minutes=holds.unpaid_card_minutes)
    else:
        _move(order, OrderStatus.CONFIRMED, "confirmed", actor=customer)
        order.hold_until = now + timedelta(hours=holds.pickup_hours) if fulfilment == Fulfilment.PICKUP else None
    # The stock is held last: its rows stay locked until the commit, so the less that follows, the more buyers
    # a point serves at once.
    _hold(order, point, lines)
    db.session.flush()
    audit_trail.record("orders.order_placed", order, actor=customer, number=order.number, point_id=point.id,
                       total_vnd=order.total_vnd, payment_method=payment_method.value)
    return order


def _check_method(fulfilment: Fulfilment, payment_method: OrderPaymentMethod) -> None:
    if (fulfilment, payment_method) in ((Fulfilment.PICKUP, OrderPaymentMethod.CASH_ON_DELIVERY),
                                        (Fulfilment.DELIVERY, OrderPaymentMethod.PAY_AT_PICKUP)):
        raise DomainError(str(_l("This payment method does not go with this way of receiving the order.")),
                          field="payment_method", code="invalid_payment_method")


def _hold(order: Order, point: SalesPoint, lines: list[tuple[Product, int]]) -> None:
    """Reserve every line at the point (all or nothing) and remember which levels hold what."""
    held = inventory.reserve_lines(point, lines, reference=order.number)
    by_product = {line.product_id: line for line in order.lines}
    for level, quantity in held:
        by_product[level.product_id].allocations.append(
            OrderAllocation(stock_level_id=level.id, quantity=quantity, state=AllocationState.HELD))


# ------------------------------------------------------------------------------------------- the pipeline

def _event(order: Order, kind: str, from_status, to_status, *, actor=None, note: str | None = None,
           **data) -> OrderEvent:
    event = OrderEvent(order=order, kind=kind, from_status=from_status and str(from_status),
                       to_status=to_status and str(to_status), actor_id=getattr(actor, "id", None),
                       note=note, data=data, occurred_at=utcnow())
    db.session.add(event)
    order_event.send(order, kind=kind, event=event)
    return event


def _changed_meanwhile() -> StaleRead:
    return StaleRead(str(_l("This order has just been changed by someone else (another person, a payment or the end "
                           "of its hold). Nothing was done: the page shows where it stands now.")),
                    field="status", code="order_changed")


def claim(order: Order, **values) -> None:
    """Every change of an order starts here, before any stock or money moves: one conditional UPDATE on the version
    this request read. It succeeds for exactly one of two requests deciding on the same read; the other is refused
    with nothing done. From here until the commit the order's row is this transaction's."""
    compare_and_set(order, _changed_meanwhile(), expected={"version": order.version},
                    version=order.version + 1, updated_at=utcnow(), **values)


def _move(order: Order, to_status: OrderStatus, kind: str, *, actor=None, note: str | None = None,
          **data) -> OrderEvent:
    if to_status not in TRANSITIONS[order.status]:
        raise Conflict(str(_l("This is not possible for the order in its current status.")), field="status",
                       code="invalid_transition")
    from_status = order.status
    compare_and_set(order, _changed_meanwhile(), expected={"status": from_status, "version": order.version},
                    status=to_status, version=order.version + 1, updated_at=utcnow())
    event = _event(order, kind, from_status, to_status, actor=actor, note=note, **data)
    audit_trail.record(f"orders.{kind}", order, actor=actor, number=order.number, to_status=to_status.value)
    return event


def _held_allocations(order: Order) -> list[OrderAllocation]:
    return [allocation for line in order.lines for allocation in line.allocations
            if allocation.state == AllocationState.HELD]


def _take(allocation: OrderAllocation, to_state: AllocationState,
          from_state: AllocationState = AllocationState.HELD) -> None:
    """An allocation is consumed once, by its own order: the reservation it holds, never "any reserved units" of
    the stock level."""
    compare_and_set(allocation, Conflict(str(_l("This order's reserved stock has already been handed over or "
                                                "released.")), code="allocation_taken"),
                    expected={"state": from_state}, state=to_state)


def _release(order: Order, actor=None) -> None:
    for allocation in _held_allocations(order):
        _take(allocation, AllocationState.RELEASED)
        inventory.release_reservation(allocation.stock_level, allocation.quantity, reference=order.number,
                                      actor=actor)
    order.hold_until = None


def _hand_over_stock(order: Order, actor) -> None:
    """The held units leave the shelf with the order: order_fulfilment ledger rows at the order's point."""
    for allocation in _held_allocations(order):
        _take(allocation, AllocationState.FULFILLED)
        inventory.fulfil_reservation(allocation.stock_level, allocation.quantity, reference=order.number,
                                     actor=actor)
    order.hold_until = None


def mark_paid(order: Order, amount_vnd: int, *, holds: Holds = Holds(), actor=None, reference: str | None = None
              ) -> bool:
    """A card payment succeeded. Idempotent: a second notice for a confirmed order changes nothing (False).
    A payment that arrives for an order already cancelled (expired) is recorded as an event for a refund."""
    if order.status != OrderStatus.PENDING_PAYMENT:
        if order.status == OrderStatus.CANCELLED and order.paid_vnd == 0:
            claim(order, paid_vnd=min(amount_vnd, order.total_vnd))
            _event(order, "paid_after_cancellation", order.status, order.status, actor=actor, reference=reference,
                   amount_vnd=amount_vnd)
            return True
        return False
    if amount_vnd != order.total_vnd:
        raise Conflict(str(_l("The amount paid does not match the order's total.")), code="amount_mismatch")
    _move(order, OrderStatus.CONFIRMED, "paid", actor=actor, reference=reference, amount_vnd=amount_vnd)
    order.paid_vnd = amount_vnd
    order.hold_until = (utcnow() + timedelta(hours=holds.pickup_hours)
                        if order.fulfilment == Fulfilment.PICKUP else None)
    db.session.flush()
    return True


def record_payment_failure(order: Order, message: str, *, reference: str | None = None) -> None:
    """A failed attempt is news, not a change of status: the buyer may retry until the hold ends."""
    if order.status == OrderStatus.PENDING_PAYMENT:
        claim(order)
        _event(order, "payment_failed", order.status, order.status, note=message, reference=reference)
        db.session.flush()


def mark_ready(order: Order, *, actor, holds: Holds = Holds()) -> Order:
    if order.fulfilment != Fulfilment.PICKUP:
        raise DomainError(str(_l("Only pickup orders are made ready for pickup.")), code="not_pickup")
    _move(order, OrderStatus.READY_FOR_PICKUP, "ready_for_pickup", actor=actor)
    order.hold_until = utcnow() + timedelta(hours=holds.pickup_hours)
    db.session.flush()
    return order


def hand_over(order: Order, pickup_code: str, *, actor) -> Order:
    """The customer collects a pickup order: the code must match; the goods leave the shelf."""
    if order.status != OrderStatus.READY_FOR_PICKUP:
        raise Conflict(str(_l("Only an order ready for pickup can be handed over.")), field="status",
                       code="not_ready")
    if not pickup_code or not secrets.compare_digest((pickup_code or "").strip(), order.pickup_code or ""):
        raise DomainError(str(_l("The pickup code is wrong.")), field="pickup_code", code="wrong_pickup_code")
    _move(order, OrderStatus.COMPLETED, "handed_over", actor=actor)
    _hand_over_stock(order, actor)
    db.session.flush()
    return order


def ship(order: Order, *, tracking_note: str, actor) -> Order:
    if order.fulfilment != Fulfilment.DELIVERY:
        raise DomainError(str(_l("Only delivery orders are shipped.")), code="not_delivery")
    tracking_note = (nfc(tracking_note) or "").strip()
    if not tracking_note:
        raise DomainError(str(_l("Give the tracking note (carrier, parcel number).")), field="tracking_note",
                          code="tracking_note_required")
    _move(order, OrderStatus.SHIPPED, "shipped", actor=actor, note=tracking_note)
    _hand_over_stock(order, actor)
    order.tracking_note = tracking_note
    db.session.flush()
    return order


def complete_delivery(order: Order, *, actor) -> Order:
    # Only a shipped delivery: a pickup order is completed by its hand-over, which takes its stock off the shelf.
    if order.fulfilment != Fulfilment.DELIVERY or order.status != OrderStatus.SHIPPED:
        raise Conflict(str(_l("Only a shipped delivery order can be marked delivered.")), field="status",
                       code="not_shipped")
    _move(order, OrderStatus.COMPLETED, "delivered", actor=actor)
    db.session.flush()
    return order


CUSTOMER_CANCELLABLE = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED,
                                  OrderStatus.READY_FOR_PICKUP})


def cancel(order: Order, *, reason: str, actor, by_customer: bool = False) -> Order:
    """Held stock goes back on the shelf; a shipped order that failed to be delivered brings its units back to the
    same point through `return` ledger rows. Customers may cancel only before shipping; staff give a reason."""
    reason = (nfc(reason) or "").strip()
    if not reason:
        raise DomainError(str(_l("Give the reason for cancelling.")), field="reason", code="reason_required")
    if by_customer and order.status not in CUSTOMER_CANCELLABLE:
        raise Conflict(str(_l("This order can no longer be cancelled; contact the sales point.")), field="status",
                       code="not_cancellable")
    if by_customer and order.paid_vnd > order.refunded_vnd:
        # The money must come back with the cancellation: the sales point cancels and refunds it in one visit.
        raise Conflict(str(_l("This order is already paid: ask the sales point to cancel it and refund you.")),
                       field="status", code="paid_cancel_by_point")
    in_transit = order.in_transit
    _move(order, OrderStatus.CANCELLED, "cancelled", actor=actor, note=reason, by_customer=by_customer)
    _release(order, actor)
    if in_transit:
        for line in order.lines:
            for allocation in line.allocations:
                if allocation.state == AllocationState.FULFILLED:
                    _take(allocation, AllocationState.RELEASED, from_state=AllocationState.FULFILLED)
                    inventory.restock_returned(allocation.stock_level, allocation.quantity, reference=order.number,
                                               note=reason, actor=actor)
    order.cancel_reason = reason
    db.session.flush()
    return order


def mark_refunded(order: Order, *, actor, amount_vnd: int, reason: str) -> bool:
    """Record money given back (payments.services.refund did the refund itself). When everything paid has been
    refunded the order becomes `refunded`; a partial refund is an event only. True when the status changed."""
    too_large = DomainError(str(_l("A refund cannot be more than what was paid and not yet refunded.")),
                            field="amount_vnd", code="refund_too_large")
    if amount_vnd <= 0:
        raise too_large
    # In SQL, bounded: two refunds decided at the same moment can never give back more than was paid.
    bounded_increment(order, "refunded_vnd", amount_vnd, too_large, at_most=Order.paid_vnd)
    if order.refunded_vnd == order.paid_vnd:
        _move(order, OrderStatus.REFUNDED, "refunded", actor=actor, note=reason, amount_vnd=amount_vnd)
        changed = True
    else:
        _event(order, "partially_refunded", order.status, order.status, actor=actor, note=reason,
               amount_vnd=amount_vnd)
        changed = False
    db.session.flush()
    return changed


def expire_overdue(now: datetime | None = None, *, point_id: int | None = None) -> list[Order]:
    """Cancel the orders whose hold has run out (unpaid card orders, pickups not collected) and release their
    stock: all of them (`flask orders expire`), or those of one point (checkout and the counter do it before they
    look for stock, so an uncollected hold never keeps goods from a buyer once its time is up). Each order moves
    by compare-and-set, so a payment that lands at the same moment wins or loses cleanly."""
    now = now or utcnow()
    where = [Order.hold_until.is_not(None), Order.hold_until < now,
             Order.status.in_([OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, OrderStatus.READY_FOR_PICKUP])]
    if point_id is not None:
        where.append(Order.point_id == point_id)
    overdue = db.session.scalars(sa.select(Order).where(*where).order_by(Order.id)).all()
    expired = []
    for order in overdue:
        reason = ("unpaid" if order.status == OrderStatus.PENDING_PAYMENT else "not collected")
        try:
            _move(order, OrderStatus.CANCELLED, "expired", note=reason)
        except Conflict:
            continue  # paid, collected or cancelled at this very moment: that change won, nothing expires
        _release(order)
        order.cancel_reason = reason
        expired.append(order)
    db.session.flush()
    return expired
