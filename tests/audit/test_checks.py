"""The automatic checks: each passes on good data and fails on crafted bad data, with its offenders; the bulk
check_points gives what run_checks gives per point."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.accounts.models import Role
from shop.audit.checks.automatic import check_points, run_checks
from shop.audit.criteria.services import update_criterion
from shop.audit.models import Outcome
from shop.certification.services import withdraw_certificate
from shop.core.clock import today
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory.services import fulfil_reservation, reserve_stock, sell_at_counter
from shop.traceability.models import Lot
from tests.audit.conftest import criterion
from tests.factories import make_point, make_product, make_stock, make_user

GOOD_POINT = {"location_types": ["shopping_centre_market"], "operator_name": "HTX Thương mại Xuân Lộc",
              "operator_kind": "organisation", "operator_registration_no": "3600123456", "floor_area_m2": 40}


@pytest.fixture
def staff(app_ctx):
    return make_user(Role.POINT_MANAGER, email="manager@example.vn")


@pytest.fixture
def good_point(app_ctx, staff):
    """An open point meeting every automatic check: allowed place, operator, priced certified stock, a sale."""
    point = make_point("DN-XL-01", **GOOD_POINT)
    product = make_product(name="Hạt điều rang muối", price_vnd=120_000)
    make_stock(point, product, staff, lot_code="HD-01", quantity=10)
    sell_at_counter(point, [(product, 1)], payment_method="cash", actor=staff)
    return point


def outcomes(results):
    return {code: result.outcome.value for code, result in results.items()}


def test_a_good_point_passes_every_automatic_check(criteria_sets, good_point):
    results = run_checks(good_point, criteria_sets["950"], today())
    assert set(results) == {"L-RULE", "P-RULE", "P-SHELF", "F-01", "M-01", "M-03", "M-OPEN", "M-SALES"}
    assert outcomes(results) == {"L-RULE": "pass", "P-RULE": "pass", "P-SHELF": "pass", "F-01": "not_applicable",
                                 "M-01": "pass", "M-03": "pass", "M-OPEN": "pass", "M-SALES": "pass"}
    assert results["P-RULE"].detail == {"products_on_shelf": 1, "offenders": []}
    assert results["M-SALES"].detail["counter_sales"] == 1 and results["M-SALES"].detail["days"] == 30


def test_a_post_office_point_fails_under_920_and_passes_under_950(criteria_sets):
    point = make_point("DN-BD-01", location_types=["post_office"])
    assert run_checks(point, criteria_sets["920"], today())["L-RULE"].outcome == Outcome.FAIL
    under_920 = run_checks(point, criteria_sets["920"], today())["L-RULE"].detail
    assert under_920 == {"location_types": ["post_office"], "matching": [], "not_allowed": ["post_office"]}
    assert run_checks(point, criteria_sets["950"], today())["L-RULE"].outcome == Outcome.PASS


def test_a_point_with_no_kind_of_place_fails(criteria_sets):
    point = make_point("DN-BD-02")
    assert run_checks(point, criteria_sets["950"], today())["L-RULE"].outcome == Outcome.FAIL


def test_an_uncertified_product_on_the_shelf_is_listed(criteria_sets, good_point, staff):
    lapsed = make_product(name="Bánh tráng phơi sương", price_vnd=45_000)
    make_stock(good_point, lapsed, staff, lot_code="BT-01", quantity=4, expires_in_days=None)
    certificate = db.session.scalars(
        sa.text("SELECT id FROM certificate WHERE product_id = :p").bindparams(p=lapsed.id)).one()
    db.session.execute(sa.text("UPDATE certificate SET decision_date = :d, valid_until = :u WHERE id = :c")
                       .bindparams(d=today() - timedelta(days=1200), u=today() - timedelta(days=3), c=certificate))
    result = run_checks(good_point, criteria_sets["950"], today())
    assert result["P-RULE"].outcome == Outcome.FAIL
    assert result["P-RULE"].detail["offenders"] == [
        {"product": "Bánh tráng phơi sương", "product_id": lapsed.id, "slug": lapsed.slug, "on_hand": 4}]
    assert result["P-RULE"].detail["products_on_shelf"] == 2
    # An expired certificate is not a withdrawal: the shelf is otherwise clean.
    assert result["P-SHELF"].outcome == Outcome.PASS
    # The same rule under 920 (P-05, advisory there).
    assert run_checks(good_point, criteria_sets["920"], today())["P-05"].outcome == Outcome.FAIL


def test_a_product_with_a_qualifying_basis_other_than_a_certificate_passes(criteria_sets, good_point, staff, officer):
    from shop.certification.models import QualifyingBasis

    product = make_product(name="Mít sấy", price_vnd=60_000)
    make_stock(good_point, product, staff, lot_code="MS-01", quantity=3)
    db.session.execute(sa.text("UPDATE certificate SET withdrawn_on = :d WHERE product_id = :p")
                       .bindparams(d=today() - timedelta(days=1), p=product.id))
    assert run_checks(good_point, criteria_sets["950"], today())["P-RULE"].outcome == Outcome.FAIL
    db.session.add(QualifyingBasis(product_id=product.id, criterion="local_speciality", reference="QĐ 12/2025",
                                   justification="Đặc sản địa phương.", valid_from=today() - timedelta(days=2),
                                   recorded_by_id=officer.id))
    db.session.flush()
    results = run_checks(good_point, criteria_sets["950"], today())
    assert results["P-RULE"].outcome == Outcome.PASS and results["P-SHELF"].outcome == Outcome.PASS


def test_an_expired_lot_on_the_shelf_fails_the_clean_shelf(criteria_sets, good_point, staff):
    product = make_product(name="Sữa chua", price_vnd=30_000)
    make_stock(good_point, product, staff, lot_code="SC-01", quantity=5, expires_in_days=3)
    assert run_checks(good_point, criteria_sets["950"], today() + timedelta(days=3))["P-SHELF"].outcome == Outcome.PASS
    result = run_checks(good_point, criteria_sets["950"], today() + timedelta(days=4))["P-SHELF"]
    assert result.outcome == Outcome.FAIL and result.detail["expired_lots"] == 1
    [offender] = result.detail["offenders"]
    assert (offender["product"], offender["lot"], offender["on_hand"], offender["reasons"]) == (
        "Sữa chua", "SC-01", 5, ["expired"])
    assert offender["expiry_date"] == (today() + timedelta(days=3)).isoformat()


def test_a_recalled_lot_on_the_shelf_fails_the_clean_shelf(criteria_sets, good_point):
    # recall_lot empties the shelves; units found on a shelf afterwards (a late delivery, a data error) fail.
    lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "HD-01"))
    lot.recalled_at = utcnow()
    db.session.flush()
    result = run_checks(good_point, criteria_sets["950"], today())["P-SHELF"]
    assert result.outcome == Outcome.FAIL and result.detail["recalled_lots"] == 1
    assert [(o["lot"], o["reasons"], o["on_hand"]) for o in result.detail["offenders"]] == [("HD-01", ["recalled"], 9)]


def test_a_product_whose_certificate_was_withdrawn_fails_the_clean_shelf(criteria_sets, good_point, staff, officer):
    from shop.certification.models import Certificate

    product = make_product(name="Rượu nếp than", price_vnd=90_000)
    make_stock(good_point, product, staff, lot_code="RN-01", quantity=2)
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.product_id == product.id))
    withdraw_certificate(certificate, decision_no="99/QĐ-UBND", reason="Vi phạm chất lượng.", actor=officer)
    result = run_checks(good_point, criteria_sets["950"], today())["P-SHELF"]
    assert result.outcome == Outcome.FAIL and result.detail["withdrawn_products"] == 1
    [offender] = result.detail["offenders"]
    assert offender["product"] == "Rượu nếp than" and offender["withdrawal_decision_no"] == "99/QĐ-UBND"
    assert offender["withdrawn_on"] == today().isoformat() and offender["reasons"] == ["certificate_withdrawn"]


def test_a_product_without_a_price_fails(criteria_sets, good_point, staff):
    product = make_product(name="Trà mãng cầu", price_vnd=0)
    make_stock(good_point, product, staff, lot_code="TM-01", quantity=6)
    result = run_checks(good_point, criteria_sets["950"], today())["M-03"]
    assert result.outcome == Outcome.FAIL
    assert result.detail["offenders"] == [{"product": "Trà mãng cầu", "product_id": product.id, "price_vnd": 0,
                                           "on_hand": 6}]


def test_an_operator_without_registration_number_fails(criteria_sets):
    point = make_point("DN-BD-03", **{**GOOD_POINT, "operator_registration_no": None})
    result = run_checks(point, criteria_sets["950"], today())["M-01"]
    assert result.outcome == Outcome.FAIL and result.detail["missing"] == ["operator_registration_no"]
    nobody = make_point("DN-BD-04")
    assert run_checks(nobody, criteria_sets["950"], today())["M-01"].detail["missing"] == [
        "operator_name", "operator_registration_no"]


@pytest.mark.parametrize("status", ["closed", "suspended", "planned"])
def test_a_point_that_is_not_open_fails(criteria_sets, status):
    point = make_point("DN-BD-05", status=status)
    result = run_checks(point, criteria_sets["950"], today())["M-OPEN"]
    assert result.outcome == Outcome.FAIL and result.detail == {"status": status}


def test_floor_area_against_a_threshold(criteria_sets, good_point, officer):
    area = criterion(criteria_sets["950"], "F-01")
    assert run_checks(good_point, criteria_sets["950"], today())["F-01"].detail["reason"] == "no_threshold"
    update_criterion(area, officer, params={"min_m2": 40})
    assert run_checks(good_point, criteria_sets["950"], today())["F-01"].outcome == Outcome.PASS
    update_criterion(area, officer, params={"min_m2": 41})
    result = run_checks(good_point, criteria_sets["950"], today())["F-01"]
    assert result.outcome == Outcome.FAIL and result.detail == {"floor_area_m2": 40, "min_m2": 41}
    unknown = make_point("DN-BD-06")
    result = run_checks(unknown, criteria_sets["950"], today())["F-01"]
    assert result.outcome == Outcome.FAIL and result.detail["reason"] == "unknown_area"


def test_no_sales_in_the_last_30_days_fails(criteria_sets, good_point, staff, officer):
    quiet = make_point("DN-BD-07", **GOOD_POINT)
    assert run_checks(quiet, criteria_sets["950"], today())["M-SALES"].outcome == Outcome.FAIL
    # The sale made today counts for 30 days, not 31.
    assert run_checks(good_point, criteria_sets["950"], today() + timedelta(days=29))["M-SALES"].outcome == Outcome.PASS
    late = run_checks(good_point, criteria_sets["950"], today() + timedelta(days=30))["M-SALES"]
    assert late.outcome == Outcome.FAIL and late.detail["counter_sales"] == 0
    update_criterion(criterion(criteria_sets["950"], "M-SALES"), officer, params={"days": 31})
    assert run_checks(good_point, criteria_sets["950"], today() + timedelta(days=30))["M-SALES"].outcome == Outcome.PASS


def test_a_fulfilled_online_order_counts_as_a_sale(criteria_sets, staff):
    point = make_point("DN-BD-08", **GOOD_POINT)
    product = make_product(name="Mật ong hoa cà phê", price_vnd=150_000)
    make_stock(point, product, staff, lot_code="MO-01", quantity=5)
    [(level, quantity)] = reserve_stock(point, product, 2, reference="DH-000001")
    fulfil_reservation(level, quantity, reference="DH-000001", actor=staff)
    result = run_checks(point, criteria_sets["950"], today())["M-SALES"]
    assert result.outcome == Outcome.PASS
    assert (result.detail["counter_sales"], result.detail["fulfilled_orders"]) == (0, 1)
    assert result.detail["last_sale_at"]


def test_the_bulk_check_gives_the_same_results_as_one_point_at_a_time(criteria_sets, good_point, staff):
    others = [make_point("DN-BD-10", location_types=["post_office"]), make_point("DN-BD-11", status="suspended"),
              make_point("DN-BD-12", **{**GOOD_POINT, "floor_area_m2": None})]
    product = make_product(name="Chuối sấy dẻo", price_vnd=0)
    make_stock(others[2], product, staff, lot_code="CS-01", quantity=3, expires_in_days=2)
    points = [good_point, *others]
    for criteria_set in criteria_sets.values():
        for day in (today(), today() + timedelta(days=5)):
            bulk = check_points(points, criteria_set, day)
            assert set(bulk) == {point.id for point in points}
            for point in points:
                assert bulk[point.id] == run_checks(point, criteria_set, day), (point.code, criteria_set.code)
    assert outcomes(check_points(points, criteria_sets["950"], today() + timedelta(days=5))[others[2].id])[
        "P-SHELF"] == "fail"


def test_the_bulk_check_costs_a_few_queries_whatever_the_number_of_points(app, criteria_sets, staff):
    product = make_product(name="Cà phê bột", price_vnd=80_000)
    points = [make_point(f"DN-Q-{n:02d}", **GOOD_POINT) for n in range(12)]
    for point in points:
        make_stock(point, product, staff, lot_code="CF-01", quantity=3)
    db.session.flush()
    statements = []

    def count(*_args):
        statements.append(1)

    check_points(points[:1], criteria_sets["950"], today())  # loads the set's criteria once
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        check_points(points[:2], criteria_sets["950"], today())
        few = len(statements)
        statements.clear()
        check_points(points, criteria_sets["950"], today())
        many = len(statements)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert many == few <= 12
