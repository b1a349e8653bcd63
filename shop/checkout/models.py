"""A logged-in customer's stored cart (guests keep theirs in the session; it is merged into this at login)."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Product
from shop.core.models import UTCDateTime, utcnow
from shop.extensions import db


class CartLine(db.Model):
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    product: Mapped[Product] = relationship()

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)
