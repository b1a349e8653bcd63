"""Reading orders: for the people they belong to (the logged-in customer, or whoever holds the order's secret
link), and for the sales point that fulfils them (its orders, an order with its pick list)."""
import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from shop.accounts.models import User
from shop.core.pagination import Page, clamp_page, last_page
from shop.extensions import db
from shop.inventory.models import StockLevel
from shop.orders.models import AllocationState, Order, OrderAllocation, OrderLine
from shop.traceability.models import Lot

ORDERS_PER_PAGE = 20
POINT_ORDERS_PER_PAGE = 50


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


# ------------------------------------------------------------------------------------------- for the sales point

def orders_at_point(point_id: int, statuses, page: int) -> Page:
    """The point's orders in those statuses (None: all), newest first."""
    where = [Order.point_id == point_id]
    if statuses is not None:
        where.append(Order.status.in_(statuses))
    total = db.session.scalar(sa.select(sa.func.count(Order.id)).where(*where))
    page = clamp_page(page, total, POINT_ORDERS_PER_PAGE)
    items = db.session.scalars(sa.select(Order).where(*where).order_by(Order.created_at.desc(), Order.id.desc())
                               .limit(POINT_ORDERS_PER_PAGE).offset((page - 1) * POINT_ORDERS_PER_PAGE))
    return Page(list(items), total, page, POINT_ORDERS_PER_PAGE)


def order_at_point(point_id: int, number: str) -> Order | None:
    """The order if this point serves it (with its lines and history); None for another point's number."""
    return db.session.scalar(
        sa.select(Order).where(Order.number == number, Order.point_id == point_id)
        .options(selectinload(Order.lines), selectinload(Order.events)))


@dataclass(frozen=True)
class PickRow:
    product_name: str
    lot_code: str
    expiry_date: date | None
    quantity: int
    state: AllocationState

    @property
    def to_pick(self) -> bool:
        """Still on the shelf, held for the order (else it has left with the order)."""
        return self.state == AllocationState.HELD


def pick_list(order_id: int) -> list[PickRow]:
    """What to take from which lot, per product first expired first out (lots without an expiry date last); units
    released back to the shelf (cancelled, expired) are not to pick."""
    rows = db.session.execute(
        sa.select(OrderLine.product_name, Lot.lot_code, Lot.expiry_date, OrderAllocation.quantity,
                  OrderAllocation.state)
        .join(OrderAllocation, OrderAllocation.line_id == OrderLine.id)
        .join(StockLevel, StockLevel.id == OrderAllocation.stock_level_id)
        .join(Lot, Lot.id == StockLevel.lot_id)
        .where(OrderLine.order_id == order_id, OrderAllocation.state != AllocationState.RELEASED)
        .order_by(OrderLine.product_name, Lot.expiry_date.is_(None), Lot.expiry_date, Lot.lot_code,
                  OrderAllocation.id))
    return [PickRow(*row) for row in rows]


def actors_of(order: Order) -> dict[int, User]:
    """The accounts that wrote the order's history, by id (an account deleted since is missing)."""
    ids = {event.actor_id for event in order.events if event.actor_id}
    return {user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(ids)))} if ids else {}
