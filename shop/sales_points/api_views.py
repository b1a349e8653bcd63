"""JSON API: the open sales points (a closed, suspended or planned point is not found)."""
from flask import Blueprint, abort

from shop import api
from shop.sales_points import queries

bp = Blueprint("sales_points_api", __name__)
bp.after_request(api.public_cache)


@bp.route("/points")
def point_list():
    problems = api.check_lang()
    page, per_page = api.page_parameters(problems)
    if problems:
        return api.parameter_error(problems)
    # The open points are a few hundred at most (the registry of one province): sliced here.
    points = queries.list_open_points()
    shown = points[(page - 1) * per_page: page * per_page]
    return api.paginated_json([api.point_summary_json(point) for point in shown], page=page, per_page=per_page,
                              total=len(points))


@bp.route("/points/<code>")
def point_detail(code: str):
    if problems := api.check_lang():
        return api.parameter_error(problems)
    point = queries.get_by_code(code)
    if point is None or not point.is_open:
        abort(404)
    return api.point_detail_json(point)
