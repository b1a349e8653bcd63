from flask import Blueprint

bp = Blueprint("catalog_api", __name__)
