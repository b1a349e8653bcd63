from datetime import time
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Product
from shop.core.models import TimestampMixin, enum_column
from shop.extensions import db


class PointTier(StrEnum):
    CENTRE = "centre"   # provincial OCOP centre
    POINT = "point"     # introduction-and-sales point


class PointStatus(StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class SalesPoint(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)  # e.g. DN-XL-01
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    tier: Mapped[PointTier] = enum_column(PointTier, nullable=False, default=PointTier.POINT)
    status: Mapped[PointStatus] = enum_column(PointStatus, nullable=False, default=PointStatus.PLANNED)
    province_code: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    ward_code: Mapped[int | None] = mapped_column(sa.Integer)
    former_district: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    street: Mapped[str | None] = mapped_column(sa.String(200))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    opens_at: Mapped[time | None] = mapped_column(sa.Time)
    closes_at: Mapped[time | None] = mapped_column(sa.Time)
    phone: Mapped[str | None] = mapped_column(sa.String(20))

    products: Mapped[list["PointProduct"]] = relationship(back_populates="point", cascade="all, delete-orphan")

    @property
    def is_open(self) -> bool:
        return self.status == PointStatus.OPEN

    def __repr__(self) -> str:
        return f"<SalesPoint {self.code}>"


class PointProduct(db.Model):
    """The assortment: a product this point carries (stock levels come with the inventory domain)."""

    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    point: Mapped[SalesPoint] = relationship(back_populates="products")
    product: Mapped[Product] = relationship()


class PointManager(db.Model):
    """A point manager may manage one or more points."""

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id", ondelete="CASCADE"), primary_key=True,
                                          index=True)
    point: Mapped[SalesPoint] = relationship()
