"""Reading orders for the people they belong to: the logged-in customer, or whoever holds the order's secret link."""
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from shop.core.pagination import clamp_page, last_page
from shop.extensions import db
from shop.orders.models import Order

ORDERS_PER_PAGE = 20


@dataclass(frozen=True)
class OrderPage:
    items: list[Order]
    page: int
    pages: int
    total: int


def get_by_number(number: str) -> Order | None:
    return db.session.scalar(sa.select(Order).where(Order.number == number))


def orders_of(customer, page: int = 1) -> OrderPage:
    """The customer's orders, newest first, one page at a time (a page past the end shows the last one)."""
    mine = Order.customer_id == customer.id
    total = db.session.scalar(sa.select(sa.func.count(Order.id)).where(mine)) or 0
    pages = last_page(total, ORDERS_PER_PAGE)
    page = clamp_page(page, total, ORDERS_PER_PAGE)
    items = db.session.scalars(
        sa.select(Order).where(mine).options(selectinload(Order.lines))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(ORDERS_PER_PAGE).offset((page - 1) * ORDERS_PER_PAGE)).all()
    return OrderPage(items=list(items), page=page, pages=pages, total=total)


def order_for_viewer(number: str, user, key: str | None) -> Order | None:
    """The order if `user` is its (logged-in) customer or `key` is its access key; None otherwise, so that callers
    answer the same 404 whether the number exists or not."""
    order = get_by_number(number)
    if order is None:
        return None
    if order.customer_id is not None and getattr(user, "is_authenticated", False) and user.id == order.customer_id:
        return order
    # Bytes: compare_digest refuses non-ASCII str, and a key typed into a URL can be anything.
    if key and secrets.compare_digest(key.encode("utf-8"), order.access_key.encode("utf-8")):
        return order
    return None
