import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from shop.catalog.models import Product, ProductStatus
from shop.extensions import db


def get_by_slug(slug: str) -> Product | None:
    return db.session.scalar(
        sa.select(Product).where(Product.slug == slug)
        .options(selectinload(Product.images), selectinload(Product.producer)))


def get_by_gtin(gtin: str) -> Product | None:
    return db.session.scalar(sa.select(Product).where(Product.gtin == gtin))


def products_of_producer(producer_id: int, *, published_only: bool = True) -> list[Product]:
    query = (sa.select(Product).where(Product.producer_id == producer_id).order_by(Product.name)
             .options(selectinload(Product.images)))
    if published_only:
        query = query.where(Product.status == ProductStatus.PUBLISHED)
    return list(db.session.scalars(query))


def products_by_ids(ids: list[int]) -> list[Product]:
    """Products in the order of `ids` (search hits keep their rank)."""
    if not ids:
        return []
    rows = db.session.scalars(
        sa.select(Product).where(Product.id.in_(ids))
        .options(selectinload(Product.images), selectinload(Product.producer)))
    by_id = {p.id: p for p in rows}
    return [by_id[i] for i in ids if i in by_id]


def all_products(limit: int = 500) -> list[Product]:
    return list(db.session.scalars(sa.select(Product).order_by(Product.name).limit(limit)
                                   .options(selectinload(Product.images), selectinload(Product.producer))))
