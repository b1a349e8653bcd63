"""The endpoints of the catalogue, the producers and the sales points. Each declares its query schema (webargs
validates the request with it) and its response schema (which serialises the result); both make the OpenAPI
document."""
from dataclasses import dataclass

from flask import abort, current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint

from shop.catalog.models import Product
from shop.catalog.queries import products_of_producer
from shop.certification.models import Certificate
from shop.certification.queries import current_certificates
from shop.core.clock import today
from shop.core.pagination import Page
from shop.inventory.availability import availability_at_point, count_products_at_point, lots_at_point
from shop.producers import queries as producer_queries
from shop.producers.models import Producer
from shop.sales_points import queries as point_queries
from shop.sales_points.access import can_read
from shop.sales_points.models import SalesPoint
from shop.search.browse import browse_products, product_view
from shop.web import json_error

from .arguments import PageQuery, ProductPageQuery, QueryParser, QuerySchema, StockPageQuery, product_filters
from .schemas import (
    PointStockBandsSchema,
    PointStockExactSchema,
    ProducerSchema,
    ProductDetailSchema,
    ProductListSchema,
    SalesPointDetailSchema,
    SalesPointListSchema,
)

CACHE_SECONDS = 60


class ApiBlueprint(Blueprint):
    """flask-smorest's blueprint with the API's own refusal of bad query parameters."""

    ARGUMENTS_PARSER = QueryParser()

    def query(self, schema):
        return self.arguments(schema, location="query")


def public_cache(response):
    """after_request of the public blueprints: successful reads may be cached for a minute."""
    if response.status_code == 200:
        response.cache_control.public = True
        response.cache_control.max_age = CACHE_SECONDS
    return response


catalog = ApiBlueprint("catalog_api", __name__, description="Certified products.")
producers = ApiBlueprint("producers_api", __name__, description="Producers and their certified products.")
points = ApiBlueprint("sales_points_api", __name__, description="Open sales points.")
stock = ApiBlueprint("inventory_api", __name__, description="What is available at an open point.")
for public in (catalog, producers, points):
    public.after_request(public_cache)


@stock.after_request
def private_responses(response):
    """A point's stock varies with the caller: no shared cache may keep it."""
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.update(("Cookie", "Authorization"))
    return response


@catalog.route("/products")
@catalog.query(ProductPageQuery)
@catalog.response(200, ProductListSchema, description="A page of products.")
def product_list(query: dict):
    """Certified products, filtered, sorted and paginated, with facet counts"""
    return browse_products(product_filters(query), today(), str(get_locale()))


@catalog.route("/products/<slug>")
@catalog.query(QuerySchema)
@catalog.response(200, ProductDetailSchema, description="The product.")
@catalog.alt_response(404, response="NOT_FOUND")
def product_detail(query: dict, slug: str):
    """One published product, also when its certification has lapsed"""
    view = product_view(slug, today())
    if view is None:
        abort(404)
    return view


@dataclass
class ProducerProfile:
    producer: Producer
    products: list[tuple[Product, Certificate]]


@producers.route("/producers/<slug>")
@producers.query(QuerySchema)
@producers.response(200, ProducerSchema, description="The producer.")
@producers.alt_response(404, response="NOT_FOUND")
def producer_detail(query: dict, slug: str):
    """A producer's profile and its certified products"""
    producer = producer_queries.get_by_slug(slug)
    if producer is None:
        abort(404)
    products = products_of_producer(producer.id)
    certificates = current_certificates([p.id for p in products], today())
    return ProducerProfile(producer, [(p, certificates[p.id]) for p in products if p.id in certificates])


@points.route("/points")
@points.query(PageQuery)
@points.response(200, SalesPointListSchema, description="A page of points.")
def point_list(query: dict):
    """Open sales points, the provincial centre first"""
    page, per_page = query["page"], query["per_page"]
    # The open points are a few hundred at most (the registry of one province): sliced here.
    open_points = point_queries.list_open_points()
    return Page(open_points[(page - 1) * per_page: page * per_page], len(open_points), page, per_page)


def open_point(code: str):
    point = point_queries.get_by_code(code)
    if point is None or not point.is_open:
        abort(404)
    return point


@points.route("/points/<code>")
@points.query(QuerySchema)
@points.response(200, SalesPointDetailSchema, description="The point.")
@points.alt_response(404, response="NOT_FOUND")
def point_detail(query: dict, code: str):
    """One open sales point (planned, suspended and closed points are not found)"""
    return open_point(code)


STOCK_DESCRIPTION = (
    "Everyone gets the availability band of each product the point sells. The point's managers, trade officers "
    "and administrators, authenticated by the session cookie or by an API token (Authorization: Bearer ocop_…), "
    "get the exact quantities by lot. A revoked or unknown token counts as no credentials. Never cached by "
    "shared caches (Cache-Control: private, no-store).")
STOCK_PAGES = {"oneOf": [{"$ref": "#/components/schemas/PointStockBands"},
                         {"$ref": "#/components/schemas/PointStockExact"}]}


@stock.route("/points/<code>/stock")
@stock.query(StockPageQuery)
@stock.response(200, description="The point's products with their bands, or their quantities.")
@stock.alt_response(401, response="UNAUTHORIZED")
@stock.alt_response(403, response="FORBIDDEN")
@stock.alt_response(404, response="NOT_FOUND")
@stock.doc(description=STOCK_DESCRIPTION, security=[{}, {"bearerToken": []}, {"sessionCookie": []}],
           responses={200: {"content": {"application/json": {"schema": STOCK_PAGES}}}})
def point_stock(query: dict, code: str):
    """What is available at an open point"""
    point = open_point(code)
    detail = query.get("detail")
    allowed = can_read(current_user, point)
    if detail == "exact" and not allowed:
        return refuse_exact()
    page, per_page, day = query["page"], query["per_page"], today()
    rows = availability_at_point(point.id, day, current_app.config["FEW_LEFT_THRESHOLD"], limit=per_page,
                                 offset=(page - 1) * per_page)
    total = count_products_at_point(point.id, day)
    if allowed and detail != "bands":
        lots = lots_at_point(point.id, [row.product.id for row in rows], day)
        items = [{"row": row, "lots": lots[row.product.id]} for row in rows]
        return PointStockExactSchema().dump(PointStockPage(items, total, page, per_page, point))
    return PointStockBandsSchema().dump(PointStockPage(rows, total, page, per_page, point))


@dataclass(frozen=True)
class PointStockPage(Page):
    point: SalesPoint


def refuse_exact():
    if not current_user.is_authenticated:
        response, status = json_error(401, "unauthorized",
                                      _("Exact quantities need a signed-in account or an API token."))
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response, status
    return json_error(403, "forbidden", _("Only the managers of this point, trade officers and administrators "
                                          "may see its exact quantities."))
