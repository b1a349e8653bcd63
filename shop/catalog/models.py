from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.core.models import TimestampMixin, UTCDateTime, enum_column
from shop.extensions import db
from shop.producers.models import ImageColumns, Producer


class ProductStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Product(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(140), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    producer_id: Mapped[int] = mapped_column(sa.ForeignKey("producer.id"), nullable=False, index=True)
    group_code: Mapped[str] = mapped_column(sa.String(2), nullable=False, index=True)
    subgroup_code: Mapped[str | None] = mapped_column(sa.String(6))
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    story_md: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    price_vnd: Mapped[int] = mapped_column(sa.Integer, nullable=False, index=True)
    unit: Mapped[str] = mapped_column(sa.String(60), nullable=False, default="")
    gtin: Mapped[str | None] = mapped_column(sa.String(14), unique=True)
    is_alcohol: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    status: Mapped[ProductStatus] = enum_column(ProductStatus, nullable=False, default=ProductStatus.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    producer: Mapped[Producer] = relationship()
    images: Mapped[list["ProductImage"]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("price_vnd >= 0", name="price_not_negative"),
    )

    @property
    def is_published(self) -> bool:
        return self.status == ProductStatus.PUBLISHED

    @property
    def cover(self) -> "ProductImage | None":
        return self.images[0] if self.images else None

    def __repr__(self) -> str:
        return f"<Product {self.slug}>"


class ProductImage(ImageColumns, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    product: Mapped[Product] = relationship(back_populates="images")
