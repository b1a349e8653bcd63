"""A sales point's dashboard: stock value, sales of the last 30 days, top products, alerts."""
from flask import Blueprint

from shop.sales_points.access import point_area_guard

bp = Blueprint("dashboard_point_manage", __name__)
bp.before_request(point_area_guard)
