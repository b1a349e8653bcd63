"""Importing receipts and stock counts from a spreadsheet, and the rows of the stock and receipt exports.

An import is all or nothing: every row goes through the same service as the web form (receive_stock,
record_count), each inside its own SAVEPOINT so that one refused row does not hide the problems of the next
ones; the caller commits only when no row was refused and rolls everything back otherwise (or on a dry run).
This module never commits."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.core.clock import VN_TZ, today
from shop.core.database import open_transaction
from shop.core.errors import DomainError
from shop.core.tabular import parse_day
from shop.extensions import db
from shop.inventory.models import Lot, MovementKind, StockMovement
from shop.inventory.queries import stock_for_point
from shop.inventory.services import basis_problem, receive_stock, record_count
from shop.inventory.spreadsheets import Cell, Table
from shop.sales_points.models import SalesPoint

MAX_TEXT = 60  # lot codes and delivery note numbers (their columns are 60 characters wide)


# ------------------------------------------------------------------------------------------------ layouts

@dataclass(frozen=True)
class Column:
    name: str
    help: str  # a lazy string, shown on the import page
    required: bool = True


@dataclass(frozen=True)
class Layout:
    """The fixed columns of one kind of import. Headers are plain English words without accents, so they
    survive every spreadsheet program and encoding; columns may come in any order and extra columns are
    ignored (an export with a column added can be imported back)."""

    kind: str
    title: str
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        return [column.name for column in self.columns]


PRODUCT_COLUMNS = (
    Column("gtin", _l("The product's barcode (GTIN, 8 to 14 digits). Fill in this or product_slug."), False),
    Column("product_slug", _l("The product's address name on this site, e.g. hat-dieu-rang-muoi, when it has "
                              "no barcode."), False),
)
RECEIPTS = Layout("receipts", _l("Goods received"), (
    *PRODUCT_COLUMNS,
    Column("lot_code", _l("The lot number printed on the package.")),
    Column("production_date", _l("Production date: dd/mm/yyyy or yyyy-mm-dd.")),
    Column("expiry_date", _l("Expiry date (same formats); leave empty for goods that do not expire."), False),
    Column("quantity", _l("Units received: a whole number greater than zero.")),
    Column("unit_cost_vnd", _l("What the point paid per unit, in đồng (e.g. 80000).")),
    Column("delivery_note", _l("The number of the producer's delivery note.")),
))
COUNT = Layout("count", _l("Stock count"), (
    *PRODUCT_COLUMNS,
    Column("lot_code", _l("The lot number printed on the package.")),
    Column("counted_quantity", _l("Units found on the shelf: a whole number, zero or more.")),
))
LAYOUTS = {layout.kind: layout for layout in (RECEIPTS, COUNT)}


# ------------------------------------------------------------------------------------------------ results

@dataclass(frozen=True)
class RowError:
    row: int | None      # as the user sees it in their spreadsheet (the header is row 1); None: the whole file
    column: str | None   # a header of the layout; None: the whole row
    message: str


@dataclass
class ImportResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Row:
    """One data row's cells by column name. Reading a cell that does not fit notes a RowError and gives None,
    so every problem of the row is reported at once."""

    def __init__(self, number: int, values: dict[str, Cell], products: dict):
        self.number, self.values = number, values
        self.products = products  # product look-ups of the whole file: a delivery repeats its products
        self.errors: list[RowError] = []
        self.product_column = "gtin"

    def note(self, column: str | None, message) -> None:
        self.errors.append(RowError(self.number, column, str(message)))

    def text(self, column: str, *, required: bool = True, max_length: int = MAX_TEXT) -> str | None:
        value = self.values.get(column)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a lot code or barcode typed as a number in Excel
        text = None if value is None else str(value).strip() or None
        if text is None and required:
            self.note(column, _l("This cell is required."))
        elif text is not None and len(text) > max_length:
            self.note(column, _l("At most %(n)s characters.", n=max_length))
            return None
        return text

    def day(self, column: str, *, required: bool = True) -> date | None:
        value = self.values.get(column)
        if value is None:
            if required:
                self.note(column, _l("This cell is required."))
            return None
        parsed = parse_day(value)
        if parsed is None:
            self.note(column, _l("“%(value)s” is not a date: write dd/mm/yyyy or yyyy-mm-dd.", value=value))
        return parsed

    def whole(self, column: str) -> int | None:
        value = self.values.get(column)
        if value is None:
            self.note(column, _l("This cell is required."))
            return None
        parsed = parse_whole_number(value)
        if parsed is None:
            self.note(column, _l("“%(value)s” is not a whole number.", value=value))
        return parsed


_PLAIN = re.compile(r"-?\d+")
_GROUPED = re.compile(r"-?\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")  # 1.000.000 (Vietnamese) or 1,000,000
_CURRENCY = re.compile(r"\s*(₫|đ|vnđ|vnd|đồng)$", re.IGNORECASE)


def parse_whole_number(value: Cell) -> int | None:
    """A whole number as people type it in Vietnam: "80000", "80.000", "80,000", "80.000 ₫". A decimal
    ("1,5") is refused rather than guessed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = _CURRENCY.sub("", str(value).replace("\u00a0", " ").strip()).replace(" ", "")
    if _PLAIN.fullmatch(text):
        return int(text)
    if _GROUPED.fullmatch(text):
        return int(re.sub(r"[.,]", "", text))
    return None


# ------------------------------------------------------------------------------------------------ running

def import_receipts(point: SalesPoint, table: Table, actor) -> ImportResult:
    """One receipt per row, through receive_stock (the same checks as the form: qualifying basis, dates…)."""
    return _run(RECEIPTS, table, lambda row: _receive_row(point, row, actor))


def import_count(point: SalesPoint, table: Table, actor, note: str | None = None) -> ImportResult:
    """A physical count of the lots listed (lots not in the file are left alone); every difference becomes a
    count-correction row through record_count."""
    counted_in: dict[tuple[int, int], int] = {}
    return _run(COUNT, table, lambda row: _count_row(point, row, actor, note, counted_in))


def _run(layout: Layout, table: Table, apply_row) -> ImportResult:
    header_error = _header_error(layout, table)
    if header_error is not None:
        return ImportResult(rows=len(table.rows), errors=[header_error])
    if not table.rows:
        return ImportResult(errors=[RowError(None, None, str(_l("The file has a header but no rows below it.")))])
    positions = {name.strip().lower(): index for index, name in enumerate(table.header)}
    open_transaction()  # so that the caller's rollback undoes every row, savepoints included
    result = ImportResult(rows=len(table.rows))
    products: dict = {}
    for number, cells in table.rows:
        row = _Row(number, {column: cells[positions[column]] if positions[column] < len(cells) else None
                            for column in layout.headers}, products)
        try:
            with db.session.begin_nested():
                apply_row(row)
        except DomainError as error:
            row.note(_column_of(layout, row, error.field), error.message)
        result.errors.extend(row.errors)
    return result


def _header_error(layout: Layout, table: Table) -> RowError | None:
    names = [name.strip().lower() for name in table.header]
    missing = [name for name in layout.headers if name not in names]
    doubled = [name for name in layout.headers if names.count(name) > 1]
    if missing:
        message = _l("The first row must hold the column names %(expected)s; missing: %(missing)s. Download the "
                     "template to start from the right columns.", expected=", ".join(layout.headers),
                     missing=", ".join(missing))
    elif doubled:
        message = _l("The column %(name)s appears more than once in the first row.", name=doubled[0])
    else:
        return None
    return RowError(table.header_row, None, str(message))


SERVICE_FIELDS = {"counts": "counted_quantity", "delta": "counted_quantity"}


def _column_of(layout: Layout, row: _Row, service_field: str | None) -> str | None:
    if service_field == "product":
        return row.product_column
    column = SERVICE_FIELDS.get(service_field or "", service_field)
    return column if column in layout.headers else None


def _product(row: _Row) -> Product | None:
    gtin = row.text("gtin", required=False, max_length=20)
    gtin = gtin.replace(" ", "") if gtin else None  # "893 4567 89012 0" as printed under the bars
    slug = row.text("product_slug", required=False, max_length=140)
    if gtin is None and slug is None:
        if not row.errors:
            row.note("gtin", _l("Give the product's GTIN (barcode) or its product_slug."))
        return None
    if gtin is None:
        row.product_column = "product_slug"
        product = _look_up(row, Product.slug, {slug})
        if product is None:
            row.note("product_slug", _l("No product has the slug “%(slug)s”.", slug=slug))
        return product
    # Excel shows a barcode typed as a number without its leading zeros.
    product = _look_up(row, Product.gtin, {gtin, gtin.zfill(13), gtin.zfill(14)} if gtin.isdigit() else {gtin})
    if product is None:
        row.note("gtin", _l("No product has the GTIN %(gtin)s.", gtin=gtin))
    elif slug is not None and product.slug != slug:
        row.note("product_slug", _l("The GTIN and the product_slug name two different products."))
    return product


def _look_up(row: _Row, column, values: set[str]) -> Product | None:
    key = (column.key, frozenset(values))
    if key not in row.products:
        row.products[key] = db.session.scalar(sa.select(Product).where(column.in_(values)).order_by(Product.id))
    return row.products[key]


def _receive_row(point: SalesPoint, row: _Row, actor) -> None:
    product = _product(row)
    values = {"lot_code": row.text("lot_code"), "production_date": row.day("production_date"),
              "expiry_date": row.day("expiry_date", required=False), "quantity": row.whole("quantity"),
              "unit_cost_vnd": row.whole("unit_cost_vnd"), "delivery_note": row.text("delivery_note")}
    if row.errors:
        return
    receive_stock(point, product, **values, actor=actor)


def _count_row(point: SalesPoint, row: _Row, actor, note: str | None, counted_in: dict) -> None:
    product = _product(row)
    lot_code, counted = row.text("lot_code"), row.whole("counted_quantity")
    if row.errors:
        return
    lot = db.session.scalar(sa.select(Lot).where(Lot.product_id == product.id, Lot.lot_code == lot_code))
    if lot is None:
        row.note("lot_code", _l("This product has no lot %(code)s: receive it before counting it.", code=lot_code))
        return
    key = (product.id, lot.id)
    if key in counted_in:
        # A second count of the same lot would be applied on top of the first one.
        row.note("lot_code", _l("Lot %(code)s is already counted in row %(row)s.", code=lot_code,
                                row=counted_in[key]))
        return
    counted_in[key] = row.number
    record_count(point, {key: counted}, actor=actor, note=note)


# ------------------------------------------------------------------------------------------------ exports

STOCK_HEADERS = ["product_name", "gtin", "product_slug", "lot_code", "production_date", "expiry_date", "on_hand",
                 "reserved", "available", "status"]


def stock_rows(point: SalesPoint) -> list[list]:
    """The lots on the point's shelf. `available` counts only what may be sold today; `status` says why not
    (expired, recalled, no_qualifying_basis) or `sellable`."""
    day = today()
    basis: dict[int, bool] = {}
    rows = []
    for stock in stock_for_point(point):
        if stock.on_hand == 0:
            continue
        if stock.product.id not in basis:
            basis[stock.product.id] = basis_problem(stock.product, day) is None
        status = ("recalled" if stock.lot.is_recalled else "expired" if stock.lot.is_expired_on(day)
                  else "sellable" if basis[stock.product.id] else "no_qualifying_basis")
        rows.append([stock.product.name, stock.product.gtin, stock.product.slug, stock.lot.lot_code,
                     stock.lot.production_date, stock.expiry_date, stock.on_hand, stock.reserved,
                     stock.available if status == "sellable" else 0, status])
    return rows


# The import's columns are all there, so an export can be imported at another point.
RECEIPT_HEADERS = ["received_at", "product_name", "gtin", "product_slug", "lot_code", "production_date",
                   "expiry_date", "quantity", "unit_cost_vnd", "total_cost_vnd", "delivery_note", "received_by"]


def receipt_rows(point: SalesPoint, date_from: date, date_to: date) -> list[list]:
    """Receipts recorded at the point between two dates (Vietnamese calendar days, both included), oldest
    first, from the ledger."""
    start = datetime.combine(date_from, time.min, VN_TZ)
    end = datetime.combine(date_to + timedelta(days=1), time.min, VN_TZ)
    movements = db.session.execute(
        sa.select(StockMovement, Product, User.email).join(Product, Product.id == StockMovement.product_id)
        .join(User, User.id == StockMovement.actor_id)
        .where(StockMovement.point_id == point.id, StockMovement.kind == MovementKind.RECEIPT,
               StockMovement.occurred_at >= start, StockMovement.occurred_at < end)
        .options(joinedload(StockMovement.lot))
        .order_by(StockMovement.occurred_at, StockMovement.id))
    return [[movement.occurred_at, product.name, product.gtin, product.slug, movement.lot.lot_code,
             movement.lot.production_date, movement.lot.expiry_date, movement.quantity, movement.unit_cost_vnd,
             movement.quantity * (movement.unit_cost_vnd or 0), movement.reference, email]
            for movement, product, email in movements]
