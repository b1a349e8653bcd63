"""The listing rules written as plain SQL: the reference the in-memory snapshot and the Whoosh search are
checked against."""
from datetime import date

import sqlalchemy as sa

from shop.catalog.models import Product, ProductStatus
from shop.certification.queries import certified_stars_subquery
from shop.extensions import db
from shop.producers.models import Producer
from shop.search.filters import PRICE_BUCKETS, ProductFilters


def _filtered(filters: ProductFilters, day: date) -> tuple[sa.Select, sa.Subquery]:
    """A select with no columns yet (callers add theirs) over certified, published, filtered products."""
    certified = certified_stars_subquery(day)
    query = (sa.select().select_from(Product)
             .join(certified, certified.c.product_id == Product.id)
             .join(Producer, Producer.id == Product.producer_id)
             .where(Product.status == ProductStatus.PUBLISHED))
    if filters.min_stars:
        query = query.where(certified.c.stars >= filters.min_stars)
    if filters.group:
        query = query.where(Product.group_code == filters.group)
    if filters.locality:
        query = query.where(Producer.former_district == filters.locality)
    if filters.producer:
        query = query.where(Producer.slug == filters.producer)
    if filters.min_price is not None:
        query = query.where(Product.price_vnd >= filters.min_price)
    if filters.max_price is not None:
        query = query.where(Product.price_vnd <= filters.max_price)
    return query, certified


def sql_page(filters: ProductFilters, day: date) -> tuple[list[int], int]:
    query, certified = _filtered(filters, day)
    query = query.add_columns(Product.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    order = {
        "price_asc": (Product.price_vnd.asc(), Product.id),
        "price_desc": (Product.price_vnd.desc(), Product.id),
        "stars": (certified.c.stars.desc(), Product.published_at.desc(), Product.id),
        "newest": (Product.published_at.desc(), Product.id.desc()),
    }[filters.effective_sort]
    ids = list(db.session.scalars(query.order_by(*order).limit(filters.per_page)
                                  .offset((filters.page - 1) * filters.per_page)))
    return ids, total


def sql_facets(filters: ProductFilters, day: date) -> dict[str, dict[str, int]]:
    facets: dict[str, dict[str, int]] = {}
    query, certified = _filtered(filters.without("stars"), day)
    query = query.add_columns(certified.c.stars, sa.func.count()).group_by(certified.c.stars)
    facets["stars"] = {str(stars): count for stars, count in db.session.execute(query)}
    key_columns = {"group": Product.group_code, "locality": Producer.former_district, "producer": Producer.slug}
    for name, column in key_columns.items():
        query, _ = _filtered(filters.without(name), day)
        rows = db.session.execute(query.add_columns(column, sa.func.count()).group_by(column))
        facets[name] = {str(key): count for key, count in rows if key}
    bucket = sa.case(*[((Product.price_vnd >= low) & (Product.price_vnd < high), key)
                       for key, low, high in PRICE_BUCKETS if high is not None],
                     else_=PRICE_BUCKETS[-1][0])
    query, _ = _filtered(filters.without("price"), day)
    facets["price"] = {key: count for key, count in
                       db.session.execute(query.add_columns(bucket, sa.func.count()).group_by(bucket))}
    return facets
