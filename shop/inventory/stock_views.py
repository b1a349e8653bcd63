"""Stock pages of a sales point for its managers: stock, receipts, adjustments, counts, ledger, transfers.
Every route sits behind point_area_guard: the point in the URL is checked before the view runs. Anything else a
URL or a form names by id or number (a stock level, a transfer) is looked up within that point: another point's
is a 404."""
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from shop.catalog.models import Product
from shop.core.clock import VN_TZ, format_date, today
from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory import queries, services
from shop.inventory.forms import (
    AdjustmentForm,
    CountForm,
    LedgerFilterForm,
    ReceiptForm,
    TransferActionForm,
    TransferForm,
    count_field_name,
    receive_field_names,
    receive_form_for,
)
from shop.inventory.models import AdjustmentReason, MovementKind, Transfer, TransferStatus
from shop.sales_points.access import can_change, point_area_guard, point_from_url, points_in_scope
from shop.web import form_status, id_arg, page_arg, submit_creating_form, submit_form

bp = Blueprint("stock_point_manage", __name__)
bp.before_request(point_area_guard)

# The tabs of a point's back office: (endpoint, label). A tab shows only once its view exists.
POINT_TABS = [
    ("dashboard_point_manage.dashboard", _l("Dashboard")),
    ("counter_point_manage.counter", _l("Counter")),
    ("counter_point_manage.sales", _l("Sales")),
    ("orders_point_manage.orders", _l("Orders")),
    ("stock_point_manage.stock", _l("Stock")),
    ("stock_point_manage.receipt_new", _l("Receive goods")),
    ("stock_point_manage.transfers", _l("Transfers")),
    ("stock_point_manage.count", _l("Stock count")),
    ("stock_point_manage.movements", _l("Ledger")),
    ("dashboard_point_manage.alerts", _l("Alerts")),
    ("recalls_point_manage.pull_list", _l("Recalls")),
    ("point_audits.audits", _l("Audits")),
    ("files_point_manage.files", _l("Import and export")),
]
STOCK_PER_PAGE = 50  # lots per page of the stock table: keeps the page well under 100 ms at any size
LEDGER_PER_PAGE = 50


@bp.app_context_processor
def point_tabs():
    def tabs():
        return [(endpoint, label) for endpoint, label in POINT_TABS if endpoint in current_app.view_functions]

    return {"point_tabs": tabs}


@bp.context_processor
def labels():
    return {"kind_labels": MovementKind.labels(), "reason_labels": AdjustmentReason.labels(),
            "transfer_status_labels": TransferStatus.labels()}


def _may_change(point) -> bool:
    return can_change(current_user, point)


def _level_or_404(point, level_id: int):
    level = queries.level_at_point(point, level_id)
    if level is None:
        abort(404)
    return level


def _transfer_or_404(point, number: str, side: str | None = None):
    transfer = queries.transfer_at_point(point, number, side)
    if transfer is None:
        abort(404)
    return transfer


# ------------------------------------------------------------------------------------------------ pages

@bp.route("")
def point_list():
    return render_template("inventory/manage/point_list.html", points=points_in_scope(current_user))


# ------------------------------------------------------------------------------------------------------ stock

@bp.route("/<code>/stock")
def stock(code: str):
    point = point_from_url(code)
    q = (request.args.get("q") or "").strip()[:100]
    show_empty = request.args.get("empty") == "1"
    page = queries.stock_page(point, today(), current_app.config["EXPIRY_ALERT_DAYS"], page_arg(), STOCK_PER_PAGE,
                      q=q, with_empty=show_empty)
    return render_template("inventory/manage/stock.html", point=point, page=page, q=q, show_empty=show_empty,
                           groups=queries.group_by_product(page.items),
                           costs=queries.receipt_unit_costs(point, page.items),
                           in_transit=queries.in_transit_for(point), may_change=_may_change(point))


# --------------------------------------------------------------------------------------------------- receipts

@bp.route("/<code>/receipts")
def receipts(code: str):
    point = point_from_url(code)
    page = queries.ledger_page(point, page_arg(), LEDGER_PER_PAGE, kinds=[MovementKind.RECEIPT])
    return render_template("inventory/manage/receipts.html", point=point, page=page, may_change=_may_change(point))


def _product_or_refuse(product_id: int | None) -> Product:
    product = db.session.get(Product, product_id) if product_id else None
    if product is None:
        raise DomainError(_("Choose a product."), field="product", code="product_required")
    return product


@bp.route("/<code>/receipts/new", methods=["GET", "POST"])
def receipt_new(code: str):
    point = point_from_url(code)
    form = ReceiptForm(products=queries.qualified_product_choices(today()))

    def receive():
        return services.receive_stock(point, _product_or_refuse(form.product.data), lot_code=form.lot_code.data,
                                      production_date=form.production_date.data, expiry_date=form.expiry_date.data,
                                      quantity=form.quantity.data, unit_cost_vnd=form.unit_cost_vnd.data,
                                      delivery_note=form.delivery_note.data, actor=current_user)

    done = submit_creating_form(form, "receipt", receive, lambda _movement: url_for(".stock", code=point.code),
                                success=_("The goods are received and on the shelf."), default_field="product")
    if done:
        return done
    return render_template("inventory/manage/receipt_form.html", point=point, form=form), form_status()


# ------------------------------------------------------------------------------------------------ adjustments

def _level_choices(lines: list[queries.StockLine], *, available: bool = False) -> list[tuple[int, str]]:
    """(level id, "product · lot … (expires …) · N on hand|available") for a <select>; the patterns are
    translated once, not per line (a point may hold thousands of lots)."""
    pattern = (_("%(product)s · lot %(lot)s (%(expiry)s) · %(n)s available") if available
               else _("%(product)s · lot %(lot)s (%(expiry)s) · %(n)s on hand"))
    expires, no_expiry = _("expires %(day)s"), _("no expiry date")
    return [(line.level_id, pattern % {
        "product": line.product_name, "lot": line.lot_code,
        "expiry": expires % {"day": format_date(line.expiry_date)} if line.expiry_date else no_expiry,
        "n": line.available if available else line.on_hand}) for line in lines]


@bp.route("/<code>/adjustments/new", methods=["GET", "POST"])
def adjustment_new(code: str):
    point = point_from_url(code)
    lines = queries.stock_lines(point, today(), current_app.config["EXPIRY_ALERT_DAYS"], with_empty=True)
    form = AdjustmentForm(levels=_level_choices(lines))
    chosen = form.level.data if request.method == "POST" else id_arg("level")
    level = _level_or_404(point, chosen) if chosen else None  # another point's level: 404
    if level is not None:
        form.level.data = level.id

    def adjust():
        return services.adjust_stock(level, delta=form.delta.data, reason=form.reason.data, note=form.note.data,
                                     actor=current_user)

    done = submit_creating_form(form, "adjustment", adjust, lambda _movement: url_for(".stock", code=point.code),
                                success=_("The adjustment is recorded."), default_field="delta")
    if done:
        return done
    return render_template("inventory/manage/adjustment_form.html", point=point, form=form), form_status()


# ------------------------------------------------------------------------------------------------------ count

@bp.route("/<code>/count", methods=["GET", "POST"])
def count(code: str):
    point = point_from_url(code)
    q = (request.args.get("q") or "").strip()[:100]
    lines = queries.stock_lines(point, today(), current_app.config["EXPIRY_ALERT_DAYS"], q=q, with_empty=True)
    form = CountForm(level_ids=[line.level_id for line in lines])
    if request.method == "GET":
        form.sheet.data = ",".join(f"{line.level_id}:{line.on_hand}" for line in lines)

    def record():
        counted = form.counted()
        if not counted:
            raise DomainError(_("Fill in the counted quantity of at least one line."), field="counts",
                              code="empty_count")
        by_level = {line.level_id: line for line in lines}
        printed = form.printed_quantities()
        key = {level_id: (by_level[level_id].product_id, by_level[level_id].lot_id) for level_id in counted}
        return services.record_count(
            point, {key[i]: n for i, n in counted.items()}, actor=current_user, note=form.note.data,
            counted_against={key[i]: printed.get(i) for i in counted})

    done = submit_creating_form(
        form, "stock_count", record,
        lambda recorded: url_for(".count", code=point.code, recorded=",".join(str(m.id) for m in recorded) or None),
        success=_("The count is recorded."), default_field="counts")
    if done:
        return done
    return render_template("inventory/manage/count.html", point=point, form=form, lines=lines, q=q,
                           field_name=count_field_name, recorded=_recorded_differences(point),
                           # translated once, formatted per line: a sheet may have thousands of lines
                           count_label=_("Counted quantity of %(product)s, lot %(lot)s"),
                           may_change=_may_change(point)), form_status()


def _recorded_differences(point) -> list:
    """The rows a count just recorded (ids from the redirect after it; only this point's rows are shown)."""
    ids = [int(part) for part in (request.args.get("recorded") or "").split(",") if part.isdigit()][:5000]
    return queries.ledger_page(point, 1, len(ids), ids=ids).items if ids else []


# ----------------------------------------------------------------------------------------------------- ledger

def _day_start(day: date) -> datetime:
    """Midnight in Việt Nam, in UTC: the ledger stores UTC times, managers think in local days."""
    return datetime.combine(day, time.min, tzinfo=VN_TZ).astimezone(UTC)


@bp.route("/<code>/movements")
def movements(code: str):
    point = point_from_url(code)
    filters = LedgerFilterForm(formdata=request.args)
    filters.validate()
    kind = next((kind for kind in MovementKind if kind.value == filters.kind.data), None)  # unknown: all kinds
    date_from = filters.date_from.data if not filters.date_from.errors else None
    date_to = filters.date_to.data if not filters.date_to.errors else None
    page = queries.ledger_page(point, page_arg(), LEDGER_PER_PAGE, kinds=[kind] if kind else None,
                       text=(filters.q.data or "").strip()[:100] or None,
                       since=_day_start(date_from) if date_from else None,
                       until=_day_start(date_to + timedelta(days=1)) if date_to else None)
    return render_template("inventory/manage/movements.html", point=point, page=page, filters=filters)


# -------------------------------------------------------------------------------------------------- transfers

@bp.route("/<code>/transfers")
def transfers(code: str):
    point = point_from_url(code)
    return render_template("inventory/manage/transfers.html", point=point,
                           page=queries.transfers_page(point, page_arg(), LEDGER_PER_PAGE),
                           in_transit=queries.in_transit_for(point), may_change=_may_change(point))


@bp.route("/<code>/transfers/new", methods=["GET", "POST"])
def transfer_new(code: str):
    point = point_from_url(code)
    lines = [line for line in queries.stock_lines(point, today(), current_app.config["EXPIRY_ALERT_DAYS"])
             if line.available]
    form = TransferForm(destinations=[(p.id, f"{p.code} · {p.name}") for p in queries.destinations_for(point)],
                        levels=_level_choices(lines, available=True))

    def create():
        destination = _destination_or_refuse(point, form.to_point.data)
        levels = [(_level_or_404(point, level_id), quantity) for level_id, quantity in form.filled_lines()]
        return services.create_transfer(point, destination, [(level.product, level.lot, quantity)
                                                             for level, quantity in levels],
                                        actor=current_user, note=form.note.data)

    if form.is_submitted():
        for level_id, _quantity in form.filled_lines():
            _level_or_404(point, level_id)  # a level of another point in the form: 404, before anything runs
    done = submit_creating_form(
        form, "transfer", create,
        lambda transfer: url_for(".transfer_detail", code=point.code, number=transfer.number),
        success=_("The transfer is saved as a draft."), default_field="lines")
    if done:
        return done
    return render_template("inventory/manage/transfer_form.html", point=point, form=form), form_status()


def _destination_or_refuse(point, point_id: int | None):
    destination = next((p for p in queries.destinations_for(point) if p.id == point_id), None)
    if destination is None:
        raise DomainError(_("Choose a destination among the open sales points."), field="to_point",
                          code="to_point_required")
    return destination


def _render_transfer(point, transfer: Transfer, *, action_form=None, receive_form=None, status: int = 200):
    may_change = _may_change(point)
    outgoing = transfer.from_point_id == point.id
    if receive_form is None and not outgoing and transfer.status == "shipped":
        receive_form = receive_form_for(transfer.lines, formdata=None)
    return render_template("inventory/manage/transfer_detail.html", point=point, transfer=transfer,
                           outgoing=outgoing, may_change=may_change, receive_form=receive_form,
                           action_form=action_form or TransferActionForm(formdata=None),
                           field_names=receive_field_names), status


@bp.route("/<code>/transfers/<number>")
def transfer_detail(code: str, number: str):
    point = point_from_url(code)
    return _render_transfer(point, _transfer_or_404(point, number))


def _origin_action(code: str, number: str, action, success: str):
    """Ship or cancel: only the origin's side of the transfer may."""
    point = point_from_url(code)
    transfer = _transfer_or_404(point, number, side="origin")
    form = TransferActionForm()
    if submit_form(form, lambda: action(transfer, actor=current_user), success=success, default_field="status"):
        return redirect(url_for(".transfer_detail", code=point.code, number=transfer.number))
    return _render_transfer(point, transfer, action_form=form, status=400)


@bp.route("/<code>/transfers/<number>/ship", methods=["POST"])
def transfer_ship(code: str, number: str):
    return _origin_action(code, number, services.ship_transfer, _("The transfer is shipped: the goods are in transit."))


@bp.route("/<code>/transfers/<number>/cancel", methods=["POST"])
def transfer_cancel(code: str, number: str):
    return _origin_action(code, number, services.cancel_transfer, _("The transfer is cancelled."))


@bp.route("/<code>/transfers/<number>/receive", methods=["POST"])
def transfer_receive(code: str, number: str):
    point = point_from_url(code)
    transfer = _transfer_or_404(point, number, side="destination")
    form = receive_form_for(transfer.lines)
    if submit_form(form, lambda: services.receive_transfer(
            transfer, form.decisions(line.id for line in transfer.lines), actor=current_user),
            success=_("The transfer is received."), default_field="status"):
        return redirect(url_for(".transfer_detail", code=point.code, number=transfer.number))
    return _render_transfer(point, transfer, receive_form=form, status=400)
