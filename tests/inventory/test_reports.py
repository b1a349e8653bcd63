"""The dashboard's figures: what the shelf is worth, sales per Vietnamese calendar day, best sellers."""
from datetime import UTC, date, datetime, timedelta

from shop.core.clock import today
from shop.extensions import db
from shop.inventory.reports import daily_sales, stock_value, top_products
from shop.inventory.services import create_transfer, receive_transfer, sell_at_counter, ship_transfer
from tests.factories import make_point, make_product
from tests.inventory.conftest import receive

VN = "Asia/Ho_Chi_Minh"


def test_stock_value_uses_each_lots_receipt_cost_and_the_retail_price(manager, point, product):
    receive(point, product, manager, lot_code="L1", quantity=10, unit_cost_vnd=80_000)
    receive(point, product, manager, lot_code="L2", quantity=5, unit_cost_vnd=90_000, expires_in_days=300)
    value = stock_value(point.id)
    assert (value.units, value.cost_vnd, value.retail_vnd, value.units_at_price) == (
        15, 10 * 80_000 + 5 * 90_000, 15 * 120_000, 0)
    # The counter takes the lot expiring first (L1): 3 units at 80 000 leave the books.
    sell_at_counter(point, [(product, 3)], payment_method="cash", actor=manager)
    value = stock_value(point.id)
    assert (value.units, value.cost_vnd, value.retail_vnd) == (12, 7 * 80_000 + 5 * 90_000, 12 * 120_000)


def test_a_lot_received_twice_at_different_costs_is_valued_at_the_weighted_average(manager, point, product):
    receive(point, product, manager, lot_code="L1", quantity=10, unit_cost_vnd=80_000)
    receive(point, product, manager, lot_code="L1", quantity=30, unit_cost_vnd=100_000)
    assert stock_value(point.id).cost_vnd == 10 * 80_000 + 30 * 100_000


def test_goods_that_arrived_by_transfer_are_valued_at_the_retail_price(manager, point, product):
    other = make_point("DN-BH-01")
    lot = receive(point, product, manager, quantity=10, unit_cost_vnd=80_000).lot
    transfer = create_transfer(point, other, [(product, lot, 4)], actor=manager, note=None)
    ship_transfer(transfer, actor=manager)
    receive_transfer(transfer, {transfer.lines[0].id: (4, 0, None)}, actor=manager)
    there = stock_value(other.id)
    assert (there.units, there.cost_vnd, there.retail_vnd, there.units_at_price) == (4, 4 * 120_000, 4 * 120_000, 4)
    assert stock_value(point.id).cost_vnd == 6 * 80_000


def test_an_empty_point_is_worth_nothing(point):
    value = stock_value(point.id)
    assert (value.units, value.cost_vnd, value.retail_vnd, value.units_at_price) == (0, 0, 0, 0)


def _sale_at(point, product, manager, quantity: int, when: datetime):
    sale = sell_at_counter(point, [(product, quantity)], payment_method="cash", actor=manager)
    sale.created_at = when  # the sale as if rung up at that moment (the ledger row is not what we read here)
    db.session.flush()
    return sale


def test_daily_sales_has_every_day_of_the_window_and_cuts_days_at_vietnamese_midnight(manager, point, product):
    receive(point, product, manager, quantity=50)
    day = date(2026, 3, 10)
    _sale_at(point, product, manager, 1, datetime(2026, 3, 9, 17, 30, tzinfo=UTC))   # 00:30 on 10/3 in Vietnam
    _sale_at(point, product, manager, 2, datetime(2026, 3, 9, 16, 59, tzinfo=UTC))   # 23:59 on 9/3
    _sale_at(point, product, manager, 3, datetime(2026, 3, 10, 2, 0, tzinfo=UTC))    # 09:00 on 10/3
    _sale_at(point, product, manager, 4, datetime(2026, 3, 3, 16, 59, tzinfo=UTC))   # 23:59 on 3/3: before the window
    _sale_at(point, product, manager, 5, datetime(2026, 3, 10, 17, 0, tzinfo=UTC))   # 00:00 on 11/3: after it
    days = daily_sales(point.id, today=day, tz=VN, days=7)
    assert [d.day for d in days] == [date(2026, 3, 4) + timedelta(days=n) for n in range(7)]
    by_day = {d.day: (d.total_vnd, d.count) for d in days}
    assert by_day[date(2026, 3, 10)] == (4 * 120_000, 2)
    assert by_day[date(2026, 3, 9)] == (2 * 120_000, 1)
    assert all(by_day[date(2026, 3, n)] == (0, 0) for n in range(4, 9))


def test_daily_sales_of_thirty_days_shows_todays_sale_and_only_this_points(manager, point, product):
    other = make_point("DN-BH-01")
    receive(point, product, manager, quantity=10)
    receive(other, product, manager, quantity=10)
    sell_at_counter(point, [(product, 2)], payment_method="card", actor=manager)
    sell_at_counter(other, [(product, 5)], payment_method="cash", actor=manager)
    days = daily_sales(point.id, today=today(), tz=VN)
    assert len(days) == 30 and days[-1].day == today() and days[0].day == today() - timedelta(days=29)
    assert (days[-1].total_vnd, days[-1].count) == (240_000, 1)
    assert sum(d.total_vnd for d in days) == 240_000


def test_top_products_rank_by_revenue_then_units_within_the_window(manager, point, product):
    honey = make_product(name="Mật ong", price_vnd=50_000)
    tea = make_product(name="Trà xanh", price_vnd=30_000)
    for item in (product, honey, tea):
        receive(point, item, manager, quantity=20)
    sell_at_counter(point, [(product, 1), (honey, 3)], payment_method="cash", actor=manager)   # 120 000 / 150 000
    sell_at_counter(point, [(tea, 4)], payment_method="cash", actor=manager)                   # 120 000 in 4 units
    _sale_at(point, product, manager, 10, datetime.now(UTC) - timedelta(days=40))                # too old to count
    top = top_products(point.id, today=today(), tz=VN)
    assert [(t.name, t.units, t.revenue_vnd) for t in top] == [
        ("Mật ong", 3, 150_000), ("Trà xanh", 4, 120_000), ("Hạt điều rang muối", 1, 120_000)]
    assert [t.name for t in top_products(point.id, today=today(), tz=VN, limit=1)] == ["Mật ong"]
