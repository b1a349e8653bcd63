"""The counter of a sales point: fast sales, printable receipts, customer returns, the daily cash summary.

The counter page works without JavaScript: its search form GETs the page with ?q= (and the lines so far as
repeated product_id + quantity pairs), and the sale form POSTs the same pairs. static/js/counter.js only makes
it faster: it asks `lookup` and adds lines in place."""
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.core.clock import today
from shop.core.errors import DomainError
from shop.core.money import format_vnd
from shop.inventory import cash, services
from shop.inventory.counter_forms import (
    CounterSaleForm,
    RawLine,
    gtin_is_valid,
    gtin_of,
    merged_lines,
    raw_lines,
    return_form_for,
    whole_number,
)
from shop.inventory.models import PaymentMethod
from shop.orders import services as orders
from shop.sales_points.access import can_change, point_area_guard, point_from_url
from shop.sales_points.queries import users_by_ids
from shop.web import form_status, json_error, submit_creating_form

bp = Blueprint("counter_point_manage", __name__)
bp.before_request(point_area_guard)


@bp.context_processor
def labels():
    return {"payment_labels": PaymentMethod.labels()}


def _timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _day() -> date:
    """?day=YYYY-MM-DD, today (in the shop's timezone) when absent; a malformed day is a bad request."""
    text = request.args.get("day")
    if not text:
        return cash.today_in(_timezone())
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400)


def _days(day: date) -> dict:
    """What the day navigation of the sales and cash-summary pages needs."""
    return {"day": day, "previous_day": day - timedelta(days=1), "next_day": day + timedelta(days=1)}


def _sale(point, number: str):
    sale = cash.sale_by_number(point.id, number)
    if sale is None:
        abort(404)
    return sale


# ------------------------------------------------------------------------------------------------ counter

@dataclass(frozen=True)
class LineRow:
    product_id: int
    name: str
    price_vnd: int
    quantity: str       # as typed, so a refused form shows it back
    available: int

    @property
    def total_vnd(self) -> int:
        quantity = whole_number(self.quantity)
        return self.price_vnd * quantity if quantity else 0


@dataclass(frozen=True)
class Search:
    query: str
    products: list
    message: str | None = None
    problem: str | None = None  # invalid_gtin | unknown_gtin | not_in_stock | no_match


def _line_rows(point, lines: list[RawLine]) -> list[LineRow]:
    """The lines to show, with today's names, prices and what is left to sell; unknown products are left out."""
    ids = [whole_number(line.product_id) for line in lines]
    products = cash.products_by_ids(ids)
    sellable = cash.sellable_by_ids(point.id, today(), ids)
    return [LineRow(product_id, products[product_id].name, products[product_id].price_vnd, line.quantity,
                    sellable[product_id].available if product_id in sellable else 0)
            for product_id, line in zip(ids, lines, strict=True) if product_id in products]


def _search(point, query: str) -> Search | None:
    """The sellable products matching a barcode number or a name, or why there are none."""
    if not query:
        return None
    gtin = gtin_of(query)
    if gtin is None:
        found = cash.sellable_by_name(point.id, today(), query)
        if found:
            return Search(query, found)
        return Search(query, [], _("No product in stock here matches “%(q)s”.", q=query), "no_match")
    if not gtin_is_valid(gtin):
        return Search(query, [], _("%(gtin)s is not a valid barcode number: check the last digit.", gtin=gtin),
                      "invalid_gtin")
    found = cash.sellable_by_gtin(point.id, today(), gtin)
    if found:
        return Search(query, found)
    if cash.gtin_exists(gtin):
        return Search(query, [], _("The product with barcode %(gtin)s is not in stock here.", gtin=gtin),
                      "not_in_stock")
    return Search(query, [], _("No product has the barcode %(gtin)s.", gtin=gtin), "unknown_gtin")


def _query() -> str:
    return (request.args.get("q") or "").strip()[:200]


def _with_line(lines: list[tuple[int, int]], product_id: int) -> list[tuple[int, int]]:
    """The lines with one more unit of the product (a new line at the end when it is not there yet)."""
    counts = dict(lines)
    counts[product_id] = counts.get(product_id, 0) + 1
    return list(counts.items())


def _as_raw(lines: list[tuple[int, int]]) -> list[RawLine]:
    return [RawLine(str(product_id), str(quantity)) for product_id, quantity in lines]


def counter_url(point, lines: list[tuple[int, int]], **args) -> str:
    return url_for(".counter", code=point.code, product_id=[p for p, _q in lines],
                   quantity=[q for _p, q in lines], **args)


def _counter_get(point):
    """The page without JavaScript: the lines so far come in the URL; a scanned barcode adds its line at once,
    a name shows the matching products, each with a link that adds it."""
    lines = merged_lines(raw_lines(request.args))
    search = _search(point, _query())
    if search and gtin_of(search.query) and len(search.products) == 1:
        lines = _with_line(lines, search.products[0].id)
        search = None
    return lines, search


def _sell(point, form: CounterSaleForm):
    products = cash.products_by_ids(p for p, _q in form.lines.data)
    unknown = [p for p, _q in form.lines.data if p not in products]
    if unknown:
        raise DomainError(_("A line names no known product. Scan or search it again."), field="lines",
                          code="unknown_product")
    orders.expire_overdue(point_id=point.id)  # goods held by orders whose time is up are sellable again
    return services.sell_at_counter(point, [(products[p], q) for p, q in form.lines.data],
                                    payment_method=form.payment_method.data, actor=current_user)


@bp.route("/<code>/counter", methods=["GET", "POST"])
def counter(code: str):
    point = point_from_url(code)
    form = CounterSaleForm()
    if request.method == "POST":
        done = submit_creating_form(
            form, "counter_sale", lambda: _sell(point, form),
            lambda sale: url_for(".sale_receipt", code=point.code, number=sale.number),
            success=_("The sale is recorded."), default_field="lines", redirect_code=303)
        if done:
            return done
        rows, search, lines = _line_rows(point, form.lines.raw), None, merged_lines(form.lines.raw)
    else:
        lines, search = _counter_get(point)
        rows = _line_rows(point, _as_raw(lines))
    return render_template("inventory/counter/counter.html", point=point, form=form, rows=rows, search=search,
                           lines=lines, counter_url=counter_url, with_line=_with_line,
                           total_vnd=sum(row.total_vnd for row in rows),
                           can_sell=can_change(current_user, point)), form_status()


def _product_json(product: cash.SellableProduct) -> dict:
    return {"id": product.id, "name": product.name, "gtin": product.gtin, "price_vnd": product.price_vnd,
            "price": format_vnd(product.price_vnd), "available": product.available}


LOOKUP_REFUSALS = {"invalid_gtin": 400, "unknown_gtin": 404, "not_in_stock": 404}  # a name matching nothing: []


@bp.route("/<code>/counter/lookup")
def lookup(code: str):
    """JSON for counter.js: the sellable products of the point matching a barcode number or a name."""
    point = point_from_url(code)
    search = _search(point, _query())
    if search is None:
        return jsonify([])
    if search.problem in LOOKUP_REFUSALS:
        return json_error(LOOKUP_REFUSALS[search.problem], search.problem, search.message)
    return jsonify([_product_json(product) for product in search.products])


# ------------------------------------------------------------------------------------------------ receipts

@bp.route("/<code>/sales/<number>")
def sale_receipt(code: str, number: str):
    point = point_from_url(code)
    sale = _sale(point, number)
    returns = cash.returns_of_sale(sale.id)
    people = users_by_ids([sale.actor_id, *(r.actor_id for r in returns)])
    return render_template("inventory/counter/receipt.html", point=point, sale=sale, returns=returns, people=people,
                           sale_day=cash.day_of(sale.created_at, _timezone()),
                           can_return=can_change(current_user, point)
                           and any(line.quantity_returned < line.quantity for line in sale.lines))


@bp.route("/<code>/sales/<number>/return", methods=["GET", "POST"])
def return_new(code: str, number: str):
    point = point_from_url(code)
    sale = _sale(point, number)
    form = return_form_for(sale)

    def record_return():
        made = services.return_counter_sale(sale, form.quantities(), reason=form.reason.data,
                                            restock=form.restock.data, actor=current_user)
        flash(_("Refund to the customer: %(amount)s (%(method)s).", amount=format_vnd(made.refund_vnd),
                method=made.payment_method.label), "info")
        return made

    done = submit_creating_form(form, "counter_return", record_return,
                                lambda _made: url_for(".sale_receipt", code=point.code, number=sale.number),
                                success=_("The return is recorded."), default_field="lines", redirect_code=303)
    if done:
        return done
    return render_template("inventory/counter/return_form.html", point=point, sale=sale, form=form), form_status()


# ------------------------------------------------------------------------------------------------ the day

@bp.route("/<code>/sales")
def sales(code: str):
    point = point_from_url(code)
    day = _day()
    sales_of_day = cash.sales_of_day(point.id, day, _timezone())
    return render_template("inventory/counter/sales.html", point=point, **_days(day), sales=sales_of_day,
                           total_vnd=sum(sale.total_vnd for sale in sales_of_day),
                           people=users_by_ids(sale.actor_id for sale in sales_of_day))


@bp.route("/<code>/cash-summary")
def cash_summary(code: str):
    point = point_from_url(code)
    summary = cash.cash_summary(point.id, _day(), _timezone())
    people = users_by_ids([*(s.actor_id for s in summary.sales), *(r.actor_id for r in summary.returns)])
    return render_template("inventory/counter/cash_summary.html", point=point, **_days(summary.day), summary=summary,
                           people=people)
