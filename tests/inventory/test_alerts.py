"""Alerts a manager acts on: low stock against the point's threshold, lots near or past expiry, certificates of
products on the shelf about to lapse; and the threshold setting behind them."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.certification.queries import current_certificate
from shop.certification.services import withdraw_certificate
from shop.core.audit_trail import AuditEntry
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory.alerts import (
    AlertSettings,
    alerts_for_point,
    all_alerts,
    expiring_certificates,
    expiring_lots,
    low_stock,
    thresholds_of,
)
from shop.inventory.services import sell_at_counter
from shop.inventory.settings_services import set_low_stock_threshold, set_low_stock_thresholds
from shop.sales_points.models import PointProduct
from tests.factories import make_certificate, make_point, make_product
from tests.inventory.conftest import receive

SETTINGS = AlertSettings(low_stock_threshold=5, expiry_days=30, certificate_days=90)


def test_low_stock_appears_below_the_threshold_and_goes_when_the_threshold_is_lowered(manager, point, product):
    receive(point, product, manager, quantity=6)
    assert low_stock(point.id, today(), 5) == []
    sell_at_counter(point, [(product, 2)], payment_method="cash", actor=manager)
    [alert] = low_stock(point.id, today(), 5)
    assert (alert.product_name, alert.available, alert.threshold, alert.own_threshold) == (
        "Hạt điều rang muối", 4, 5, False)
    set_low_stock_threshold(point, product, 3, actor=manager)
    assert low_stock(point.id, today(), 5) == []
    set_low_stock_threshold(point, product, 10, actor=manager)
    assert [(a.available, a.threshold, a.own_threshold) for a in low_stock(point.id, today(), 5)] == [(4, 10, True)]


def test_a_sold_out_product_alerts_unless_its_threshold_is_zero(manager, point, product):
    receive(point, product, manager, quantity=2)
    sell_at_counter(point, [(product, 2)], payment_method="cash", actor=manager)
    assert [a.available for a in low_stock(point.id, today(), 5)] == [0]
    set_low_stock_threshold(point, product, 0, actor=manager)
    assert low_stock(point.id, today(), 5) == []


def test_expired_units_do_not_count_as_available(manager, point, product):
    receive(point, product, manager, lot_code="SOON", quantity=20, expires_in_days=20)
    assert low_stock(point.id, today(), 5) == []
    # 25 days on, the lot is past its date: still on the shelf, but nothing can be sold.
    [alert] = low_stock(point.id, today() + timedelta(days=25), 5)
    assert alert.available == 0


def test_expiring_lots_lists_lots_within_the_window_and_expired_ones_still_on_the_shelf(manager, point, product):
    receive(point, product, manager, lot_code="L-10", quantity=3, expires_in_days=10)
    receive(point, product, manager, lot_code="L-30", quantity=4, expires_in_days=30)
    receive(point, product, manager, lot_code="L-200", quantity=5, expires_in_days=200)
    receive(point, product, manager, lot_code="DRY", quantity=5, expires_in_days=None)
    lots = expiring_lots(point.id, today(), 30)
    assert [(lot.lot_code, lot.on_hand, lot.days_left, lot.expired) for lot in lots] == [
        ("L-10", 3, 10, False), ("L-30", 4, 30, False)]
    later = expiring_lots(point.id, today() + timedelta(days=12), 30)
    assert [(lot.lot_code, lot.days_left, lot.expired) for lot in later] == [("L-10", -2, True), ("L-30", 18, False)]


def test_a_lot_sold_out_is_no_longer_an_expiry_alert(manager, point, product):
    receive(point, product, manager, lot_code="L-10", quantity=2, expires_in_days=10)
    sell_at_counter(point, [(product, 2)], payment_method="cash", actor=manager)
    assert expiring_lots(point.id, today(), 30) == []


def test_certificates_lapsing_within_90_days_are_listed_for_products_on_the_shelf(manager, point):
    lapsing = make_product(name="Mật ong rừng", stars=None)
    certificate = make_certificate(lapsing, stars=4, valid_until=today() + timedelta(days=60))
    lasting = make_product(name="Trà xanh")  # valid for three years
    not_here = make_product(name="Cà phê", stars=None)
    make_certificate(not_here, stars=3, valid_until=today() + timedelta(days=20))
    receive(point, lapsing, manager, quantity=3)
    receive(point, lasting, manager, quantity=3)
    [alert] = expiring_certificates(point.id, today())
    assert (alert.product_name, alert.decision_no, alert.stars, alert.valid_until, alert.days_left) == (
        "Mật ong rừng", certificate.decision_no, 4, today() + timedelta(days=60), 60)
    assert expiring_certificates(point.id, today(), within_days=30) == []


def test_a_renewed_certificate_ends_the_alert(manager, point):
    honey = make_product(name="Mật ong rừng", stars=None)
    make_certificate(honey, stars=4, decision_date=today() - timedelta(days=1000),
                     valid_until=today() + timedelta(days=60))
    receive(point, honey, manager, quantity=3)
    assert [a.days_left for a in expiring_certificates(point.id, today())] == [60]
    make_certificate(honey, stars=4, decision_date=today())  # the re-rating supersedes the old certificate
    assert expiring_certificates(point.id, today()) == []


def test_a_product_no_longer_on_the_shelf_raises_no_certificate_alert(manager, point):
    lapsing = make_product(name="Mật ong rừng", stars=None)
    make_certificate(lapsing, stars=4, valid_until=today() + timedelta(days=60))
    receive(point, lapsing, manager, quantity=1)
    sell_at_counter(point, [(lapsing, 1)], payment_method="cash", actor=manager)
    assert expiring_certificates(point.id, today()) == []


def test_alerts_for_point_combines_the_three_lists(manager, point, product):
    receive(point, product, manager, lot_code="L-10", quantity=3, expires_in_days=10)
    alerts = alerts_for_point(point, today(), SETTINGS)
    assert [a.available for a in alerts.low_stock] == [3]
    assert [lot.lot_code for lot in alerts.expiring_lots] == ["L-10"]
    assert alerts.expiring_certificates == []
    assert alerts.count == 2 and bool(alerts)


def test_all_alerts_covers_open_points_in_a_few_queries(app, manager, product):
    points = [make_point(f"DN-A{n:02d}") for n in range(12)]
    make_point("DN-CLOSED", status="suspended")
    for n, point in enumerate(points):
        receive(point, product, manager, lot_code=f"L{n}", quantity=2 + n, expires_in_days=10 + 30 * (n % 2))
    db.session.flush()
    statements = []
    engine = db.engine

    def count(*_args):
        statements.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        result = all_alerts(today(), SETTINGS)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert [point.code for point, _ in result] == [point.code for point in points]  # the suspended one left out
    assert len(statements) <= 7, f"{len(statements)} queries for 12 points"
    by_code = {point.code: alerts for point, alerts in result}
    assert [a.available for a in by_code["DN-A00"].low_stock] == [2]
    assert by_code["DN-A05"].low_stock == []  # 7 available
    assert [lot.lot_code for lot in by_code["DN-A02"].expiring_lots] == ["L2"]
    assert by_code["DN-A01"].expiring_lots == []  # expires in 40 days


def test_setting_a_threshold_adds_the_product_to_the_assortment_and_is_audited(manager, point, product):
    assert db.session.get(PointProduct, (point.id, product.id)) is None
    set_low_stock_threshold(point, product, 8, actor=manager)
    assert db.session.get(PointProduct, (point.id, product.id)).low_stock_threshold == 8
    set_low_stock_threshold(point, product, None, actor=manager)
    assert db.session.get(PointProduct, (point.id, product.id)).low_stock_threshold is None
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "inventory.low_stock_threshold_set").order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.data["threshold"], e.data["previous"]) for e in entries] == [
        (manager.id, 8, None), (manager.id, None, 8)]


@pytest.mark.parametrize("bad", [-1, 2.5, "7", True])
def test_a_threshold_must_be_a_whole_number_zero_or_more(manager, point, product, bad):
    with pytest.raises(DomainError) as refused:
        set_low_stock_threshold(point, product, bad, actor=manager)
    assert refused.value.code == "invalid_threshold"
    assert db.session.get(PointProduct, (point.id, product.id)) is None


def test_the_thresholds_form_changes_all_or_nothing(manager, point, product):
    honey = make_product(name="Mật ong")
    receive(point, product, manager, quantity=4)
    receive(point, honey, manager, quantity=9)
    with pytest.raises(DomainError):
        set_low_stock_thresholds(point, {product: 2, honey: -3}, actor=manager)
    assert [row.threshold for row in thresholds_of(point.id, today())] == [None, None]
    assert set_low_stock_thresholds(point, {product: 2, honey: None}, actor=manager) == 1
    rows = thresholds_of(point.id, today())
    assert [(row.product.name, row.threshold, row.available) for row in rows] == [
        ("Hạt điều rang muối", 2, 4), ("Mật ong", None, 9)]


def test_goods_whose_certificate_was_withdrawn_are_flagged_as_not_for_sale(runner, manager, point, product):
    receive(point, product, manager, lot_code="L1", quantity=4)
    assert alerts_for_point(point, today(), SETTINGS).unsellable == []
    withdraw_certificate(current_certificate(product.id, today()), decision_no="12/QĐ-UBND", reason="Vi phạm",
                         on=today())
    db.session.commit()
    alerts = alerts_for_point(point, today(), SETTINGS)
    assert [(item.product_name, item.on_hand) for item in alerts.unsellable] == [(product.name, 4)]
    result = runner.invoke(args=["inventory", "alerts", "--point", point.code])
    assert result.exit_code == 0 and "cannot sell" in result.output and product.name in result.output
