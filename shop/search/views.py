"""Search endpoints. The search results page itself is the product listing (/products?q=…)."""
from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _

from shop.core.clock import today
from shop.search import index
from shop.search.filters import MAX_QUERY_LENGTH
from shop.web import json_error

bp = Blueprint("search", __name__)

SUGGESTIONS = 8


@bp.get("/suggest")
def suggest():
    """As-you-type product names: {"suggestions": [{"slug", "name", "url"}]}. An empty query gets an empty
    list (the box was just cleared); a query longer than the search box allows is refused."""
    q = " ".join((request.args.get("q") or "").split())
    if len(q) > MAX_QUERY_LENGTH:
        return json_error(400, "invalid_parameter",
                          _("The search text is longer than %(n)s characters.", n=MAX_QUERY_LENGTH), parameter="q")
    found = index.suggest(q, today(), limit=SUGGESTIONS) if q else []
    return jsonify(suggestions=[{"slug": slug, "name": name, "url": url_for("catalog.product_detail", slug=slug)}
                                for slug, name in found])
