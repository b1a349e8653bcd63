"""The product listing: certified, published products with filters, sorting, pages and facet counts; and
what one product's page shows.

The in-memory snapshot (search.snapshot) filters, counts and sorts the listed products; with a text query,
only those the index found (`search.index.rank_products`), ranked by it. SQL then loads only the page's
products and their current certificates.
"""
from dataclasses import dataclass, field
from datetime import date
from math import ceil

from shop.catalog.groups import GROUPS
from shop.catalog.models import Product
from shop.catalog.queries import get_by_slug, products_by_ids
from shop.certification.models import Certificate
from shop.certification.queries import certificate_history, current_certificate, current_certificates
from shop.core.admin_units import FORMER_DISTRICTS
from shop.sales_points.queries import open_points_carrying
from shop.search import snapshot
from shop.search.filters import PRICE_BUCKETS, ProductFilters
from shop.search.snapshot import MAX_PRODUCER_FACETS


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
    current = snapshot.get_snapshot(day)
    ranking = None
    if filters.q:
        from shop.search import index

        ranking = index.rank_products(filters.q, day)
    selection = snapshot.select(current, filters, with_facets=with_facets, ranking=ranking)
    products = products_by_ids(selection.ids)
    certificates = current_certificates([p.id for p in products], day)
    # A product whose certificate lapsed since it was indexed is dropped here: no badge without a certificate.
    items = [ProductCard(p, certificates[p.id]) for p in products if p.id in certificates]
    return ProductPage(items=items, total=selection.total, page=filters.page, per_page=filters.per_page,
                       facets=label_facets(selection.facets, locale, current.producer_names))


def label_facets(raw: dict[str, dict[str, int]], locale: str, producer_names: dict[str, str]
                 ) -> dict[str, list[FacetValue]]:
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
    producers = sorted(raw.get("producer", {}).items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_PRODUCER_FACETS]
    result["producer"] = [FacetValue(k, producer_names.get(k, k), c) for k, c in producers]
    prices = raw.get("price", {})
    result["price"] = [FacetValue(key, _price_label(low, high), prices.get(key, 0)) for key, low, high in PRICE_BUCKETS]
    return result


def _price_label(low: int, high: int | None) -> str:
    from shop.core.money import format_vnd

    return f"≥ {format_vnd(low)}" if high is None else f"{format_vnd(low)} – {format_vnd(high)}"


@dataclass
class ProductView:
    """What a product's page (HTML or JSON) shows: the product, the certificate that makes it certified today
    (or, for a lapsed product, its last certificate, to say why) and the open points that carry it."""

    product: Product
    certificate: Certificate | None
    last_certificate: Certificate | None
    points: list


def product_view(slug: str, day: date) -> ProductView | None:
    """None for an unknown or unpublished product. A lapsed product stays readable (old labels get
    scanned) but is not offered at the sales points."""
    product = get_by_slug(slug)
    if product is None or not product.is_published:
        return None
    certificate = current_certificate(product.id, day)
    history = certificate_history(product.id) if certificate is None else []
    return ProductView(product=product, certificate=certificate, last_certificate=history[0] if history else None,
                       points=open_points_carrying(product.id) if certificate else [])
