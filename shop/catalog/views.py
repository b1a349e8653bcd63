"""Storefront pages: home, product listing with filters, product page."""
from flask import Blueprint, abort, current_app, flash, render_template, request
from flask_babel import get_locale

from shop.catalog.groups import GROUPS, SUBGROUPS
from shop.certification.queries import current_basis
from shop.core.clock import today
from shop.inventory.availability import availability_of_product
from shop.producers.queries import list_producers
from shop.sales_points.queries import list_open_points
from shop.search.browse import browse_products, product_view
from shop.search.filters import ProductFilters, parse_filters
from shop.web import cached_page, live_renderer, render_block

bp = Blueprint("catalog", __name__)


@bp.route("/")
@cached_page
def home():
    day, locale = today(), str(get_locale())
    featured = browse_products(ProductFilters(sort="stars", per_page=8), day, locale)
    return render_template("catalog/home.html", featured=featured, groups=featured.facets.get("group", []),
                           producers=list_producers(per_page=12)[0], points=list_open_points(limit=12))


@bp.route("/products")
@cached_page
def product_list():
    filters, problems = parse_filters(request.args, default_per_page=current_app.config["PER_PAGE"],
                                      max_per_page=current_app.config["MAX_PER_PAGE"])
    for _parameter, message in problems.messages:
        flash(message, "warning")
    page = browse_products(filters, today(), str(get_locale()))
    return render_template("catalog/product_list.html", page=page, filters=filters)


@bp.route("/products/<slug>")
@cached_page
def product_detail(slug: str):
    day = today()
    view = product_view(slug, day)
    if view is None:
        abort(404)
    product = view.product
    # Points sell products with a certificate or another qualifying basis (P-02…P-04).
    sold_at_points = view.certificate is not None or current_basis(product.id, day) is not None
    return render_template(
        "catalog/product_detail.html", product=product, certificate=view.certificate,
        last_certificate=view.last_certificate, day=day, sold_at_points=sold_at_points,
        group=GROUPS.get(product.group_code), subgroup=SUBGROUPS.get(product.subgroup_code or ""))


@live_renderer("product_availability")
def product_availability(product_id: int) -> str:
    """The "where to buy" list with stock bands: rendered for every response, as stock changes by the minute."""
    rows = availability_of_product(product_id, today(), current_app.config["FEW_LEFT_THRESHOLD"])
    return render_block("catalog/product_detail.html", "availability", availability=rows)
