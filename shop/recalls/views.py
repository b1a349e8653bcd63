"""Recalls for the trade department, producers and point managers. Three blueprints, one per audience, each with
its own guard and URL prefix (set here, so registering needs no prefix):
- `bp` ("recalls_department", /department/recalls): the recalls, a new recall, a recall with its buyers report;
- `producer_bp` ("recalls_producer_manage", /manage/producer): a producer recalls one of its own lots;
- `point_bp` ("recalls_point_manage", /manage/points): a point's printable pull list."""
import io

from flask import Blueprint, abort, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard
from shop.core.clock import format_datetime
from shop.core.errors import DomainError
from shop.inventory.spreadsheets import write_csv
from shop.orders.emails import template_labels
from shop.recalls import queries, services
from shop.recalls.forms import DepartmentRecallForm, RecallForm
from shop.sales_points.access import point_area_guard, point_from_url
from shop.traceability.access import own_lot, producer_portal_guard
from shop.web import form_status, submit_form

bp = Blueprint("recalls_department", __name__, url_prefix="/department/recalls")
bp.before_request(area_guard(Role.TRADE_OFFICER))

producer_bp = Blueprint("recalls_producer_manage", __name__, url_prefix="/manage/producer")
producer_bp.before_request(producer_portal_guard)

point_bp = Blueprint("recalls_point_manage", __name__, url_prefix="/manage/points")
point_bp.before_request(point_area_guard)


def _labels():
    return {"status_labels": template_labels()["status_labels"]}


for blueprint in (bp, producer_bp, point_bp):
    blueprint.context_processor(_labels)


# ------------------------------------------------------------------------------------------ trade department

@bp.route("")
def recall_list():
    return render_template("recalls/list.html", lots=queries.recalled_lots())


@bp.route("/new", methods=["GET", "POST"])
def recall_new():
    form = DepartmentRecallForm(products=queries.products_with_lots())
    done = []

    def action():
        lot = queries.find_lot(trace_code=form.trace_code.data, product_id=form.product_id.data,
                               lot_code=form.lot_code.data)
        if lot is None:
            field = "trace_code" if (form.trace_code.data or "").strip() else "lot_code"
            raise DomainError(_("No lot matches: check the code."), field=field, code="lot_not_found")
        done.append(services.recall(lot, reason=form.reason.data, actor=current_user))

    if submit_form(form, action, success=_("The lot is recalled: it is off sale everywhere."),
                   default_field="reason"):
        return redirect(url_for(".recall_detail", lot_id=done[0].lot.id))
    return render_template("recalls/new.html", form=form), form_status()


def _recalled_or_404(lot_id: int):
    lot = queries.recalled_lot(lot_id)
    if lot is None:
        abort(404)
    return lot


@bp.route("/<int:lot_id>")
def recall_detail(lot_id: int):
    lot = _recalled_or_404(lot_id)
    return render_template("recalls/detail.html", lot=lot, recaller=queries.recaller(lot),
                           pulled=queries.pulled_by_point(lot), buyers=queries.buyers_of(lot))


BUYER_HEADERS = ["Kênh / Channel", "Số / Number", "Ngày / Date", "Điểm bán / Point", "Khách hàng / Customer",
                 "Email", "Điện thoại / Phone", "Số lượng / Quantity", "Đã giao / Handed over",
                 "Trạng thái / Status", "Cần hoàn tiền (đ) / Refund due (VND)"]


@bp.route("/<int:lot_id>/buyers.csv")
def buyers_csv(lot_id: int):
    lot = _recalled_or_404(lot_id)
    buyers = queries.buyers_of(lot)
    rows = [["online", row.number, format_datetime(row.placed_at), row.point.code, row.name, row.email, row.phone,
             row.quantity, row.handed_over, row.status.value, row.refund_due_vnd] for row in buyers.orders]
    rows += [["counter", row.number, format_datetime(row.sold_at), row.point.code, "", "", "",
              row.quantity - row.returned, row.quantity - row.returned, "", ""] for row in buyers.counter]
    content = write_csv(BUYER_HEADERS, rows)  # UTF-8 with a BOM: Excel shows the Vietnamese names
    response = send_file(io.BytesIO(content), mimetype="text/csv", as_attachment=True,
                         download_name=f"recall-{lot.trace_code}-buyers.csv")
    response.headers["Cache-Control"] = "private, no-store"  # customers' contact details
    return response


# ------------------------------------------------------------------------------------------------- producers

@producer_bp.route("/lots/<int:lot_id>/recall", methods=["GET", "POST"])
def producer_recall(lot_id: int):
    lot = own_lot(lot_id)
    form = RecallForm()
    if not lot.is_recalled and submit_form(
            form, lambda: services.recall(lot, reason=form.reason.data, actor=current_user),
            success=_("The lot is recalled: it is off sale everywhere."), default_field="reason"):
        return redirect(url_for(".producer_recall", lot_id=lot.id))
    status = form_status()
    if lot.is_recalled and status == 400 and not form.errors:
        form.reason.errors = [_("This lot is already recalled.")]
    return render_template("recalls/producer_recall.html", lot=lot, form=form,
                           pulled=queries.pulled_by_point(lot) if lot.is_recalled else []), status


# ------------------------------------------------------------------------------------------ a point's pulls

@point_bp.route("/<code>/recalls")
def pull_list(code: str):
    point = point_from_url(code)
    return render_template("recalls/pull_list.html", point=point, rows=queries.pull_list(point))
