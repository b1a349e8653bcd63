"""Money received and returned for orders: card payments (one Stripe PaymentIntent per order), the Stripe events
already handled (each once), cash collected at the door or the counter, and refunds."""
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.core.models import UTCDateTime, enum_column, utcnow
from shop.extensions import db
from shop.orders.models import Order, OrderLine


class CardPayment(db.Model):
    """The order's PaymentIntent, created once and reused on every retry."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("customer_order.id"), unique=True, nullable=False)
    intent_id: Mapped[str] = mapped_column(sa.String(80), unique=True, nullable=False)
    client_secret: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    amount_vnd: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(40), nullable=False)  # the intent's status as Stripe last said
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    order: Mapped[Order] = relationship()

    __table_args__ = (sa.CheckConstraint("amount_vnd > 0", name="amount_positive"),)


class StripeEvent(db.Model):
    """A webhook event already handled: a replay of the same id changes nothing."""

    event_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    order_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class CashCollection(db.Model):
    """Cash taken for an order (cash on delivery, pay at pickup): how much, by whom, when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("customer_order.id"), nullable=False, index=True)
    amount_vnd: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    collected_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), nullable=False)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    note: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.CheckConstraint("amount_vnd > 0", name="amount_positive"),)


class RefundMethod(StrEnum):
    CARD = "card"
    CASH = "cash"


class Refund(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("customer_order.id"), nullable=False, index=True)
    amount_vnd: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    method: Mapped[RefundMethod] = enum_column(RefundMethod, nullable=False)
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    # None for the automatic refund of a payment that arrived after the order was cancelled.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    lines: Mapped[list["RefundLine"]] = relationship(back_populates="refund", order_by="RefundLine.id",
                                                     cascade="all, delete-orphan")

    __table_args__ = (sa.CheckConstraint("amount_vnd > 0", name="amount_positive"),)


class RefundLine(db.Model):
    """Units of an order line refunded, and whether they came back into stock (per line, the manager decides)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(sa.ForeignKey("refund.id", ondelete="CASCADE"), nullable=False, index=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id"), nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    restocked: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)

    refund: Mapped[Refund] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)
