"""Reads about recalls: the recalled lots, what each point pulled (the `recall` ledger rows), and who bought the
lot: online orders with their customers, and counter sales (no customer data is kept at the counter)."""
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.core.text import nfc
from shop.extensions import db
from shop.inventory.models import CounterSale, CounterSaleLine, MovementKind, StockLevel, StockMovement
from shop.orders.models import AllocationState, Order, OrderAllocation, OrderLine, OrderStatus
from shop.sales_points.models import SalesPoint
from shop.traceability.models import Lot

MAX_LISTED = 500


def recalled_lots(limit: int = MAX_LISTED) -> list[Lot]:
    """Recalled lots, the newest recall first."""
    return list(db.session.scalars(
        sa.select(Lot).where(Lot.recalled_at.is_not(None))
        .options(joinedload(Lot.product).joinedload(Product.producer))
        .order_by(Lot.recalled_at.desc(), Lot.id.desc()).limit(limit)))


def recalled_lot(lot_id: int) -> Lot | None:
    lot = db.session.get(Lot, lot_id)
    return lot if lot is not None and lot.is_recalled else None


def find_lot(*, trace_code: str | None = None, product_id: int | None = None, lot_code: str | None = None
             ) -> Lot | None:
    """A lot by the trace code printed on its pack, or by its product and lot code."""
    trace_code = (trace_code or "").strip().upper()
    if trace_code:
        return db.session.scalar(sa.select(Lot).where(Lot.trace_code == trace_code))
    lot_code = (nfc(lot_code) or "").strip()
    if product_id and lot_code:
        return db.session.scalar(sa.select(Lot).where(Lot.product_id == product_id, Lot.lot_code == lot_code))
    return None


def products_with_lots() -> list[tuple[int, str]]:
    """(id, "name — producer") of every product that has a lot not yet recalled, by name."""
    with_lots = sa.select(Lot.product_id).where(Lot.recalled_at.is_(None))
    rows = db.session.scalars(sa.select(Product).where(Product.id.in_(with_lots))
                              .options(joinedload(Product.producer)).order_by(Product.name, Product.id))
    return [(product.id, f"{product.name} — {product.producer.name}") for product in rows]


def recaller(lot: Lot) -> User | None:
    return db.session.get(User, lot.recalled_by_id) if lot.recalled_by_id else None


# ----------------------------------------------------------------------------------------------- pull lists

@dataclass(frozen=True)
class PullRow:
    lot: Lot
    product: Product
    point: SalesPoint
    quantity: int          # units taken off the shelf (positive)
    reason: str
    pulled_at: datetime
    actor: User


def _pull_rows(*conditions) -> list[PullRow]:
    rows = db.session.execute(
        sa.select(StockMovement, Lot, Product, SalesPoint, User)
        .join(Lot, Lot.id == StockMovement.lot_id)
        .join(Product, Product.id == StockMovement.product_id)
        .join(SalesPoint, SalesPoint.id == StockMovement.point_id)
        .join(User, User.id == StockMovement.actor_id)
        .where(StockMovement.kind == MovementKind.RECALL, *conditions)
        .order_by(StockMovement.occurred_at.desc(), StockMovement.id.desc()))
    return [PullRow(lot=lot, product=product, point=point, quantity=-movement.quantity,
                    reason=lot.recall_reason or movement.note or "", pulled_at=movement.occurred_at, actor=user)
            for movement, lot, product, point, user in rows]


def pull_list(point: SalesPoint) -> list[PullRow]:
    """What the point took off its shelves because of recalls, the newest first."""
    return _pull_rows(StockMovement.point_id == point.id)


def pulled_by_point(lot: Lot) -> list[PullRow]:
    """Where the lot was when it was recalled: one row per point that held units, by point code."""
    return sorted(_pull_rows(StockMovement.lot_id == lot.id), key=lambda row: row.point.code)


# ---------------------------------------------------------------------------------------------------- buyers

@dataclass(frozen=True)
class OrderBuyer:
    number: str
    placed_at: datetime
    name: str
    email: str
    phone: str
    quantity: int          # units of the lot allocated to the order
    handed_over: int       # of which left the shelf with the order (the customer has them or had them)
    status: OrderStatus
    refund_due_vnd: int    # paid and not refunded, for an order that is cancelled
    point: SalesPoint


@dataclass(frozen=True)
class CounterBuyer:
    number: str
    sold_at: datetime
    point: SalesPoint
    quantity: int
    returned: int


@dataclass(frozen=True)
class Buyers:
    orders: list[OrderBuyer]
    counter: list[CounterBuyer]

    @property
    def units_sold_online(self) -> int:
        return sum(row.handed_over for row in self.orders)

    @property
    def units_sold_at_counters(self) -> int:
        return sum(row.quantity - row.returned for row in self.counter)


def buyers_of(lot: Lot) -> Buyers:
    """Every online order that held or received units of the lot (with its customer) and every counter sale of
    it, oldest first."""
    allocated = sa.func.sum(OrderAllocation.quantity)
    handed_over = sa.func.sum(sa.case((OrderAllocation.state == AllocationState.FULFILLED, OrderAllocation.quantity),
                                      else_=0))
    order_rows = db.session.execute(
        sa.select(Order.id, allocated, handed_over)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(OrderAllocation, OrderAllocation.line_id == OrderLine.id)
        .join(StockLevel, StockLevel.id == OrderAllocation.stock_level_id)
        .where(StockLevel.lot_id == lot.id)
        .group_by(Order.id)).all()
    by_id = {order.id: order for order in db.session.scalars(
        sa.select(Order).where(Order.id.in_([row[0] for row in order_rows])).options(joinedload(Order.point)))}
    orders = []
    for order_id, quantity, fulfilled in order_rows:
        order = by_id[order_id]
        due = order.paid_vnd - order.refunded_vnd if order.status == OrderStatus.CANCELLED else 0
        orders.append(OrderBuyer(number=order.number, placed_at=order.created_at, name=order.contact_name,
                                 email=order.email, phone=order.phone, quantity=int(quantity or 0),
                                 handed_over=int(fulfilled or 0), status=order.status, refund_due_vnd=due,
                                 point=order.point))
    orders.sort(key=lambda row: (row.placed_at, row.number))

    sold = (sa.select(CounterSaleLine.sale_id.label("sale_id"), sa.func.sum(CounterSaleLine.quantity).label("quantity"),
                      sa.func.sum(CounterSaleLine.quantity_returned).label("returned"))
            .where(CounterSaleLine.lot_id == lot.id).group_by(CounterSaleLine.sale_id).subquery("sold"))
    counter_rows = db.session.execute(
        sa.select(CounterSale, sold.c.quantity, sold.c.returned)
        .join(sold, sold.c.sale_id == CounterSale.id)
        .options(joinedload(CounterSale.point))
        .order_by(CounterSale.created_at, CounterSale.id)).all()
    counter = [CounterBuyer(number=sale.number, sold_at=sale.created_at, point=sale.point, quantity=int(quantity),
                            returned=int(returned or 0)) for sale, quantity, returned in counter_rows]
    return Buyers(orders=orders, counter=counter)
