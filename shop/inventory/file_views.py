"""Import and export of a point's stock and receipts as CSV and XLSX."""
from flask import Blueprint

from shop.sales_points.access import point_area_guard

bp = Blueprint("files_point_manage", __name__)
bp.before_request(point_area_guard)
