"""Catalogue endpoints of the JSON API: the product listing (same filters as /products) and one product."""
from flask import Blueprint, abort, current_app, request
from flask_babel import get_locale

from shop import api
from shop.core.clock import today
from shop.search.browse import browse_products, product_view
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
    day = today()
    view = product_view(slug, day)
    if view is None:
        abort(404)
    return api.product_detail_json(view.product, view.certificate, view.last_certificate, view.points, day)
