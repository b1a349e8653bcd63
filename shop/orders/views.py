"""The customer's order pages."""
from flask import Blueprint

bp = Blueprint("orders", __name__)
