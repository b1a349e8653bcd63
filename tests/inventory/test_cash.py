"""shop.inventory.cash: what the counter can sell, and the day's sales and cash in the shop's timezone."""
from datetime import UTC, date, datetime

import sqlalchemy as sa

from shop.certification.models import Certificate
from shop.certification.services import withdraw_certificate
from shop.core.clock import today
from shop.extensions import db
from shop.inventory import cash
from shop.inventory.models import CounterSale, PaymentMethod
from shop.inventory.services import return_counter_sale, sell_at_counter
from tests.factories import make_product, recall_lot
from tests.inventory.conftest import receive

TZ = "Asia/Ho_Chi_Minh"


def test_a_day_runs_from_midnight_to_midnight_in_vietnam():
    start, end = cash.day_bounds(date(2026, 11, 24), TZ)
    assert (start, end) == (datetime(2026, 11, 23, 17, tzinfo=UTC), datetime(2026, 11, 24, 17, tzinfo=UTC))
    assert cash.day_of(datetime(2026, 11, 24, 17, 30, tzinfo=UTC), TZ) == date(2026, 11, 25)


def _sale_at(point, product, manager, moment: datetime, method="cash", quantity=1) -> CounterSale:
    sale = sell_at_counter(point, [(product, quantity)], payment_method=method, actor=manager)
    sale.created_at = moment  # the receipt's time, as if rung up then
    db.session.flush()
    return sale


def test_a_late_evening_sale_counts_on_its_own_day_not_the_next(point, product, manager):
    receive(point, product, manager, quantity=10)
    evening = _sale_at(point, product, manager, datetime(2026, 11, 24, 16, 30, tzinfo=UTC))   # 23:30 in Vietnam
    after_midnight = _sale_at(point, product, manager, datetime(2026, 11, 24, 17, 30, tzinfo=UTC))  # 00:30 next day
    db.session.commit()
    assert [s.number for s in cash.sales_of_day(point.id, date(2026, 11, 24), TZ)] == [evening.number]
    assert [s.number for s in cash.sales_of_day(point.id, date(2026, 11, 25), TZ)] == [after_midnight.number]
    # UTC would have put both on the 24th.
    assert cash.sales_of_day(point.id, date(2026, 11, 23), TZ) == []


def test_the_cash_summary_nets_refunds_per_method_and_keeps_every_method(point, product, manager):
    receive(point, product, manager, quantity=10)
    noon = datetime(2026, 11, 24, 5, tzinfo=UTC)
    paid_cash = _sale_at(point, product, manager, noon, "cash", quantity=3)
    _sale_at(point, product, manager, noon, "card", quantity=1)
    refund = return_counter_sale(paid_cash, {paid_cash.lines[0].id: 2}, reason="Khách đổi ý", restock=True,
                                 actor=manager)
    refund.created_at = noon
    db.session.commit()

    summary = cash.cash_summary(point.id, date(2026, 11, 24), TZ)
    by_method = {m.method: (m.sales_count, m.sales_vnd, m.refunds_count, m.refunds_vnd, m.net_vnd)
                 for m in summary.methods}
    assert by_method == {PaymentMethod.CASH: (1, 360_000, 1, 240_000, 120_000),
                         PaymentMethod.CARD: (1, 120_000, 0, 0, 120_000),
                         PaymentMethod.BANK_TRANSFER: (0, 0, 0, 0, 0)}
    assert (summary.sales_count, summary.sales_vnd, summary.refunds_vnd, summary.net_vnd) == (2, 480_000, 240_000,
                                                                                             240_000)
    assert summary.cash_expected_vnd == 120_000
    assert [r.number for r in summary.returns] == [refund.number]
    empty = cash.cash_summary(point.id, date(2026, 11, 25), TZ)
    assert empty.cash_expected_vnd == 0 and len(empty.methods) == 3 and empty.sales == []


def test_only_sellable_stock_is_offered_at_the_counter(point, product, manager):
    receive(point, product, manager, lot_code="GOOD", quantity=4)
    recalled = make_product(name="Hạt điều rang củi", price_vnd=100_000)
    lot = receive(point, recalled, manager, lot_code="BAD", quantity=4).lot
    withdrawn = make_product(name="Hạt điều sấy giòn", price_vnd=95_000)
    receive(point, withdrawn, manager, lot_code="W1", quantity=4)
    recall_lot(lot, reason="Nhiễm ẩm")
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.product_id == withdrawn.id))
    withdraw_certificate(certificate, decision_no="9/QĐ-UBND", reason="Vi phạm.")
    db.session.commit()

    found = cash.sellable_by_name(point.id, today(), "hat dieu")
    assert [(p.name, p.available) for p in found] == [("Hạt điều rang muối", 4)]
    assert cash.sellable_by_ids(point.id, today(), [product.id, recalled.id, withdrawn.id]).keys() == {product.id}


def test_names_starting_with_the_words_come_first_and_the_list_is_short(point, manager):
    for n in range(12):
        receive(point, make_product(name=f"Cà phê hạt điều số {n:02d}", price_vnd=50_000), manager, quantity=1)
    first = make_product(name="Điều rang muối", price_vnd=50_000)
    receive(point, first, manager, quantity=1)
    db.session.commit()
    found = cash.sellable_by_name(point.id, today(), "ĐIỀU")
    assert len(found) == cash.LOOKUP_LIMIT
    assert found[0].id == first.id
    assert cash.sellable_by_name(point.id, today(), "   ") == []
