"""Orders to fulfil at a sales point."""
from flask import Blueprint

from shop.sales_points.access import point_area_guard

bp = Blueprint("orders_point_manage", __name__)
bp.before_request(point_area_guard)
