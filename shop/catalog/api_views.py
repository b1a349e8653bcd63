"""Catalogue endpoints of the JSON API: the product listing (same filters as /products) and one product."""
from flask import Blueprint, abort, current_app, request
from flask_babel import get_locale

from shop import api
from shop.catalog import queries
from shop.certification.queries import certificate_history, current_certificate
from shop.core.clock import today
from shop.sales_points.queries import open_points_carrying
from shop.search.browse import browse_products
from shop.search.filters import parse_filters

bp = Blueprint("catalog_api", __name__)
bp.after_request(api.public_cache)


@bp.route("/products")
def product_list():
    filters, problems = parse_filters(request.args, default_per_page=current_app.config["PER_PAGE"],
                                      max_per_page=current_app.config["MAX_PER_PAGE"])
    api.check_lang(problems)
    # Pages drop a bad filter with a notice; an API client gets told instead of silently getting other data.
    if problems:
        return api.parameter_error(problems)
    return api.product_page_json(browse_products(filters, today(), str(get_locale())))


@bp.route("/products/<slug>")
def product_detail(slug: str):
    if problems := api.check_lang():
        return api.parameter_error(problems)
    product = queries.get_by_slug(slug)
    if product is None or not product.is_published:
        abort(404)
    day = today()
    certificate = current_certificate(product.id, day)
    # Like the page: a lapsed product stays readable (old labels get scanned) and says why it is not
    # certified; it is not offered at the sales points.
    history = certificate_history(product.id) if certificate is None else []
    points = open_points_carrying(product.id) if certificate else []
    return api.product_detail_json(product, certificate, history[0] if history else None, points, day)
