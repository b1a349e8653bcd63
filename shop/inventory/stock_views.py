"""Stock pages of a sales point for its managers: stock, receipts, adjustments, counts, ledger, transfers.
Every route sits behind point_area_guard: the point in the URL is checked before the view runs."""
from flask import Blueprint, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shop.sales_points.access import point_area_guard, points_in_scope

bp = Blueprint("stock_point_manage", __name__)
bp.before_request(point_area_guard)

# The tabs of a point's back office: (endpoint, label). A tab shows only once its view exists.
POINT_TABS = [
    ("dashboard_point_manage.dashboard", _l("Dashboard")),
    ("counter_point_manage.counter", _l("Counter")),
    ("counter_point_manage.sales", _l("Sales")),
    ("stock_point_manage.stock", _l("Stock")),
    ("stock_point_manage.receipt_new", _l("Receive goods")),
    ("stock_point_manage.transfers", _l("Transfers")),
    ("stock_point_manage.count", _l("Stock count")),
    ("stock_point_manage.movements", _l("Ledger")),
    ("dashboard_point_manage.alerts", _l("Alerts")),
    ("files_point_manage.files", _l("Import and export")),
]


@bp.app_context_processor
def point_tabs():
    def tabs():
        return [(endpoint, label) for endpoint, label in POINT_TABS if endpoint in current_app.view_functions]

    return {"point_tabs": tabs}


@bp.route("")
def point_list():
    return render_template("inventory/manage/point_list.html", points=points_in_scope(current_user))
