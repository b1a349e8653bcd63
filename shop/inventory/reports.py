"""Read-only figures for a point's dashboard: what the shelf is worth, what the counter sold, what sold best.

Every query filters on indexed columns first (stock_level by point, counter_sale by point and time) and
aggregates in SQL, so a point's dashboard stays fast when the ledger holds millions of rows.

Counter sales are counted gross, on the day they were rung up: a later return does not rewrite the sales of
the day the goods were sold (refunds show in the point's cash summary of the day they were paid).
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from shop.catalog.models import Product
from shop.extensions import db
from shop.inventory.models import CounterSale, CounterSaleLine, MovementKind, StockLevel, StockMovement


@dataclass(frozen=True)
class StockValue:
    units: int             # units on hand (expired lots included: they are still on the shelf)
    cost_vnd: int          # what the units cost the point (see stock_value for the rule)
    retail_vnd: int        # what they would bring at today's catalogue prices
    units_at_price: int    # units with no known receipt cost at this point, valued at the retail price


def _big(column):
    # Units × đồng overflows PostgreSQL's 32-bit integer from about 2.1 billion đồng: multiply as 64-bit.
    return sa.cast(column, sa.BigInteger)


def _lot_costs(point_id: int) -> sa.Subquery:
    """(lot_id, cost_total, cost_units) of the point's receipts that state a unit cost. The sums are cast back
    to integers (PostgreSQL sums bigints as numeric), so that the division below is integer division everywhere."""
    return (sa.select(StockMovement.lot_id.label("lot_id"),
                      _big(sa.func.sum(_big(StockMovement.quantity) * StockMovement.unit_cost_vnd)).label("cost_total"),
                      _big(sa.func.sum(StockMovement.quantity)).label("cost_units"))
            .where(StockMovement.point_id == point_id, StockMovement.kind == MovementKind.RECEIPT,
                   StockMovement.unit_cost_vnd.is_not(None))
            .group_by(StockMovement.lot_id).subquery("lot_costs"))


def stock_value(point_id: int) -> StockValue:
    """The value of the point's stock on hand.

    Rule: each lot's units are valued at what this point paid for that lot, the quantity-weighted average unit
    cost of the lot's receipts *at this point* (usually one receipt, so simply its unit cost; rounded down to the
    đồng per lot). A lot that reached the point only by transfer has no receipt here: its units are valued at the
    product's current retail price, and counted in `units_at_price` so the page can say so. The retail value is
    every unit at the product's current price."""
    costs = _lot_costs(point_id)
    known = costs.c.cost_units > 0
    at_retail = _big(StockLevel.on_hand) * Product.price_vnd
    at_cost = sa.case((known, _big(StockLevel.on_hand) * costs.c.cost_total // costs.c.cost_units), else_=at_retail)
    row = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(StockLevel.on_hand), 0),
                  sa.func.coalesce(sa.func.sum(at_cost), 0),
                  sa.func.coalesce(sa.func.sum(at_retail), 0),
                  sa.func.coalesce(sa.func.sum(sa.case((known, 0), else_=StockLevel.on_hand)), 0))
        .join(Product, Product.id == StockLevel.product_id)
        .outerjoin(costs, costs.c.lot_id == StockLevel.lot_id)
        .where(StockLevel.point_id == point_id, StockLevel.on_hand > 0)).one()
    return StockValue(*(int(value) for value in row))


@dataclass(frozen=True)
class SalesDay:
    day: date
    total_vnd: int
    count: int


def _window(today: date, days: int, tz: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the `days` local calendar days ending with `today` (a day starts at local 00:00)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=zone)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def daily_sales(point_id: int, *, today: date, tz: str, days: int = 30) -> list[SalesDay]:
    """Counter sales per local day over the last `days` days (today included), oldest first, every day present
    (zero days too, so a chart shows the gaps). Only the window's (time, total) rows are read, then bucketed by
    local date here: the same code on SQLite and PostgreSQL, and at most a few thousand rows."""
    start, end = _window(today, days, tz)
    zone = ZoneInfo(tz)
    totals = {today - timedelta(days=n): [0, 0] for n in range(days)}
    rows = db.session.execute(
        sa.select(CounterSale.created_at, CounterSale.total_vnd)
        .where(CounterSale.point_id == point_id, CounterSale.created_at >= start, CounterSale.created_at < end))
    for created_at, total in rows:
        bucket = totals.get(created_at.astimezone(zone).date())
        if bucket is not None:  # defensive: the window and the buckets are the same days
            bucket[0] += total
            bucket[1] += 1
    return [SalesDay(day, total, count) for day, (total, count) in sorted(totals.items())]


@dataclass(frozen=True)
class TopProduct:
    product_id: int
    name: str
    units: int
    revenue_vnd: int


def top_products(point_id: int, *, today: date, tz: str, days: int = 30, limit: int = 5) -> list[TopProduct]:
    """The products that brought the most money at the counter over the window; ties by units, then name."""
    start, end = _window(today, days, tz)
    units = sa.func.sum(CounterSaleLine.quantity)
    revenue = sa.func.sum(_big(CounterSaleLine.quantity) * CounterSaleLine.unit_price_vnd)
    rows = db.session.execute(
        sa.select(Product.id, Product.name, units, revenue)
        .select_from(CounterSale)
        .join(CounterSaleLine, CounterSaleLine.sale_id == CounterSale.id)
        .join(Product, Product.id == CounterSaleLine.product_id)
        .where(CounterSale.point_id == point_id, CounterSale.created_at >= start, CounterSale.created_at < end)
        .group_by(Product.id, Product.name)
        .order_by(revenue.desc(), units.desc(), Product.name, Product.id)
        .limit(limit))
    return [TopProduct(product_id, name, int(n), int(money)) for product_id, name, n, money in rows]
