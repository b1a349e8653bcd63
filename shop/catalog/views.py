"""Storefront pages: home, product listing with filters, product page."""
from flask import Blueprint, abort, current_app, flash, render_template, request
from flask_babel import get_locale

from shop.catalog.groups import GROUPS, SUBGROUPS
from shop.core.clock import today
from shop.producers.queries import list_producers
from shop.sales_points.queries import list_open_points
from shop.search.browse import browse_products, product_view
from shop.search.filters import ProductFilters, parse_filters
from shop.web import cached_page

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
    return render_template(
        "catalog/product_detail.html", product=product, certificate=view.certificate,
        last_certificate=view.last_certificate, day=day, points=view.points,
        group=GROUPS.get(product.group_code), subgroup=SUBGROUPS.get(product.subgroup_code or ""))
