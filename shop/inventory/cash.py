"""Reads of a point's counter: what can be sold right now, the sales of a day and the daily cash summary.

Plain functions over the session. A "day" is a calendar day in the timezone the caller names (the shop's
configured one), turned into a half-open UTC range so the same SQL runs on SQLite and PostgreSQL.
"""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from shop.catalog.models import Product
from shop.certification.queries import qualified_products_subquery
from shop.core.text import fold
from shop.extensions import db
from shop.inventory.models import CounterReturn, CounterSale, Lot, PaymentMethod, StockLevel
from shop.inventory.queries import sellable_levels_clause

LOOKUP_LIMIT = 10


# ---------------------------------------------------------------------------------------- what can be sold

@dataclass(frozen=True)
class SellableProduct:
    id: int
    name: str
    gtin: str | None
    price_vnd: int
    available: int


def _sellable_query(point_id: int, day: date):
    """One grouped query: per product, the units the point can sell on `day` (sellable lots, qualifying basis)."""
    qualified = qualified_products_subquery(day)
    available = sa.func.sum(StockLevel.on_hand - StockLevel.reserved)
    return (sa.select(Product.id, Product.name, Product.gtin, Product.price_vnd, available)
            .join(StockLevel, StockLevel.product_id == Product.id)
            .join(Lot, Lot.id == StockLevel.lot_id)
            .where(StockLevel.point_id == point_id, sellable_levels_clause(day),
                   Product.id.in_(sa.select(qualified.c.product_id)))
            .group_by(Product.id, Product.name, Product.gtin, Product.price_vnd)
            .having(available > 0))


def _rows(query) -> list[SellableProduct]:
    return [SellableProduct(*row) for row in db.session.execute(query)]


def sellable_by_gtin(point_id: int, day: date, gtin: str) -> list[SellableProduct]:
    return _rows(_sellable_query(point_id, day).where(Product.gtin == gtin))


def sellable_by_name(point_id: int, day: date, text: str, limit: int = LOOKUP_LIMIT) -> list[SellableProduct]:
    """Products whose name holds every word of `text`, accents and case ignored ("hat dieu" finds "Hạt điều").
    Folding is done in Python over the point's sellable products (a few hundred at most), which keeps the SQL
    portable; names starting with the text come first."""
    words = fold(text).split()
    if not words:
        return []
    found = [row for row in _rows(_sellable_query(point_id, day)) if all(w in _folded(row.name) for w in words)]
    wanted = " ".join(words)
    found.sort(key=lambda row: (not _folded(row.name).startswith(wanted), _folded(row.name), row.id))
    return found[:limit]


@lru_cache(maxsize=50_000)
def _folded(name: str) -> str:
    """Names change rarely and the provincial centre holds thousands: fold each one once per process."""
    return fold(name)


def sellable_by_ids(point_id: int, day: date, product_ids) -> dict[int, SellableProduct]:
    ids = {i for i in product_ids if i}
    if not ids:
        return {}
    return {row.id: row for row in _rows(_sellable_query(point_id, day).where(Product.id.in_(ids)))}


def gtin_exists(gtin: str) -> bool:
    return bool(db.session.scalar(sa.select(sa.exists().where(Product.gtin == gtin))))


def products_by_ids(product_ids) -> dict[int, Product]:
    ids = {i for i in product_ids if i}
    if not ids:
        return {}
    return {product.id: product for product in db.session.scalars(sa.select(Product).where(Product.id.in_(ids)))}


# ---------------------------------------------------------------------------------------- days and sales

def day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """[start, end) of the calendar `day` in `tz_name`, in UTC."""
    zone = ZoneInfo(tz_name)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def today_in(tz_name: str) -> date:
    return datetime.now(ZoneInfo(tz_name)).date()


def day_of(moment: datetime, tz_name: str) -> date:
    return moment.astimezone(ZoneInfo(tz_name)).date()


def sale_by_number(point_id: int, number: str) -> CounterSale | None:
    """A sale of this point only: another point's receipt number is not found here."""
    return db.session.scalar(sa.select(CounterSale).where(CounterSale.point_id == point_id,
                                                          CounterSale.number == number))


def returns_of_sale(sale_id: int) -> list[CounterReturn]:
    return list(db.session.scalars(sa.select(CounterReturn).where(CounterReturn.sale_id == sale_id)
                                   .order_by(CounterReturn.created_at, CounterReturn.id)))


def sales_of_day(point_id: int, day: date, tz_name: str) -> list[CounterSale]:
    start, end = day_bounds(day, tz_name)
    return list(db.session.scalars(
        sa.select(CounterSale).where(CounterSale.point_id == point_id, CounterSale.created_at >= start,
                                     CounterSale.created_at < end)
        .order_by(CounterSale.created_at, CounterSale.id)))


def returns_of_day(point_id: int, day: date, tz_name: str) -> list[CounterReturn]:
    start, end = day_bounds(day, tz_name)
    return list(db.session.scalars(
        sa.select(CounterReturn).where(CounterReturn.point_id == point_id, CounterReturn.created_at >= start,
                                       CounterReturn.created_at < end)
        .order_by(CounterReturn.created_at, CounterReturn.id)))


# ---------------------------------------------------------------------------------------- cash summary

@dataclass(frozen=True)
class MethodTotals:
    method: PaymentMethod
    sales_count: int
    sales_vnd: int
    refunds_count: int
    refunds_vnd: int

    @property
    def net_vnd(self) -> int:
        return self.sales_vnd - self.refunds_vnd


@dataclass(frozen=True)
class CashSummary:
    day: date
    methods: list[MethodTotals]  # every payment method, in a fixed order, zeros included
    sales: list[CounterSale]
    returns: list[CounterReturn]

    @property
    def sales_count(self) -> int:
        return sum(m.sales_count for m in self.methods)

    @property
    def sales_vnd(self) -> int:
        return sum(m.sales_vnd for m in self.methods)

    @property
    def refunds_vnd(self) -> int:
        return sum(m.refunds_vnd for m in self.methods)

    @property
    def net_vnd(self) -> int:
        return self.sales_vnd - self.refunds_vnd

    @property
    def cash_expected_vnd(self) -> int:
        """What the drawer should hold beyond its opening float: cash taken minus cash refunded."""
        return next(m.net_vnd for m in self.methods if m.method == PaymentMethod.CASH)


def _totals_by_method(model, amount, point_id: int, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    rows = db.session.execute(
        sa.select(model.payment_method, sa.func.count(model.id), sa.func.coalesce(sa.func.sum(amount), 0))
        .where(model.point_id == point_id, model.created_at >= start, model.created_at < end)
        .group_by(model.payment_method))
    return {PaymentMethod(method): (int(count), int(total)) for method, count, total in rows}


def cash_summary(point_id: int, day: date, tz_name: str) -> CashSummary:
    start, end = day_bounds(day, tz_name)
    sold = _totals_by_method(CounterSale, CounterSale.total_vnd, point_id, start, end)
    refunded = _totals_by_method(CounterReturn, CounterReturn.refund_vnd, point_id, start, end)
    methods = [MethodTotals(method, *sold.get(method, (0, 0)), *refunded.get(method, (0, 0)))
               for method in PaymentMethod]
    return CashSummary(day=day, methods=methods, sales=sales_of_day(point_id, day, tz_name),
                       returns=returns_of_day(point_id, day, tz_name))
