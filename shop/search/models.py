import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shop.core.models import UTCDateTime, utcnow
from shop.extensions import db


class CatalogVersion(db.Model):
    """One row whose number goes up in every transaction that changes what the storefront lists (products,
    producers, certificates, photos, assortments). Processes compare it to decide whether their cached
    listing data and pages are still current."""

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    changed_at = mapped_column(UTCDateTime, nullable=False, default=utcnow)
