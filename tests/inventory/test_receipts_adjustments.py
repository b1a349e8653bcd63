"""Receipts and adjustments: each refusal leaves nothing behind; each change is exactly one ledger row."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.certification.services import withdraw_certificate
from shop.core.audit_trail import AuditEntry
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory import queries
from shop.inventory.models import Lot, MovementKind, StockLevel, StockMovement
from shop.inventory.services import adjust_stock, receive_stock
from shop.sales_points.models import PointStatus
from tests.factories import make_certificate, make_point, make_product
from tests.inventory.conftest import receive


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Lot, StockLevel, StockMovement))


def test_a_receipt_creates_the_lot_the_level_and_one_ledger_row(point, product, manager):
    movement = receive(point, product, manager, lot_code=" L-2026-01 ", quantity=24)
    db.session.commit()
    lot = db.session.scalar(sa.select(Lot))
    assert lot.lot_code == "L-2026-01" and lot.product_id == product.id
    assert movement.kind == MovementKind.RECEIPT and movement.quantity == 24
    assert movement.unit_cost_vnd == 80_000 and movement.reference == "PGH-001" and movement.actor_id == manager.id
    [row] = queries.stock_for_point(point)
    assert (row.on_hand, row.reserved, row.available, row.lot.id) == (24, 0, 24, lot.id)
    assert queries.available_quantity(point.id, product.id, today()) == 24
    assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.action == "inventory.stock_received"))


def test_a_second_receipt_of_the_same_lot_adds_to_the_same_level(point, product, manager):
    receive(point, product, manager, quantity=5)
    receive(point, product, manager, quantity=7, delivery_note="PGH-002")
    assert counts() == (1, 1, 2)
    assert queries.stock_for_point(point)[0].on_hand == 12
    assert [m.reference for m in queries.movements_for(point)] == ["PGH-002", "PGH-001"]


def test_a_non_perishable_lot_has_no_expiry(point, product, manager):
    receive(point, product, manager, expires_in_days=None)
    assert db.session.scalar(sa.select(Lot.expiry_date)) is None
    # a dated lot would be gone
    assert queries.available_quantity(point.id, product.id, today() + timedelta(days=400)) == 10


@pytest.mark.parametrize("quantity", [0, -3, 2.5, "4", None, True])
def test_a_receipt_refuses_a_quantity_that_is_not_a_positive_whole_number(point, product, manager, quantity):
    with pytest.raises(DomainError) as error:
        receive(point, product, manager, quantity=quantity)
    assert (error.value.code, error.value.field) == ("invalid_quantity", "quantity")
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize("changes, code", [
    ({"produced_days_ago": 10, "expires_in_days": -11}, "expiry_before_production"),
    ({"produced_days_ago": 100, "expires_in_days": -1}, "lot_expired"),
    ({"produced_days_ago": -1}, "invalid_production_date"),
    ({"lot_code": "  "}, "lot_code_required"),
    ({"delivery_note": ""}, "delivery_note_required"),
    ({"unit_cost_vnd": -1}, "invalid_unit_cost"),
])
def test_a_receipt_refuses_bad_lots_and_documents(point, product, manager, changes, code):
    with pytest.raises(DomainError) as error:
        receive(point, product, manager, **changes)
    assert error.value.code == code
    assert counts() == (0, 0, 0)


def test_a_receipt_refuses_a_product_without_a_certificate(point, manager):
    uncertified = make_product(stars=None)
    with pytest.raises(DomainError) as error:
        receive(point, uncertified, manager)
    assert (error.value.code, error.value.field) == ("no_qualifying_basis", "product")
    assert counts() == (0, 0, 0)


def test_a_receipt_refuses_a_product_rated_below_three_stars(point, manager):
    with pytest.raises(DomainError) as error:
        receive(point, make_product(stars=2), manager)
    assert error.value.code == "no_qualifying_basis"


def test_a_receipt_refuses_a_product_whose_certificate_was_withdrawn(point, manager):
    product = make_product(stars=None)
    certificate = make_certificate(product, stars=4)
    receive(point, product, manager, quantity=3)
    withdraw_certificate(certificate, decision_no="12/QĐ-UBND", reason="Vi phạm chất lượng", actor=manager)
    with pytest.raises(DomainError) as error:
        receive(point, product, manager, quantity=5)
    assert error.value.code == "no_qualifying_basis"
    assert queries.stock_for_point(point)[0].on_hand == 3
    assert queries.available_quantity(point.id, product.id, today()) == 0  # on the shelf but not sellable


@pytest.mark.parametrize("status", [PointStatus.CLOSED, PointStatus.SUSPENDED])
def test_a_closed_or_suspended_point_receives_nothing(product, manager, status):
    point = make_point(status=status)
    with pytest.raises(DomainError) as error:
        receive(point, product, manager)
    assert error.value.code == "point_not_open"
    assert counts() == (0, 0, 0)


def test_the_same_lot_code_must_keep_its_dates(point, product, manager):
    receive(point, product, manager, quantity=5)
    with pytest.raises(DomainError) as error:
        receive(point, product, manager, quantity=5, expires_in_days=90)
    assert error.value.code == "lot_dates_differ"
    assert counts() == (1, 1, 1)
    # The same code for another product is another lot.
    receive(point, make_product(), manager, quantity=2)
    assert counts() == (2, 2, 2)


def test_a_receipt_needs_an_actor(point, product):
    with pytest.raises(DomainError) as error:
        receive_stock(point, product, lot_code="L", production_date=today(), expiry_date=None, quantity=1,
                      unit_cost_vnd=1, delivery_note="X", actor=None)
    assert error.value.code == "actor_required"


def level_of(point, product) -> StockLevel:
    return db.session.scalar(sa.select(StockLevel).where(StockLevel.point_id == point.id,
                                                         StockLevel.product_id == product.id))


def test_an_adjustment_with_a_reason_is_one_ledger_row(point, product, manager):
    receive(point, product, manager, quantity=10)
    level = level_of(point, product)
    movement = adjust_stock(level, delta=-2, reason="damaged", note="Vỡ hộp", actor=manager)
    assert (movement.kind, movement.reason, movement.quantity, movement.note) == (
        MovementKind.ADJUSTMENT, "damaged", -2, "Vỡ hộp")
    assert level.on_hand == 8
    lot = db.session.get(Lot, level.lot_id)
    adjust_stock((point, product, lot), delta=3, reason="count_correction", actor=manager)
    assert level.on_hand == 11
    assert queries.verify_ledger() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "inventory.stock_adjusted")) == 2


@pytest.mark.parametrize("delta, reason, code", [
    (-1, None, "reason_required"), (-1, "", "reason_required"), (-1, "stolen?", "reason_required"),
    (0, "damaged", "invalid_quantity"), (1.5, "damaged", "invalid_quantity"), ("2", "lost", "invalid_quantity"),
])
def test_an_adjustment_refuses_a_missing_reason_or_a_bad_delta(point, product, manager, delta, reason, code):
    receive(point, product, manager, quantity=10)
    with pytest.raises(DomainError) as error:
        adjust_stock(level_of(point, product), delta=delta, reason=reason, actor=manager)
    assert error.value.code == code
    assert counts() == (1, 1, 1) and level_of(point, product).on_hand == 10


def test_an_adjustment_never_goes_below_zero_nor_below_reserved(point, product, manager):
    receive(point, product, manager, quantity=4)
    level = level_of(point, product)
    with pytest.raises(DomainError) as error:
        adjust_stock(level, delta=-5, reason="lost", actor=manager)
    assert error.value.code == "insufficient_stock"
    db.session.execute(sa.update(StockLevel).values(reserved=3))  # an online order holds 3 (orders come later)
    db.session.expire_all()
    with pytest.raises(DomainError):
        adjust_stock(level, delta=-2, reason="lost", actor=manager)
    adjust_stock(level, delta=-1, reason="lost", actor=manager)
    assert (level.on_hand, level.reserved) == (3, 3)
    assert counts()[2] == 2


def test_an_adjustment_of_a_lot_never_received_here_is_refused(point, product, manager):
    receive(make_point(), product, manager, quantity=4)
    lot = db.session.scalar(sa.select(Lot))
    with pytest.raises(DomainError) as error:
        adjust_stock((point, product, lot), delta=-1, reason="lost", actor=manager)
    assert error.value.code == "not_found"
    with pytest.raises(DomainError) as error:
        adjust_stock((point, make_product(), lot), delta=1, reason="count_correction", actor=manager)
    assert error.value.code == "lot_mismatch"


def test_the_ledger_is_append_only(point, product, manager):
    movement = receive(point, product, manager)
    db.session.commit()
    movement.quantity = 99
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(movement)
    with pytest.raises(RuntimeError):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(StockMovement, movement.id).quantity == 10


def test_verify_ledger_reports_a_level_that_differs_from_its_movements(point, product, manager):
    receive(point, product, manager, quantity=10)
    assert queries.verify_ledger() == []
    db.session.execute(sa.update(StockLevel).values(on_hand=7))  # someone bypassed the services
    [difference] = queries.verify_ledger()
    assert (difference.on_hand, difference.ledger_total) == (7, 10)
    db.session.execute(sa.delete(StockLevel))
    [difference] = queries.verify_ledger()
    assert (difference.on_hand, difference.ledger_total, difference.point_id) == (None, 10, point.id)
