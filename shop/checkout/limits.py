"""Holds cannot be hoarded: one buyer may hold only so much stock in orders they have not paid for. An order is
"open" while it holds stock (pending payment, confirmed, ready for pickup), nothing is paid yet and its hold has
not run out (an overdue hold is free whether or not `flask orders expire` has run). The buyer is the customer
account when logged in, else anyone with the same phone or email. Flush-free reads only."""
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from shop.core.errors import DomainError
from shop.core.models import utcnow
from shop.extensions import db
from shop.orders.models import HOLDING, Order, OrderLine
from shop.orders.services import Contact


def open_orders_of(contact: Contact, *, customer=None, now: datetime | None = None) -> sa.Select:
    """The ids of the buyer's open orders. `contact` is already checked (E.164 phone, lower-case email)."""
    now = now or utcnow()
    buyer = (Order.customer_id == customer.id if customer is not None
             else sa.or_(Order.phone == contact.phone, Order.email == contact.email.strip().lower()))
    return sa.select(Order.id).where(buyer, Order.status.in_(HOLDING), Order.paid_vnd == 0,
                                     sa.or_(Order.hold_until.is_(None), Order.hold_until > now))


def check_hold_caps(contact: Contact, lines, *, customer=None, config: Mapping,
                    now: datetime | None = None) -> None:
    """Refuse when the order about to be placed (`lines`: (product, quantity) pairs) would take the buyer's open
    orders over MAX_OPEN_ORDERS_PER_CONTACT, or their units of one product over MAX_HELD_UNITS_PER_PRODUCT (0 turns
    a cap off). Checked before any stock is held, so it adds nothing to the time the stock rows stay locked; two
    checkouts of one buyer at the same instant may pass it together (the per-contact rate limit bounds that)."""
    max_orders, max_units = config["MAX_OPEN_ORDERS_PER_CONTACT"], config["MAX_HELD_UNITS_PER_PRODUCT"]
    if not max_orders and not max_units:
        return
    open_ids = open_orders_of(contact, customer=customer, now=now).scalar_subquery()
    if max_orders:
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.id.in_(open_ids)))
        if count + 1 > max_orders:
            raise DomainError(str(_l("You already have %(n)s orders waiting to be paid for or collected. Pay for "
                                     "or collect one (or cancel it) before placing another.", n=max_orders)),
                              code="too_many_open_orders")
    if max_units:
        adding = {product.id: (product.name, quantity) for product, quantity in lines}
        held = dict(db.session.execute(
            sa.select(OrderLine.product_id, sa.func.sum(OrderLine.quantity))
            .where(OrderLine.order_id.in_(open_ids), OrderLine.product_id.in_(list(adding)))
            .group_by(OrderLine.product_id)).all())
        for product_id, (name, quantity) in adding.items():
            total = held.get(product_id, 0) + quantity
            if total > max_units:
                raise DomainError(str(_l("You can hold at most %(max)s of %(name)s in orders not yet paid for or "
                                         "collected; this order would bring you to %(n)s.", max=max_units,
                                         name=name, n=total)), field="lines", code="too_many_units_held")
