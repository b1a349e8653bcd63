"""Storefront pages of the sales points: the list with its map, and one point with what is available there."""
from dataclasses import dataclass
from math import ceil

from flask import Blueprint, abort, current_app, render_template

from shop.core.clock import today
from shop.inventory.availability import availability_at_point, count_products_at_point
from shop.sales_points import queries
from shop.web import cached_page, live_renderer, page_arg, render_block

bp = Blueprint("sales_points", __name__)

PRODUCTS_PER_PAGE = 48


@dataclass(frozen=True)
class StockPage:
    items: list
    page: int
    pages: int
    total: int


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
    return render_template("sales_points/point_detail.html", point=point, page=page_arg())


@live_renderer("point_availability")
def point_availability(point_id: int, page: int) -> str:
    """The products of the point with their stock bands: rendered for every response (stock changes with each
    sale; the rest of the page may come from the page cache)."""
    day = today()
    total = count_products_at_point(point_id, day)
    pages = max(1, ceil(total / PRODUCTS_PER_PAGE))
    page = min(page, pages)
    items = availability_at_point(point_id, day, current_app.config["FEW_LEFT_THRESHOLD"],
                                  limit=PRODUCTS_PER_PAGE, offset=(page - 1) * PRODUCTS_PER_PAGE)
    return render_block("sales_points/point_detail.html", "availability",
                        stock=StockPage(items=items, page=page, pages=pages, total=total))
