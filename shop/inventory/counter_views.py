"""The counter of a sales point: fast sales, printable receipts, customer returns, the daily cash summary."""
from flask import Blueprint

from shop.sales_points.access import point_area_guard

bp = Blueprint("counter_point_manage", __name__)
bp.before_request(point_area_guard)
