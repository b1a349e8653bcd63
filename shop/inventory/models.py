"""Stock = two numbers per (point, product, lot) plus an append-only ledger whose sums they always equal."""
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.core.enums import LabelledEnum
from shop.core.models import UTCDateTime, enum_column, utcnow
from shop.extensions import db
from shop.sales_points.models import SalesPoint
from shop.traceability.models import Lot


class MovementKind(LabelledEnum):
    RECEIPT = "receipt", _l("Receipt")
    TRANSFER_OUT = "transfer_out", _l("Transfer out")
    TRANSFER_IN = "transfer_in", _l("Transfer in")
    COUNTER_SALE = "counter_sale", _l("Counter sale")
    ORDER_FULFILMENT = "order_fulfilment", _l("Order fulfilment")
    RETURN = "return", _l("Return")
    ADJUSTMENT = "adjustment", _l("Adjustment")
    RECALL = "recall", _l("Recall")


class AdjustmentReason(LabelledEnum):
    COUNT_CORRECTION = "count_correction", _l("Count correction")
    DAMAGED = "damaged", _l("Damaged")
    EXPIRED_WRITE_OFF = "expired_write_off", _l("Expired, written off")
    SAMPLE_PROMOTION = "sample_promotion", _l("Sample or promotion")
    LOST = "lost", _l("Lost")


class PaymentMethod(LabelledEnum):
    CASH = "cash", _l("Cash")
    CARD = "card", _l("Card")
    BANK_TRANSFER = "bank_transfer", _l("Bank transfer")


class StockLevel(db.Model):
    """Changed only by conditional UPDATEs in inventory.services, each together with one ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), nullable=False, index=True)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("lot.id"), nullable=False, index=True)
    on_hand: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    reserved: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)  # held for online orders

    point: Mapped[SalesPoint] = relationship()
    product: Mapped[Product] = relationship()
    lot: Mapped[Lot] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("point_id", "product_id", "lot_id", name="uq_stock_level_point_product_lot"),
        sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        sa.CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def __repr__(self) -> str:
        return f"<StockLevel point={self.point_id} lot={self.lot_id} {self.on_hand}/{self.reserved}>"


class StockMovement(db.Model):
    """The ledger. Rows are only ever added: corrections are new rows."""

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), nullable=False, index=True)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("lot.id"), nullable=False, index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)  # signed: + in, - out
    kind: Mapped[MovementKind] = enum_column(MovementKind, nullable=False)
    reason: Mapped[AdjustmentReason | None] = enum_column(AdjustmentReason)
    note: Mapped[str | None] = mapped_column(sa.Text)
    unit_cost_vnd: Mapped[int | None] = mapped_column(sa.Integer)  # receipts: what the point paid per unit
    reference: Mapped[str | None] = mapped_column(sa.String(60), index=True)  # delivery note, sale number…
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), nullable=False, index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    lot: Mapped[Lot] = relationship()
    actor: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint("quantity <> 0", name="quantity_not_zero"),
        sa.CheckConstraint("(kind = 'adjustment' AND reason IS NOT NULL) OR (kind <> 'adjustment' AND reason IS NULL)",
                           name="reason_for_adjustments"),
        sa.CheckConstraint("unit_cost_vnd IS NULL OR unit_cost_vnd >= 0", name="unit_cost_not_negative"),
        sa.Index("ix_stock_movement_point_time", "point_id", "occurred_at"),
        sa.Index("ix_stock_movement_level", "point_id", "product_id", "lot_id"),
    )


@sa.event.listens_for(StockMovement, "before_update")
@sa.event.listens_for(StockMovement, "before_delete")
def _ledger_is_append_only(mapper, connection, target):
    raise RuntimeError("stock movements are append-only: record a correcting movement instead")


class DocumentCounter(db.Model):
    """Per-point numbering of documents (counter-sale receipts), incremented by an atomic UPDATE."""

    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    last_number: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class CounterSale(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)  # DN-XL-01-000123
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id"), nullable=False, index=True)
    total_vnd: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    payment_method: Mapped[PaymentMethod] = enum_column(PaymentMethod, nullable=False)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)

    point: Mapped[SalesPoint] = relationship()
    lines: Mapped[list["CounterSaleLine"]] = relationship(back_populates="sale", order_by="CounterSaleLine.id",
                                                          cascade="all, delete-orphan")

    __table_args__ = (sa.CheckConstraint("total_vnd >= 0", name="total_not_negative"),)


class CounterSaleLine(db.Model):
    """Snapshots name, lot and price, so the receipt stays true when the catalogue changes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("counter_sale.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), nullable=False, index=True)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("lot.id"), nullable=False)
    product_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    lot_code: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    unit_price_vnd: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    quantity_returned: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default="0")

    sale: Mapped[CounterSale] = relationship(back_populates="lines")

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_vnd >= 0", name="unit_price_not_negative"),
        sa.CheckConstraint("quantity_returned >= 0 AND quantity_returned <= quantity", name="returned_within_sold"),
    )

    @property
    def total_vnd(self) -> int:
        return self.quantity * self.unit_price_vnd


class CounterReturn(db.Model):
    """A customer bringing back goods bought at the counter: the money refunded and, per line, whether the units
    went back on the shelf (a `return` row) or not (a `return` row followed by a damaged write-off)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)  # DN-XL-01-TH-000001
    sale_id: Mapped[int] = mapped_column(sa.ForeignKey("counter_sale.id"), nullable=False, index=True)
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id"), nullable=False, index=True)
    refund_vnd: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    payment_method: Mapped[PaymentMethod] = enum_column(PaymentMethod, nullable=False)  # how the refund was paid
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    restocked: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)

    sale: Mapped[CounterSale] = relationship()
    lines: Mapped[list["CounterReturnLine"]] = relationship(back_populates="counter_return",
                                                            order_by="CounterReturnLine.id",
                                                            cascade="all, delete-orphan")

    __table_args__ = (sa.CheckConstraint("refund_vnd >= 0", name="refund_not_negative"),)


class CounterReturnLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(sa.ForeignKey("counter_return.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    sale_line_id: Mapped[int] = mapped_column(sa.ForeignKey("counter_sale_line.id"), nullable=False)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    counter_return: Mapped[CounterReturn] = relationship(back_populates="lines")
    sale_line: Mapped[CounterSaleLine] = relationship()

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)


class TransferStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    SHIPPED = "shipped", _l("In transit")
    RECEIVED = "received", _l("Received")
    CANCELLED = "cancelled", _l("Cancelled")


class Transfer(db.Model):
    """Goods sent from one point to another. Between shipping and receiving the units are on no point's shelf:
    the origin's transfer_out rows took them off, the destination's transfer_in rows (or the origin's return rows
    for rejected units or a cancellation) put them back on."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)  # DN-TT-01-CK-000001
    from_point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id"), nullable=False, index=True)
    to_point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id"), nullable=False, index=True)
    status: Mapped[TransferStatus] = enum_column(TransferStatus, nullable=False, default=TransferStatus.DRAFT)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(sa.Text)

    from_point: Mapped[SalesPoint] = relationship(foreign_keys=[from_point_id])
    to_point: Mapped[SalesPoint] = relationship(foreign_keys=[to_point_id])
    created_by: Mapped[User] = relationship()
    lines: Mapped[list["TransferLine"]] = relationship(back_populates="transfer", order_by="TransferLine.id",
                                                       cascade="all, delete-orphan")

    __table_args__ = (sa.CheckConstraint("from_point_id <> to_point_id", name="transfer_between_two_points"),)


class TransferLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(sa.ForeignKey("transfer.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), nullable=False, index=True)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("lot.id"), nullable=False)
    quantity_shipped: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    quantity_accepted: Mapped[int | None] = mapped_column(sa.Integer)  # None until received
    quantity_rejected: Mapped[int | None] = mapped_column(sa.Integer)
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)

    transfer: Mapped[Transfer] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()
    lot: Mapped[Lot] = relationship()

    __table_args__ = (
        sa.CheckConstraint("quantity_shipped > 0", name="quantity_shipped_positive"),
        sa.CheckConstraint("quantity_accepted IS NULL OR quantity_accepted >= 0", name="accepted_not_negative"),
        sa.CheckConstraint("quantity_rejected IS NULL OR quantity_rejected >= 0", name="rejected_not_negative"),
    )
