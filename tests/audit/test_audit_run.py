"""`flask audit run`: snapshots per point, the progress bar, refusals, and the reads on the snapshots."""
from datetime import timedelta

import sqlalchemy as sa

from shop.accounts.models import Role
from shop.audit.checks.snapshots import (
    changes_since_previous,
    failing_now,
    latest_snapshots,
    points_to_check,
    run_checks_and_store,
)
from shop.audit.models import CheckSnapshot
from shop.core.clock import today
from shop.extensions import db
from shop.inventory.services import sell_at_counter
from tests.factories import make_point, make_product, make_stock, make_user

GOOD = {"location_types": ["shopping_centre_market"], "operator_name": "HTX Xuân Lộc",
        "operator_registration_no": "3600123456", "floor_area_m2": 40}


def _points(criteria_sets):
    staff = make_user(Role.POINT_MANAGER)
    good = make_point("DN-XL-01", **GOOD)
    product = make_product(name="Hạt điều rang muối", price_vnd=120_000)
    make_stock(good, product, staff, lot_code="HD-01", quantity=5)
    sell_at_counter(good, [(product, 1)], payment_method="cash", actor=staff)
    post_office = make_point("DN-BD-01", location_types=["post_office"])
    make_point("DN-CL-01", status="closed")
    db.session.commit()
    return good, post_office


def _snapshots():
    return list(db.session.scalars(sa.select(CheckSnapshot).order_by(CheckSnapshot.id)))


def test_run_stores_one_snapshot_per_point_not_closed(runner, criteria_sets):
    good, post_office = _points(criteria_sets)
    result = runner.invoke(args=["audit", "run"])
    assert result.exit_code == 0, result.output
    assert "Checking points against 950/QĐ-BCT" in result.stderr  # the progress bar
    assert "2 point(s) checked against 950/QĐ-BCT (8 automatic criteria)" in result.stdout
    assert "0 point(s) failing a binding criterion, 1 failing only advisory criteria." in result.stdout
    snapshots = _snapshots()
    assert {s.point_id for s in snapshots} == {good.id, post_office.id} and len({s.run_id for s in snapshots}) == 1
    by_point = {s.point_id: s for s in snapshots}
    assert by_point[good.id].failed == 0 and by_point[good.id].passed == 7  # F-01: not applicable
    bad = by_point[post_office.id].results
    assert bad["L-RULE"] == {"outcome": "pass", "binding": True, "detail": {
        "location_types": ["post_office"], "matching": ["post_office"], "not_allowed": []}}
    assert bad["M-01"]["outcome"] == "fail" and bad["M-01"]["binding"] is False


def test_run_against_920_and_for_one_point(runner, criteria_sets):
    _good, post_office = _points(criteria_sets)
    result = runner.invoke(args=["audit", "run", "--set", "920/QĐ-BCT", "--point", "dn-bd-01"])
    assert result.exit_code == 0, result.output
    assert "1 point(s) checked against 920/QĐ-BCT" in result.stdout
    assert "1 point(s) failing a binding criterion" in result.stdout and "L-RULE 1" in result.stdout
    [snapshot] = _snapshots()
    assert snapshot.point_id == post_office.id and snapshot.results["L-RULE"]["outcome"] == "fail"


def test_unknown_set_or_point_is_refused(runner, criteria_sets):
    _points(criteria_sets)
    result = runner.invoke(args=["audit", "run", "--set", "999/QĐ-BCT"])
    assert result.exit_code == 1 and "Error: no criteria set has the code '999/QĐ-BCT'" in result.output
    result = runner.invoke(args=["audit", "run", "--point", "DN-NOWHERE"])
    assert result.exit_code == 1 and "Error: no sales point has the code 'DN-NOWHERE'" in result.output
    assert _snapshots() == []


def test_run_without_any_set_is_refused(runner, app_ctx):
    result = runner.invoke(args=["audit", "run"])
    assert result.exit_code == 1 and "Error: no criteria set is loaded" in result.output


def test_load_criteria_command_is_idempotent(runner, app_ctx):
    first = runner.invoke(args=["audit", "load-criteria"])
    assert first.exit_code == 0 and "2 set(s) and 54 criteria created" in first.output
    second = runner.invoke(args=["audit", "load-criteria"])
    assert "0 set(s) and 0 criteria created" in second.output


def test_latest_snapshots_and_changes_between_runs(criteria_sets):
    good, post_office = _points(criteria_sets)
    s950 = criteria_sets["950"]
    points = points_to_check()
    assert [p.code for p in points] == ["DN-BD-01", "DN-XL-01"]
    first = run_checks_and_store(s950, points, run_id="run-1")
    assert changes_since_previous(good.id, s950.id) == []  # one run only
    # A month later nothing was sold at DN-XL-01.
    second = run_checks_and_store(s950, points, day=today() + timedelta(days=40), run_id="run-2")
    assert (first.points, second.points) == (2, 2)
    latest = latest_snapshots(s950.id)
    assert {point_id: s.run_id for point_id, s in latest.items()} == {good.id: "run-2", post_office.id: "run-2"}
    [change] = changes_since_previous(good.id, s950.id)
    assert (change.code, change.before, change.after) == ("M-SALES", "pass", "fail")
    assert changes_since_previous(post_office.id, s950.id) == []
    assert latest_snapshots(criteria_sets["920"].id) == {}
    assert [(p.code, codes) for p, _s, codes in failing_now(s950.id)] == []  # M-SALES and M-01 are advisory
    assert [(p.code, codes) for p, _s, codes in failing_now(s950.id, binding_only=False)] == [
        ("DN-BD-01", ["M-01", "M-SALES"]), ("DN-XL-01", ["M-SALES"])]
