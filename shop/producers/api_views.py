from flask import Blueprint

bp = Blueprint("producers_api", __name__)
