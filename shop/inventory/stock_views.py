"""Stock pages of a sales point for its managers: stock, receipts, adjustments, counts, ledger, transfers.
Every route sits behind point_area_guard: the point in the URL is checked before the view runs. Anything else a
URL or a form names by id or number (a stock level, a transfer) is looked up within that point: another point's
is a 404."""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from math import ceil

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from shop.catalog.models import Product, ProductStatus
from shop.certification.queries import qualified_products_subquery
from shop.core.clock import VN_TZ, format_date, today
from shop.core.errors import DomainError
from shop.core.text import fold
from shop.extensions import db
from shop.inventory import queries, services
from shop.inventory.forms import (
    KIND_LABELS,
    REASON_LABELS,
    TRANSFER_STATUS_LABELS,
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
from shop.inventory.models import Lot, MovementKind, StockLevel, StockMovement, Transfer, TransferLine
from shop.producers.models import Producer
from shop.sales_points.access import can_change, point_area_guard, point_from_url, points_in_scope
from shop.sales_points.models import PointStatus, PointTier, SalesPoint
from shop.web import form_status, submit_form

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
STOCK_PER_PAGE = 50  # lots per page of the stock table: keeps the page well under 100 ms at any size
LEDGER_PER_PAGE = 50


@bp.app_context_processor
def point_tabs():
    def tabs():
        return [(endpoint, label) for endpoint, label in POINT_TABS if endpoint in current_app.view_functions]

    return {"point_tabs": tabs}


@bp.context_processor
def labels():
    return {"kind_labels": KIND_LABELS, "reason_labels": REASON_LABELS, "transfer_status_labels": TRANSFER_STATUS_LABELS}


def _page_number() -> int:
    return max(1, request.args.get("page", 1, type=int))


def _may_change(point) -> bool:
    return can_change(current_user, point)


# ------------------------------------------------------------------------------------------------ reads
# Lean reads for these pages: plain column tuples (not ORM objects) for the stock lines, so a point with
# thousands of lots renders fast; every lookup by id or number is filtered by the point of the URL.

@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


@dataclass(frozen=True)
class StockLine:
    level_id: int
    product_id: int
    lot_id: int
    product_name: str
    producer_name: str
    gtin: str | None
    lot_code: str
    production_date: date
    expiry_date: date | None
    on_hand: int
    reserved: int
    recalled: bool
    expired: bool
    expiring: bool  # within EXPIRY_ALERT_DAYS
    qualified: bool  # the product has a qualifying basis today

    @property
    def sellable(self) -> bool:
        return self.qualified and not (self.recalled or self.expired)

    @property
    def available(self) -> int:
        """What can be sold or sent: nothing of an expired or recalled lot or of a product without a basis."""
        return self.on_hand - self.reserved if self.sellable else 0


def _levels_of(point, with_empty: bool, *columns) -> sa.Select:
    """The point's levels joined with product, producer and lot, by product name then soonest expiry; empty
    levels (nothing on hand) only `with_empty`."""
    query = (sa.select(*columns)
             .join(Product, Product.id == StockLevel.product_id).join(Producer, Producer.id == Product.producer_id)
             .join(Lot, Lot.id == StockLevel.lot_id).where(StockLevel.point_id == point.id)
             .order_by(Product.name, Product.id, Lot.expiry_date.is_(None), Lot.expiry_date, Lot.id))
    return query if with_empty else query.where(StockLevel.on_hand > 0)


_LINE_COLUMNS = (StockLevel.id, StockLevel.product_id, StockLevel.lot_id, Product.name, Producer.name, Product.gtin,
                 Lot.lot_code, Lot.production_date, Lot.expiry_date, StockLevel.on_hand, StockLevel.reserved,
                 Lot.recalled_at.is_not(None))


def _matching_level_ids(point, q: str, with_empty: bool) -> list[int]:
    """Ids of the levels whose product, producer, GTIN or lot code contains `q`, ignoring case and accents
    (done in Python: neither SQLite nor PostgreSQL fold Vietnamese the same way without an extension)."""
    wanted = fold(q)
    rows = db.session.execute(_levels_of(point, with_empty, StockLevel.id, Product.id, Product.name, Producer.name,
                                         Product.gtin, Lot.lot_code))
    folded: dict[int, str] = {}  # a product has many lots: fold its texts once
    matching = []
    for level_id, product_id, name, producer, gtin, lot_code in rows:
        if product_id not in folded:
            folded[product_id] = fold(f"{name} {producer} {gtin or ''}")
        if wanted in f"{folded[product_id]} {fold(lot_code)}":
            matching.append(level_id)
    return matching


def _to_lines(rows, day: date, alert_days: int) -> list[StockLine]:
    qualified = _qualified_among({row[1] for row in rows}, day)
    soon = day + timedelta(days=alert_days)
    return [StockLine(level_id, product_id, lot_id, name, producer, gtin, lot_code, produced, expiry, on_hand,
                      reserved, recalled=bool(recalled), expired=expiry is not None and expiry < day,
                      expiring=expiry is not None and day <= expiry <= soon, qualified=product_id in qualified)
            for (level_id, product_id, lot_id, name, producer, gtin, lot_code, produced, expiry, on_hand, reserved,
                 recalled) in rows]


def stock_lines(point, day: date, alert_days: int, *, q: str = "", with_empty: bool = False) -> list[StockLine]:
    """Every stock line of the point (the count sheet, the choices of the adjustment and transfer forms)."""
    query = _levels_of(point, with_empty, *_LINE_COLUMNS)
    if q:
        query = query.where(StockLevel.id.in_(_matching_level_ids(point, q, with_empty)))
    return _to_lines(db.session.execute(query).all(), day, alert_days)


def stock_page(point, day: date, alert_days: int, page: int, per_page: int, *, q: str = "",
               with_empty: bool = False) -> Page:
    """One page of the point's stock lines: only that page is read in full, so a point holding thousands of
    lots stays fast."""
    query = _levels_of(point, with_empty, *_LINE_COLUMNS)
    if q:
        ids = _matching_level_ids(point, q, with_empty)
        total, query = len(ids), query.where(StockLevel.id.in_(ids[(page - 1) * per_page:page * per_page]))
    else:
        count = sa.select(sa.func.count(StockLevel.id)).where(StockLevel.point_id == point.id)
        total = db.session.scalar(count if with_empty else count.where(StockLevel.on_hand > 0))
        query = query.limit(per_page).offset((page - 1) * per_page)
    return Page(_to_lines(db.session.execute(query).all(), day, alert_days), total, page, per_page)


def _qualified_among(product_ids: set[int], day: date) -> set[int]:
    """Which of these products have a qualifying basis on `day`. The filter goes inside each branch of the
    certification rule's UNION: SQLite would otherwise build the whole union (every product) first."""
    if not product_ids:
        return set()
    branches = qualified_products_subquery(day).element.selects
    narrowed = sa.union(*(branch.where(branch.selected_columns[0].in_(product_ids)) for branch in branches))
    return set(db.session.scalars(narrowed))


@dataclass(frozen=True)
class ProductGroup:
    product_name: str
    producer_name: str
    gtin: str | None
    lines: list[StockLine]

    @property
    def on_hand(self) -> int:
        return sum(line.on_hand for line in self.lines)

    @property
    def available(self) -> int:
        return sum(line.available for line in self.lines)


def group_by_product(lines: list[StockLine]) -> list[ProductGroup]:
    groups = []
    for _product_id, group in groupby(lines, key=lambda line: line.product_id):
        group = list(group)
        groups.append(ProductGroup(group[0].product_name, group[0].producer_name, group[0].gtin, group))
    return groups


def receipt_unit_costs(point, lines: list[StockLine]) -> dict[int, int]:
    """lot id → the unit cost of its latest receipt at this point (lots that came by transfer have none)."""
    lot_ids = {line.lot_id for line in lines}
    if not lot_ids:
        return {}
    rows = db.session.execute(
        sa.select(StockMovement.lot_id, StockMovement.unit_cost_vnd)
        .where(StockMovement.point_id == point.id, StockMovement.lot_id.in_(lot_ids),
               StockMovement.kind == MovementKind.RECEIPT, StockMovement.unit_cost_vnd.is_not(None))
        .order_by(StockMovement.id))
    return dict(rows.all())


def ledger_page(point, page: int, per_page: int, *, kinds=None, text: str | None = None, since=None, until=None,
                ids=None) -> Page:
    """The point's ledger rows, newest first, with who made them and the product of each lot."""
    where = [StockMovement.point_id == point.id]
    if kinds:
        where.append(StockMovement.kind.in_(kinds))
    if ids is not None:
        where.append(StockMovement.id.in_(ids))
    if text:
        level_ids = _matching_level_ids(point, text, with_empty=True)
        where.append(StockMovement.lot_id.in_(sa.select(StockLevel.lot_id).where(StockLevel.id.in_(level_ids)))
                     if level_ids else sa.false())
    if since is not None:
        where.append(StockMovement.occurred_at >= since)
    if until is not None:
        where.append(StockMovement.occurred_at < until)
    total = db.session.scalar(sa.select(sa.func.count(StockMovement.id)).where(*where))
    items = db.session.scalars(
        sa.select(StockMovement).where(*where)
        .options(joinedload(StockMovement.lot).joinedload(Lot.product), joinedload(StockMovement.actor))
        .order_by(StockMovement.occurred_at.desc(), StockMovement.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(items), total, page, per_page)


def transfers_page(point, page: int, per_page: int) -> Page:
    """Transfers sent from or to the point, newest first."""
    where = sa.or_(Transfer.from_point_id == point.id, Transfer.to_point_id == point.id)
    total = db.session.scalar(sa.select(sa.func.count(Transfer.id)).where(where))
    items = db.session.scalars(
        sa.select(Transfer).where(where)
        .options(joinedload(Transfer.from_point), joinedload(Transfer.to_point), selectinload(Transfer.lines))
        .order_by(Transfer.created_at.desc(), Transfer.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return Page(list(items), total, page, per_page)


def level_at_point(point, level_id: int) -> StockLevel:
    level = db.session.scalar(
        sa.select(StockLevel).where(StockLevel.id == level_id, StockLevel.point_id == point.id)
        .options(joinedload(StockLevel.product), joinedload(StockLevel.lot)))
    if level is None:
        abort(404)
    return level


def transfer_at_point(point, number: str, side: str | None = None) -> Transfer:
    """The transfer if this point is its origin or destination (or exactly the `side` asked for), else 404."""
    ends = {"origin": Transfer.from_point_id == point.id, "destination": Transfer.to_point_id == point.id}
    end = ends[side] if side else sa.or_(*ends.values())
    transfer = db.session.scalar(
        sa.select(Transfer).where(Transfer.number == number, end)
        .options(selectinload(Transfer.lines).joinedload(TransferLine.product),
                 selectinload(Transfer.lines).joinedload(TransferLine.lot)))
    if transfer is None:
        abort(404)
    return transfer


def destinations_for(point) -> list[SalesPoint]:
    """Other points that may receive goods (not closed nor suspended), the provincial centre first."""
    return list(db.session.scalars(
        sa.select(SalesPoint).where(SalesPoint.id != point.id,
                                    SalesPoint.status.not_in([PointStatus.CLOSED, PointStatus.SUSPENDED]))
        .order_by(SalesPoint.tier != PointTier.CENTRE, SalesPoint.code)))


def qualified_product_choices(day: date) -> list[tuple[int, str]]:
    """(id, "name (producer)") of the published products a point may receive today."""
    basis = qualified_products_subquery(day)
    rows = db.session.execute(
        sa.select(Product.id, Product.name, Producer.name).join(Producer, Producer.id == Product.producer_id)
        .where(Product.status == ProductStatus.PUBLISHED, Product.id.in_(sa.select(basis.c.product_id)))
        .order_by(Product.name, Producer.name))
    return [(product_id, f"{name} ({producer})") for product_id, name, producer in rows]


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
    page = stock_page(point, today(), current_app.config["EXPIRY_ALERT_DAYS"], _page_number(), STOCK_PER_PAGE,
                      q=q, with_empty=show_empty)
    return render_template("inventory/manage/stock.html", point=point, page=page, q=q, show_empty=show_empty,
                           groups=group_by_product(page.items), costs=receipt_unit_costs(point, page.items),
                           in_transit=queries.in_transit_for(point), may_change=_may_change(point))


# --------------------------------------------------------------------------------------------------- receipts

@bp.route("/<code>/receipts")
def receipts(code: str):
    point = point_from_url(code)
    page = ledger_page(point, _page_number(), LEDGER_PER_PAGE, kinds=[MovementKind.RECEIPT])
    return render_template("inventory/manage/receipts.html", point=point, page=page, may_change=_may_change(point))


def _product_or_refuse(product_id: int | None) -> Product:
    product = db.session.get(Product, product_id) if product_id else None
    if product is None:
        raise DomainError(_("Choose a product."), field="product", code="product_required")
    return product


@bp.route("/<code>/receipts/new", methods=["GET", "POST"])
def receipt_new(code: str):
    point = point_from_url(code)
    form = ReceiptForm(products=qualified_product_choices(today()))

    def receive():
        services.receive_stock(point, _product_or_refuse(form.product.data), lot_code=form.lot_code.data,
                               production_date=form.production_date.data, expiry_date=form.expiry_date.data,
                               quantity=form.quantity.data, unit_cost_vnd=form.unit_cost_vnd.data,
                               delivery_note=form.delivery_note.data, actor=current_user)

    if submit_form(form, receive, success=_("The goods are received and on the shelf."), default_field="product"):
        return redirect(url_for(".stock", code=point.code))
    return render_template("inventory/manage/receipt_form.html", point=point, form=form), form_status()


# ------------------------------------------------------------------------------------------------ adjustments

def _level_choices(lines: list[StockLine], *, available: bool = False) -> list[tuple[int, str]]:
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
    lines = stock_lines(point, today(), current_app.config["EXPIRY_ALERT_DAYS"], with_empty=True)
    form = AdjustmentForm(levels=_level_choices(lines))
    chosen = form.level.data if request.method == "POST" else request.args.get("level", type=int)
    level = level_at_point(point, chosen) if chosen else None  # another point's level: 404
    if level is not None:
        form.level.data = level.id

    def adjust():
        services.adjust_stock(level, delta=form.delta.data, reason=form.reason.data, note=form.note.data,
                              actor=current_user)

    if submit_form(form, adjust, success=_("The adjustment is recorded."), default_field="delta"):
        return redirect(url_for(".stock", code=point.code))
    return render_template("inventory/manage/adjustment_form.html", point=point, form=form), form_status()


# ------------------------------------------------------------------------------------------------------ count

@bp.route("/<code>/count", methods=["GET", "POST"])
def count(code: str):
    point = point_from_url(code)
    q = (request.args.get("q") or "").strip()[:100]
    lines = stock_lines(point, today(), current_app.config["EXPIRY_ALERT_DAYS"], q=q, with_empty=True)
    form = CountForm(level_ids=[line.level_id for line in lines])
    if request.method == "GET":
        form.sheet.data = ",".join(f"{line.level_id}:{line.on_hand}" for line in lines)
    recorded = []

    def record():
        counted = form.counted()
        if not counted:
            raise DomainError(_("Fill in the counted quantity of at least one line."), field="counts",
                              code="empty_count")
        by_level = {line.level_id: line for line in lines}
        printed = form.printed_quantities()
        if any(printed.get(level_id) != by_level[level_id].on_hand for level_id in counted):
            raise DomainError(_("The stock changed while it was being counted. Please count again."),
                              field="counts", code="stock_changed")
        recorded.extend(services.record_count(
            point, {(by_level[i].product_id, by_level[i].lot_id): n for i, n in counted.items()},
            actor=current_user, note=form.note.data))

    if submit_form(form, record, success=_("The count is recorded."), default_field="counts"):
        return redirect(url_for(".count", code=point.code, recorded=",".join(str(m.id) for m in recorded) or None))
    return render_template("inventory/manage/count.html", point=point, form=form, lines=lines, q=q,
                           field_name=count_field_name, recorded=_recorded_differences(point),
                           # translated once, formatted per line: a sheet may have thousands of lines
                           count_label=_("Counted quantity of %(product)s, lot %(lot)s"),
                           may_change=_may_change(point)), form_status()


def _recorded_differences(point) -> list:
    """The rows a count just recorded (ids from the redirect after it; only this point's rows are shown)."""
    ids = [int(part) for part in (request.args.get("recorded") or "").split(",") if part.isdigit()][:5000]
    return ledger_page(point, 1, len(ids), ids=ids).items if ids else []


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
    page = ledger_page(point, _page_number(), LEDGER_PER_PAGE, kinds=[kind] if kind else None,
                       text=(filters.q.data or "").strip()[:100] or None,
                       since=_day_start(date_from) if date_from else None,
                       until=_day_start(date_to + timedelta(days=1)) if date_to else None)
    return render_template("inventory/manage/movements.html", point=point, page=page, filters=filters)


@bp.route("/<code>/recalls")
def recalls(code: str):
    point = point_from_url(code)
    page = ledger_page(point, _page_number(), LEDGER_PER_PAGE, kinds=[MovementKind.RECALL])
    return render_template("inventory/manage/recalls.html", point=point, page=page)


# -------------------------------------------------------------------------------------------------- transfers

@bp.route("/<code>/transfers")
def transfers(code: str):
    point = point_from_url(code)
    return render_template("inventory/manage/transfers.html", point=point,
                           page=transfers_page(point, _page_number(), LEDGER_PER_PAGE),
                           in_transit=queries.in_transit_for(point), may_change=_may_change(point))


@bp.route("/<code>/transfers/new", methods=["GET", "POST"])
def transfer_new(code: str):
    point = point_from_url(code)
    lines = [line for line in stock_lines(point, today(), current_app.config["EXPIRY_ALERT_DAYS"]) if line.available]
    form = TransferForm(destinations=[(p.id, f"{p.code} · {p.name}") for p in destinations_for(point)],
                        levels=_level_choices(lines, available=True))
    created = []

    def create():
        destination = _destination_or_refuse(point, form.to_point.data)
        levels = [(level_at_point(point, level_id), quantity) for level_id, quantity in form.filled_lines()]
        created.append(services.create_transfer(point, destination, [(level.product, level.lot, quantity)
                                                                     for level, quantity in levels],
                                                actor=current_user, note=form.note.data))

    if form.is_submitted():
        for level_id, _quantity in form.filled_lines():
            level_at_point(point, level_id)  # a level of another point in the form: 404, before anything runs
    if submit_form(form, create, success=_("The transfer is saved as a draft."), default_field="lines"):
        return redirect(url_for(".transfer_detail", code=point.code, number=created[0].number))
    return render_template("inventory/manage/transfer_form.html", point=point, form=form), form_status()


def _destination_or_refuse(point, point_id: int | None):
    destination = next((p for p in destinations_for(point) if p.id == point_id), None)
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
    return _render_transfer(point, transfer_at_point(point, number))


def _origin_action(code: str, number: str, action, success: str):
    """Ship or cancel: only the origin's side of the transfer may."""
    point = point_from_url(code)
    transfer = transfer_at_point(point, number, side="origin")
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
    transfer = transfer_at_point(point, number, side="destination")
    form = receive_form_for(transfer.lines)
    if submit_form(form, lambda: services.receive_transfer(
            transfer, form.decisions(line.id for line in transfer.lines), actor=current_user),
            success=_("The transfer is received."), default_field="status"):
        return redirect(url_for(".transfer_detail", code=point.code, number=transfer.number))
    return _render_transfer(point, transfer, receive_form=form, status=400)
