from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.core.enums import LabelledEnum
from shop.core.models import TimestampMixin, enum_column
from shop.extensions import db


class LegalForm(LabelledEnum):
    ENTERPRISE = "enterprise", _l("Enterprise")  # doanh nghiệp
    COOPERATIVE = "cooperative", _l("Cooperative")  # hợp tác xã
    COOPERATIVE_GROUP = "cooperative_group", _l("Cooperative group")  # tổ hợp tác
    HOUSEHOLD = "household", _l("Registered household business")  # hộ kinh doanh


class DocumentKind(StrEnum):
    BUSINESS_REGISTRATION = "business_registration"
    FOOD_SAFETY = "food_safety"
    QUALITY_DECLARATION = "quality_declaration"


class Producer(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(140), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    legal_form: Mapped[LegalForm] = enum_column(LegalForm, nullable=False)
    registration_no: Mapped[str | None] = mapped_column(sa.String(30), unique=True)
    # Address in the 2025 units (province + commune/ward); the former district is kept for history.
    province_code: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    ward_code: Mapped[int | None] = mapped_column(sa.Integer)
    former_district: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    street: Mapped[str | None] = mapped_column(sa.String(200))
    story_md: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    website: Mapped[str | None] = mapped_column(sa.String(200))

    images: Mapped[list["ProducerImage"]] = relationship(
        back_populates="producer", order_by="ProducerImage.position", cascade="all, delete-orphan")
    documents: Mapped[list["ProducerDocument"]] = relationship(
        back_populates="producer", order_by="ProducerDocument.kind", cascade="all, delete-orphan")

    @property
    def logo(self) -> "ProducerImage | None":
        return next((image for image in self.images if image.is_logo), None)

    @property
    def photos(self) -> list["ProducerImage"]:
        return [image for image in self.images if not image.is_logo]

    def __repr__(self) -> str:
        return f"<Producer {self.slug}>"


class ImageColumns:
    """A stored picture (see shop.core.images): its generated name, its size and its alternative text."""

    stem: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    width: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    height: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    alt: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)


class ProducerImage(ImageColumns, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(sa.ForeignKey("producer.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    is_logo: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    producer: Mapped[Producer] = relationship(back_populates="images")


class ProducerDocument(TimestampMixin, db.Model):
    """Business registration, food-safety certificate, quality declaration: number and validity."""

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(sa.ForeignKey("producer.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    kind: Mapped[DocumentKind] = enum_column(DocumentKind, nullable=False)
    number: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    issued_on: Mapped[date | None] = mapped_column(sa.Date)
    valid_until: Mapped[date | None] = mapped_column(sa.Date)
    issuer: Mapped[str | None] = mapped_column(sa.String(200))
    producer: Mapped[Producer] = relationship(back_populates="documents")

    def is_valid_on(self, day: date) -> bool:
        return self.valid_until is None or self.valid_until >= day


class ProducerMember(db.Model):
    """A producer account belongs to exactly one producer."""

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    producer_id: Mapped[int] = mapped_column(sa.ForeignKey("producer.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    producer: Mapped[Producer] = relationship()
