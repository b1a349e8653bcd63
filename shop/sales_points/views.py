"""Storefront pages of the sales points."""
from flask import Blueprint, abort, render_template

from shop.catalog.queries import products_by_ids
from shop.certification.queries import current_certificates
from shop.core.clock import today
from shop.sales_points import queries
from shop.web import cached_page

bp = Blueprint("sales_points", __name__)


@bp.route("")
@cached_page
def point_list():
    return render_template("sales_points/point_list.html", points=queries.list_open_points())


@bp.route("/<code>")
@cached_page
def point_detail(code: str):
    point = queries.get_by_code(code)
    if point is None or not point.is_open:
        abort(404)
    products = [p for p in products_by_ids(sorted(queries.product_ids_at(point.id))) if p.is_published]
    certificates = current_certificates([p.id for p in products], today())
    return render_template("sales_points/point_detail.html", point=point,
                           products=[p for p in products if p.id in certificates], certificates=certificates)
