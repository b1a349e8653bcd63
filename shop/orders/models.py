"""An order keeps snapshots of what was sold, holds stock through allocations (reservations on stock levels),
and moves along a status pipeline in which every change is an OrderEvent with its actor and time."""
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.core.enums import LabelledEnum
from shop.core.models import UTCDateTime, enum_column, utcnow
from shop.extensions import db
from shop.inventory.models import StockLevel
from shop.sales_points.models import SalesPoint


class Fulfilment(LabelledEnum):
    DELIVERY = "delivery", _l("Delivery")
    PICKUP = "pickup", _l("Pickup at the point")


class OrderPaymentMethod(LabelledEnum):
    CARD = "card", _l("Card")
    CASH_ON_DELIVERY = "cash_on_delivery", _l("Cash on delivery")
    PAY_AT_PICKUP = "pay_at_pickup", _l("Pay at pickup")


class OrderStatus(LabelledEnum):
    PENDING_PAYMENT = "pending_payment", _l("Awaiting payment")
    CONFIRMED = "confirmed", _l("Confirmed")
    READY_FOR_PICKUP = "ready_for_pickup", _l("Ready for pickup")
    SHIPPED = "shipped", _l("Shipped")
    COMPLETED = "completed", _l("Completed")
    CANCELLED = "cancelled", _l("Cancelled")
    REFUNDED = "refunded", _l("Refunded")


# The pipeline: every allowed move. Anything else is refused by orders.services.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.READY_FOR_PICKUP, OrderStatus.SHIPPED, OrderStatus.CANCELLED,
                                      OrderStatus.REFUNDED}),
    OrderStatus.READY_FOR_PICKUP: frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REFUNDED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REFUNDED}),
    OrderStatus.COMPLETED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.CANCELLED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.REFUNDED: frozenset(),
}
# Statuses in which the order still holds stock at its point (reserved, not yet handed over).
HOLDING = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, OrderStatus.READY_FOR_PICKUP})


class Order(db.Model):
    __tablename__ = "customer_order"  # "order" is an SQL keyword

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True, nullable=False)  # DH-000123
    # The secret of the link emailed to guests (and the owner's too): /orders/<number>?key=<access_key>.
    access_key: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    contact_name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    # Indexed: checkout counts a buyer's open orders by phone and by email (the hold caps).
    phone: Mapped[str] = mapped_column(sa.String(20), nullable=False, index=True)  # E.164, e.g. +84912345678
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False, index=True)
    locale: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="vi")
    fulfilment: Mapped[Fulfilment] = enum_column(Fulfilment, nullable=False)
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id"), nullable=False, index=True)
    province_code: Mapped[int | None] = mapped_column(sa.Integer)  # delivery address (2025 units)
    ward_code: Mapped[int | None] = mapped_column(sa.Integer)
    street: Mapped[str | None] = mapped_column(sa.String(200))
    payment_method: Mapped[OrderPaymentMethod] = enum_column(OrderPaymentMethod, nullable=False)
    status: Mapped[OrderStatus] = enum_column(OrderStatus, nullable=False, default=OrderStatus.PENDING_PAYMENT)
    # Bumped by every change of the order (shop.core.state.compare_and_set): a change decided on an older read of
    # the order (a stale page, the loser of a race) finds another version and is refused.
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1, server_default="1")
    subtotal_vnd: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    shipping_fee_vnd: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    total_vnd: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    paid_vnd: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    refunded_vnd: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    pickup_code: Mapped[str | None] = mapped_column(sa.String(8))  # short code checked at hand-over
    age_confirmed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    # Until when the order's stock is held if nothing happens (unpaid card orders, uncollected pickups).
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    tracking_note: Mapped[str | None] = mapped_column(sa.String(500))
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    point: Mapped[SalesPoint] = relationship()
    customer: Mapped[User | None] = relationship()
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", order_by="OrderLine.id",
                                                    cascade="all, delete-orphan")
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", order_by="(OrderEvent.occurred_at, OrderEvent.id)", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("subtotal_vnd >= 0 AND shipping_fee_vnd >= 0 AND total_vnd >= 0", name="amounts_positive"),
        sa.CheckConstraint("total_vnd = subtotal_vnd + shipping_fee_vnd", name="total_is_sum"),
        sa.CheckConstraint("refunded_vnd >= 0 AND refunded_vnd <= paid_vnd", name="refund_within_paid"),
        sa.CheckConstraint("paid_vnd >= 0 AND paid_vnd <= total_vnd", name="paid_within_total"),
        sa.CheckConstraint("(fulfilment = 'delivery' AND ward_code IS NOT NULL AND street IS NOT NULL) "
                           "OR fulfilment = 'pickup'", name="delivery_has_address"),
        sa.Index("ix_order_point_status", "point_id", "status"),
    )

    @property
    def holds_stock(self) -> bool:
        return self.status in HOLDING

    @property
    def stock_held_until(self) -> datetime | None:
        """Until when the order keeps its stock if nothing happens; None once it holds none."""
        return self.hold_until if self.holds_stock else None

    @property
    def in_transit(self) -> bool:
        """Shipped, not yet delivered: cancelling now brings the goods back to the point (return rows)."""
        return self.status == OrderStatus.SHIPPED

    @property
    def refundable_vnd(self) -> int:
        """Money paid and not yet given back."""
        return self.paid_vnd - self.refunded_vnd

    def __repr__(self) -> str:
        return f"<Order {self.number} {self.status}>"


class OrderLine(db.Model):
    """A snapshot of what was sold: name, producer, price, stars and certificate at the time of the sale."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("customer_order.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), nullable=False, index=True)
    product_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    producer_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    unit_price_vnd: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    stars: Mapped[int | None] = mapped_column(sa.SmallInteger)
    certificate_no: Mapped[str | None] = mapped_column(sa.String(60))
    quantity_refunded: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()
    allocations: Mapped[list["OrderAllocation"]] = relationship(back_populates="line", order_by="OrderAllocation.id",
                                                                cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_vnd >= 0", name="unit_price_not_negative"),
        sa.CheckConstraint("quantity_refunded >= 0 AND quantity_refunded <= quantity", name="refunded_within_sold"),
    )

    @property
    def total_vnd(self) -> int:
        return self.quantity * self.unit_price_vnd

    @property
    def quantity_not_refunded(self) -> int:
        return self.quantity - self.quantity_refunded


class AllocationState(StrEnum):
    HELD = "held"            # reserved on the stock level
    FULFILLED = "fulfilled"  # left the shelf with the order (an order_fulfilment ledger row)
    RELEASED = "released"    # given back to the shelf (cancelled, expired)


class OrderAllocation(db.Model):
    """Which stock level (point, product, lot) holds how many units of a line: what to pick, release or fulfil."""

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    stock_level_id: Mapped[int] = mapped_column(sa.ForeignKey("stock_level.id"), nullable=False, index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    state: Mapped[AllocationState] = enum_column(AllocationState, nullable=False, default=AllocationState.HELD)

    line: Mapped[OrderLine] = relationship(back_populates="allocations")
    stock_level: Mapped[StockLevel] = relationship()

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)


class OrderEvent(db.Model):
    """Append-only history of an order: placed, paid, ready, handed over, shipped, cancelled, refunded…"""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("customer_order.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    kind: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    # No foreign key: the history outlives the accounts that wrote it.
    actor_id: Mapped[int | None] = mapped_column(sa.Integer)
    note: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    order: Mapped[Order] = relationship(back_populates="events")


@sa.event.listens_for(OrderEvent, "before_update")
@sa.event.listens_for(OrderEvent, "before_delete")
def _events_are_append_only(mapper, connection, target):
    raise RuntimeError("order events are append-only")
