"""JSON API: a point's stock. Anyone gets the availability band of each product; the point's own managers,
trade officers and admins (by session cookie or API token) get the exact quantities by lot.

`detail` picks the view: absent → the most the caller may see; `bands` → bands for everyone; `exact` → 401
for an anonymous caller (a revoked or tampered token is anonymous), 403 for a signed-in user who may not
read that point (e.g. the manager of another point). Responses vary with the caller, so none is cacheable
by a shared cache.
"""
from flask import Blueprint, abort, current_app, request
from flask_babel import gettext as _
from flask_login import current_user

from shop import api
from shop.core.clock import today
from shop.inventory.availability import availability_at_point, count_products_at_point, lots_at_point
from shop.sales_points.access import can_read
from shop.sales_points.queries import get_by_code
from shop.web import json_error

bp = Blueprint("inventory_api", __name__)

DETAILS = ("bands", "exact")


@bp.after_request
def private_responses(response):
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.update(("Cookie", "Authorization"))
    return response


@bp.route("/points/<code>/stock")
def point_stock(code: str):
    problems = api.check_lang()
    page, per_page = api.page_parameters(problems)
    detail = request.args.get("detail") or None
    if detail is not None and detail not in DETAILS:
        problems.add("detail", _("Unknown value “%(value)s” for detail: use bands or exact.", value=detail[:40]))
    if problems:
        return api.parameter_error(problems)
    point = get_by_code(code)
    if point is None or not point.is_open:
        abort(404)
    allowed = can_read(current_user, point)
    if detail == "exact" and not allowed:
        return _refuse_exact()
    exact = allowed and detail != "bands"

    day = today()
    rows = availability_at_point(point.id, day, current_app.config["FEW_LEFT_THRESHOLD"], limit=per_page,
                                 offset=(page - 1) * per_page)
    if exact:
        lots = lots_at_point(point.id, [row.product.id for row in rows], day)
        items = [api.stock_exact_json(row, lots[row.product.id]) for row in rows]
    else:
        items = [api.stock_band_json(row) for row in rows]
    body = api.paginated_json(items, page=page, per_page=per_page, total=count_products_at_point(point.id, day))
    return {"point": {"code": point.code, "name": point.name}, "detail": "exact" if exact else "bands", **body}


def _refuse_exact():
    if not current_user.is_authenticated:
        response, status = json_error(401, "unauthorized",
                                      _("Exact quantities need a signed-in account or an API token."))
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response, status
    return json_error(403, "forbidden", _("Only the managers of this point, trade officers and administrators "
                                          "may see its exact quantities."))
