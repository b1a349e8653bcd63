"""Shared pieces of the JSON API (/api/v1). (Being written: see the API work.)"""
from flask import Blueprint

bp = Blueprint("api", __name__)
