"""JSON API: a point's stock (public availability bands; exact quantities by lot for its managers and officers)."""
from flask import Blueprint

bp = Blueprint("inventory_api", __name__)
