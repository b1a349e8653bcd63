import json

import sqlalchemy as sa

from shop.extensions import db
from shop.inventory.services import adjust_stock
from tests.factories import make_point
from tests.inventory.conftest import receive


def test_verify_passes_on_consistent_books_and_reports_a_tampered_level(app, runner, manager, point, product):
    receipt = receive(point, product, manager, quantity=12)
    adjust_stock((point, product, receipt.lot), delta=-2, reason="damaged", actor=manager)
    db.session.commit()
    result = runner.invoke(args=["inventory", "verify"])
    assert result.exit_code == 0, result.output
    assert "no difference" in result.output
    # Someone edits a level behind the ledger's back: the check must notice.
    db.session.execute(sa.text("UPDATE stock_level SET on_hand = on_hand + 5"))
    db.session.commit()
    result = runner.invoke(args=["inventory", "verify"])
    assert result.exit_code == 1
    assert "DN-XL-01" in result.output and "on hand 15, ledger says 10" in result.output


# --- flask inventory alerts ------------------------------------------------------------------------------------

def _stock_with_alerts(manager, point, product):
    """DN-XL-01 holds 3 units of a lot expiring in 10 days: low stock (3 < 5) and an expiring lot."""
    receive(point, product, manager, lot_code="L-10", quantity=3, expires_in_days=10)
    db.session.commit()


def test_alerts_lists_each_point_with_its_alerts(app, runner, manager, point, product):
    _stock_with_alerts(manager, point, product)
    make_point("DN-BH-01")  # open, nothing on the shelf: no alert
    result = runner.invoke(args=["inventory", "alerts"])
    assert result.exit_code == 0, result.output
    assert "DN-XL-01" in result.stdout and "DN-BH-01" not in result.stdout
    assert "low stock     Hạt điều rang muối: 3 available (alert below 5, default)" in result.stdout
    assert "lot L-10: 3 on the shelf, expires" in result.stdout and "(in 10 days)" in result.stdout
    assert "2 point(s) checked, 1 with alerts, 2 alert(s) in total." in result.stdout


def test_alerts_days_option_narrows_the_expiry_window(app, runner, manager, point, product):
    _stock_with_alerts(manager, point, product)
    result = runner.invoke(args=["inventory", "alerts", "--days", "5"])
    assert result.exit_code == 0, result.output
    assert "L-10" not in result.stdout and "low stock" in result.stdout


def test_alerts_for_one_point_as_json(app, runner, manager, point, product):
    _stock_with_alerts(manager, point, product)
    result = runner.invoke(args=["inventory", "alerts", "--point", "dn-xl-01", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    [entry] = report["points"]
    assert (entry["code"], entry["alert_count"]) == ("DN-XL-01", 2)
    assert [(lot["lot_code"], lot["days_left"], lot["expired"]) for lot in entry["expiring_lots"]] == [
        ("L-10", 10, False)]
    assert [(item["product_name"], item["available"]) for item in entry["low_stock"]] == [("Hạt điều rang muối", 3)]


def test_alerts_for_an_unknown_point_exits_1(app, runner, point):
    db.session.commit()
    result = runner.invoke(args=["inventory", "alerts", "--point", "DN-XX-99"])
    assert result.exit_code == 1
    assert "Error: no sales point has the code 'DN-XX-99'." in result.output


def test_alerts_over_many_points_shows_progress_on_stderr_only(app, runner, manager, product):
    for n in range(8):
        receive(make_point(f"DN-A{n:02d}"), product, manager, lot_code=f"L{n}", quantity=2)
    db.session.commit()
    result = runner.invoke(args=["inventory", "alerts", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["points"]) == 8
    assert "Checking points" in result.stderr
