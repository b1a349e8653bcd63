"""JSON API: the open sales points."""
from flask import Blueprint

bp = Blueprint("sales_points_api", __name__)
