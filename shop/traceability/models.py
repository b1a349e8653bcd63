"""A lot is one production run of a product. Its journal is append-only: a correction is a new event that points
at the one it corrects. Event fields follow the GS1 model adopted as TCVN 12850:2019: what (lot, inputs), when,
where, who, one step back and one step forward, and the documents that back it (ocop-rules.md section 5)."""
import secrets
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.core.admin_units import short_address
from shop.core.enums import LabelledEnum
from shop.core.models import UTCDateTime, enum_column, utcnow
from shop.extensions import db
from shop.sales_points.models import SalesPoint

# Letters and digits that cannot be misread on a printed label (no 0/O, 1/I/L).
TRACE_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACE_CODE_LENGTH = 10


def new_trace_code() -> str:
    return "".join(secrets.choice(TRACE_CODE_ALPHABET) for _ in range(TRACE_CODE_LENGTH))


class LotStatus(LabelledEnum):
    IN_PRODUCTION = "in_production", _l("In production")
    RELEASED = "released", _l("Released for sale")  # finished and sellable (lots first seen at a receipt start here)
    CLOSED = "closed", _l("Closed: sold out or no longer followed")  # sold out or no longer followed


class Lot(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), nullable=False)
    lot_code: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    # The short code of /t/<code> and of the QR on the pack.
    trace_code: Mapped[str] = mapped_column(sa.String(16), nullable=False, unique=True, default=new_trace_code)
    production_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    expiry_date: Mapped[date | None] = mapped_column(sa.Date)  # None: not perishable
    quantity: Mapped[int | None] = mapped_column(sa.Integer)  # units made; None when first seen at a receipt
    status: Mapped[LotStatus] = enum_column(LotStatus, nullable=False, default=LotStatus.RELEASED)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recall_reason: Mapped[str | None] = mapped_column(sa.Text)
    recalled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    product: Mapped[Product] = relationship()
    events: Mapped[list["TraceEvent"]] = relationship(
        back_populates="lot", order_by="(TraceEvent.occurred_at, TraceEvent.id)", viewonly=True)

    __table_args__ = (
        sa.UniqueConstraint("product_id", "lot_code", name="uq_lot_product_code"),
        sa.CheckConstraint("expiry_date IS NULL OR expiry_date >= production_date", name="expiry_after_production"),
        sa.CheckConstraint("quantity IS NULL OR quantity > 0", name="lot_quantity_positive"),
    )

    def is_expired_on(self, day: date) -> bool:
        # Sellable through the printed expiry date itself.
        return self.expiry_date is not None and self.expiry_date < day

    @property
    def is_recalled(self) -> bool:
        return self.recalled_at is not None

    def __repr__(self) -> str:
        return f"<Lot {self.lot_code} product={self.product_id}>"


class TraceEventType(LabelledEnum):
    """Critical tracking events. The first six are written by the producer; the last three by the system."""

    SOURCING = "sourcing", _l("Sourcing or harvest")  # sourcing or harvest of raw material
    RECEIVING_INPUTS = "receiving_inputs", _l("Receiving inputs")
    PROCESSING = "processing", _l("Processing")
    PACKING = "packing", _l("Packing")
    QUALITY_TEST = "quality_test", _l("Quality test")
    SHIPPING = "shipping", _l("Shipping to a sales point")  # shipped to a sales point
    RECEIVED_AT_POINT = "received_at_point", _l("Received at a sales point")
    TRANSFERRED = "transferred", _l("Transferred between sales points")
    RECALLED = "recalled", _l("Recalled")


PRODUCER_EVENT_TYPES = (TraceEventType.SOURCING, TraceEventType.RECEIVING_INPUTS, TraceEventType.PROCESSING,
                        TraceEventType.PACKING, TraceEventType.QUALITY_TEST, TraceEventType.SHIPPING)


class TraceEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("lot.id"), nullable=False)
    event_type: Mapped[TraceEventType] = enum_column(TraceEventType, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # Where: free address and/or a 2025 administrative unit; custody events name the point.
    place: Mapped[str | None] = mapped_column(sa.String(300))
    province_code: Mapped[int | None] = mapped_column(sa.Integer)
    ward_code: Mapped[int | None] = mapped_column(sa.Integer)
    point_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sales_point.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)  # who did it (person or organisation)
    previous_step: Mapped[str | None] = mapped_column(sa.String(300))  # one step back: where it came from
    next_step: Mapped[str | None] = mapped_column(sa.String(300))      # one step forward: where it goes
    description: Mapped[str | None] = mapped_column(sa.Text)
    reference: Mapped[str | None] = mapped_column(sa.String(60))       # transfer or delivery-note number
    corrects_id: Mapped[int | None] = mapped_column(sa.ForeignKey("trace_event.id"))
    automatic: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    lot: Mapped[Lot] = relationship(back_populates="events")
    point: Mapped[SalesPoint | None] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    corrects: Mapped["TraceEvent | None"] = relationship(remote_side=[id])
    inputs: Mapped[list["TraceInput"]] = relationship(back_populates="event", order_by="TraceInput.id",
                                                      cascade="save-update, merge")
    attachments: Mapped[list["TraceAttachment"]] = relationship(back_populates="event",
                                                                order_by="TraceAttachment.id",
                                                                cascade="save-update, merge")

    __table_args__ = (sa.Index("ix_trace_event_lot_time", "lot_id", "occurred_at"),)

    @property
    def where(self) -> str:
        """The place for people: the address given, followed by its commune and province when they are recorded
        and not already part of it."""
        place = self.place or ""
        commune = short_address(None, self.ward_code, self.province_code)
        if not commune or commune in place:
            return place or commune
        return f"{place}, {commune}" if place else commune


class TraceInput(db.Model):
    """An input used in an event: material, supplier, origin, quantity and the supplier's own lot."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("trace_event.id"), nullable=False, index=True)
    material: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    supplier: Mapped[str | None] = mapped_column(sa.String(200))
    origin: Mapped[str | None] = mapped_column(sa.String(300))
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(14, 3), nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    supplier_lot: Mapped[str | None] = mapped_column(sa.String(60))

    event: Mapped[TraceEvent] = relationship(back_populates="inputs")

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="input_quantity_positive"),)


class AttachmentKind(StrEnum):
    DOCUMENT = "document"   # PDF: test results, certificates
    PHOTO = "photo"


class TraceAttachment(db.Model):
    """A file backing an event, stored under UPLOAD_DIR/trace/ by a random name."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("trace_event.id"), nullable=False, index=True)
    kind: Mapped[AttachmentKind] = enum_column(AttachmentKind, nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    original_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    stored_name: Mapped[str] = mapped_column(sa.String(80), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    size_bytes: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    event: Mapped[TraceEvent] = relationship(back_populates="attachments")


@sa.event.listens_for(TraceEvent, "before_update")
@sa.event.listens_for(TraceEvent, "before_delete")
@sa.event.listens_for(TraceInput, "before_update")
@sa.event.listens_for(TraceInput, "before_delete")
@sa.event.listens_for(TraceAttachment, "before_update")
@sa.event.listens_for(TraceAttachment, "before_delete")
def _journal_is_append_only(mapper, connection, target):
    raise RuntimeError("the traceability journal is append-only: record a correcting event instead")
