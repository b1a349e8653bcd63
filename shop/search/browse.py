"""The product listing: certified, published products with filters, sorting, pages and facet counts.

Without a text query, SQL answers everything. With one, the Whoosh index ranks, filters and counts
(`search.index.search_products`), and SQL loads only the page's products.
"""
from dataclasses import dataclass, field
from datetime import date
from math import ceil

import sqlalchemy as sa

from shop.catalog.groups import GROUPS
from shop.catalog.models import Product, ProductStatus
from shop.catalog.queries import products_by_ids
from shop.certification.models import Certificate
from shop.certification.queries import certified_stars_subquery, current_certificates
from shop.core.admin_units import FORMER_DISTRICTS
from shop.extensions import db
from shop.producers.models import Producer
from shop.search.filters import PRICE_BUCKETS, ProductFilters

FACET_NAMES = ("stars", "group", "locality", "producer", "price")
MAX_PRODUCER_FACETS = 30


@dataclass
class FacetValue:
    key: str
    label: str
    count: int


@dataclass
class ProductCard:
    product: Product
    certificate: Certificate


@dataclass
class ProductPage:
    items: list[ProductCard]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def browse_products(filters: ProductFilters, day: date, locale: str = "vi", *, with_facets: bool = True
                    ) -> ProductPage:
    if filters.q:
        from shop.search import index

        hits = index.search_products(filters, day, with_facets=with_facets)
        ids, total, raw_facets = hits.ids, hits.total, hits.facets
    else:
        ids, total = _sql_page(filters, day)
        raw_facets = _sql_facets(filters, day) if with_facets else {}
    products = products_by_ids(ids)
    certificates = current_certificates([p.id for p in products], day)
    # A product whose certificate lapsed since it was indexed is dropped here: no badge without a certificate.
    items = [ProductCard(p, certificates[p.id]) for p in products if p.id in certificates]
    return ProductPage(items=items, total=total, page=filters.page, per_page=filters.per_page,
                       facets=label_facets(raw_facets, locale))


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


def _sql_page(filters: ProductFilters, day: date) -> tuple[list[int], int]:
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


def _sql_facets(filters: ProductFilters, day: date) -> dict[str, dict[str, int]]:
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


def label_facets(raw: dict[str, dict[str, int]], locale: str) -> dict[str, list[FacetValue]]:
    """Readable labels and a stable order. Star counts become "at least N stars" counts."""
    if not raw:
        return {}
    result: dict[str, list[FacetValue]] = {}
    exact = {int(k): v for k, v in raw.get("stars", {}).items()}
    result["stars"] = [FacetValue(str(n), f"{n}★+", sum(c for s, c in exact.items() if s >= n)) for n in (3, 4, 5)]
    groups = raw.get("group", {})
    result["group"] = [FacetValue(code, group.label(locale), groups.get(code, 0)) for code, group in GROUPS.items()]
    localities = raw.get("locality", {})
    result["locality"] = sorted((FacetValue(k, FORMER_DISTRICTS.get(k, k), c) for k, c in localities.items()),
                                key=lambda f: (-f.count, f.label))
    producers = raw.get("producer", {})
    top = sorted(producers.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_PRODUCER_FACETS]
    names = {slug: name for slug, name in db.session.execute(
        sa.select(Producer.slug, Producer.name).where(Producer.slug.in_([k for k, _ in top])))} if top else {}
    result["producer"] = [FacetValue(k, names.get(k, k), c) for k, c in top]
    prices = raw.get("price", {})
    result["price"] = [FacetValue(key, _price_label(low, high), prices.get(key, 0)) for key, low, high in PRICE_BUCKETS]
    return result


def _price_label(low: int, high: int | None) -> str:
    from shop.core.money import format_vnd

    return f"≥ {format_vnd(low)}" if high is None else f"{format_vnd(low)} – {format_vnd(high)}"
