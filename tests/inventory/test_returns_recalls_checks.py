"""Customer returns at the counter, recalls pulled from every point, and what a transfer checks at each end."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.certification.queries import current_certificate
from shop.certification.services import withdraw_certificate
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory import queries
from shop.inventory.models import CounterSaleLine, Lot, MovementKind, StockMovement
from shop.inventory.services import (
    create_transfer,
    receive_transfer,
    reserve_stock,
    return_counter_sale,
    sell_at_counter,
    ship_transfer,
)
from shop.sales_points.queries import product_ids_at
from shop.sales_points.services import change_point_status
from tests.factories import make_point, recall_lot
from tests.inventory.conftest import receive


def on_hand(point) -> dict[str, int]:
    return {row.lot.lot_code: row.on_hand for row in queries.stock_for_point(point)}


def rows(point, kind: MovementKind) -> list[tuple[int, str | None]]:
    return [(m.quantity, m.reference) for m in db.session.scalars(
        sa.select(StockMovement).where(StockMovement.point_id == point.id, StockMovement.kind == kind)
        .order_by(StockMovement.id))]


@pytest.fixture
def sale(point, product, manager):
    receive(point, product, manager, lot_code="A", quantity=5)
    sale = sell_at_counter(point, [(product, 3)], payment_method="cash", actor=manager)
    db.session.commit()
    return sale


# --------------------------------------------------------------------------------------------------- returns

def test_a_return_puts_the_units_back_on_the_shelf_and_refunds_the_price_paid(sale, point, manager):
    line = sale.lines[0]
    returned = return_counter_sale(sale, {line.id: 2}, reason="Khách đổi ý", restock=True, actor=manager)
    db.session.commit()
    assert returned.number == "DN-XL-01-TH-000001"
    assert returned.refund_vnd == 2 * 120_000 and returned.payment_method == "cash"
    assert on_hand(point) == {"A": 4}
    assert rows(point, MovementKind.RETURN) == [(2, returned.number)]
    assert db.session.get(CounterSaleLine, line.id).quantity_returned == 2
    assert queries.verify_ledger() == []


def test_damaged_goods_come_back_and_are_written_off(sale, point, manager):
    returned = return_counter_sale(sale, {sale.lines[0].id: 1}, reason="Hộp bị móp", restock=False, actor=manager)
    assert on_hand(point) == {"A": 2}  # unchanged: in and straight out again
    assert rows(point, MovementKind.RETURN) == [(1, returned.number)]
    write_off = db.session.scalar(sa.select(StockMovement).where(StockMovement.kind == MovementKind.ADJUSTMENT))
    assert (write_off.quantity, write_off.reason, write_off.reference) == (-1, "damaged", returned.number)


def test_never_more_back_than_was_sold(sale, manager):
    line_id = sale.lines[0].id
    return_counter_sale(sale, {line_id: 2}, reason="Đổi ý", restock=True, actor=manager)
    with pytest.raises(DomainError) as refused:
        return_counter_sale(sale, {line_id: 2}, reason="Đổi ý", restock=True, actor=manager)
    assert refused.value.code == "more_than_sold"


@pytest.mark.parametrize("quantities, reason, code", [
    ({}, "Đổi ý", "empty_return"),
    ({"line": 0}, "Đổi ý", "empty_return"),
    ({"line": -1}, "Đổi ý", "invalid_quantity"),
    ({"line": 1}, "  ", "reason_required"),
    ({999_999: 1}, "Đổi ý", "line_mismatch"),
])
def test_bad_returns_are_refused_and_change_nothing(sale, point, manager, quantities, reason, code):
    quantities = {sale.lines[0].id if key == "line" else key: value for key, value in quantities.items()}
    with pytest.raises(DomainError) as refused:
        return_counter_sale(sale, quantities, reason=reason, restock=True, actor=manager)
    assert refused.value.code == code
    db.session.rollback()
    assert on_hand(point) == {"A": 2}


# --------------------------------------------------------------------------------------------------- recalls

def test_a_recall_pulls_the_lot_from_every_point_that_holds_it(point, product, manager):
    other = make_point("DN-BH-01")
    receive(point, product, manager, lot_code="BAD", quantity=4)
    receive(other, product, manager, lot_code="BAD", quantity=7)
    receive(other, product, manager, lot_code="GOOD", quantity=2)
    lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "BAD"))
    movements = recall_lot(lot, reason="Nhiễm khuẩn")
    db.session.commit()
    assert sorted((m.point_id, m.quantity) for m in movements) == sorted([(point.id, -4), (other.id, -7)])
    assert on_hand(point) == {"BAD": 0} and on_hand(other) == {"BAD": 0, "GOOD": 2}
    assert all(m.note == "Nhiễm khuẩn" for m in movements)
    assert queries.verify_ledger() == []
    assert [(row.lot.lot_code, row.reserved) for row in queries.stock_for_point(other)] == [("BAD", 0), ("GOOD", 0)]
    assert queries.available_quantity(other.id, product.id, today()) == 2


def test_a_lot_still_held_for_orders_is_not_pulled_alone(point, product, manager):
    """The orders holding it are cancelled first (recalls.recall does it, releasing their allocations): pulling the
    held units here would strand those orders."""
    receive(point, product, manager, lot_code="BAD", quantity=4)
    reserve_stock(point, product, 2, reference="DH-1", actor=manager)
    lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "BAD"))
    with pytest.raises(DomainError) as refused:
        recall_lot(lot, reason="Nhiễm khuẩn")
    assert refused.value.code == "lot_held_by_orders"


def test_a_recalled_lot_cannot_be_recalled_twice(point, product, manager):
    receive(point, product, manager, lot_code="BAD", quantity=1)
    lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "BAD"))
    recall_lot(lot, reason="Nhiễm khuẩn")
    with pytest.raises(DomainError) as refused:
        recall_lot(lot, reason="Lần nữa")
    assert refused.value.code == "already_recalled"


# ---------------------------------------------------------------------------------------- transfer checks

@pytest.fixture
def centre_lot(product, manager):
    centre = make_point("DN-TT-01", tier="centre")
    receive(centre, product, manager, lot_code="C1", quantity=10)
    return centre, db.session.scalar(sa.select(Lot).where(Lot.lot_code == "C1"))


def test_a_transfer_to_a_suspended_point_is_refused(centre_lot, point, product, manager):
    centre, lot = centre_lot
    change_point_status(point, "suspended", "Sửa chữa", manager)
    with pytest.raises(DomainError) as refused:
        create_transfer(centre, point, [(product, lot, 2)], actor=manager)
    assert (refused.value.code, refused.value.field) == ("point_not_open", "to_point")


def test_a_point_suspended_after_the_draft_cannot_be_shipped_to(centre_lot, point, product, manager):
    centre, lot = centre_lot
    transfer = create_transfer(centre, point, [(product, lot, 2)], actor=manager)
    change_point_status(point, "suspended", "Sửa chữa", manager)
    with pytest.raises(DomainError) as refused:
        ship_transfer(transfer, actor=manager)
    assert refused.value.code == "point_not_open"
    assert on_hand(centre) == {"C1": 10}


def test_goods_that_lost_their_basis_on_the_way_must_be_rejected(centre_lot, point, product, manager):
    centre, lot = centre_lot
    transfer = ship_transfer(create_transfer(centre, point, [(product, lot, 4)], actor=manager), actor=manager)
    certificate = current_certificate(product.id, today())
    withdraw_certificate(certificate, decision_no="99/QĐ-UBND", reason="Vi phạm", on=today())
    line = transfer.lines[0]
    with pytest.raises(DomainError) as refused:
        receive_transfer(transfer, {line.id: (4, 0, None)}, actor=manager)
    assert refused.value.code == "not_acceptable"
    receive_transfer(transfer, {line.id: (0, 4, "Sản phẩm bị thu hồi chứng nhận")}, actor=manager)
    assert on_hand(centre) == {"C1": 10} and on_hand(point) == {}
    assert queries.verify_ledger() == []


def test_an_expired_lot_cannot_be_accepted(centre_lot, point, product, manager):
    centre, _ = centre_lot
    receive(centre, product, manager, lot_code="SHORT", quantity=3, produced_days_ago=30, expires_in_days=0)
    lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "SHORT"))
    transfer = ship_transfer(create_transfer(centre, point, [(product, lot, 3)], actor=manager), actor=manager)
    db.session.execute(sa.update(Lot).where(Lot.id == lot.id).values(expiry_date=today() - timedelta(days=1)))
    db.session.expire_all()
    with pytest.raises(DomainError) as refused:
        receive_transfer(transfer, {transfer.lines[0].id: (3, 0, None)}, actor=manager)
    assert refused.value.code == "not_acceptable"


def test_received_goods_join_the_destinations_assortment(centre_lot, point, product, manager):
    centre, lot = centre_lot
    transfer = ship_transfer(create_transfer(centre, point, [(product, lot, 2)], actor=manager), actor=manager)
    receive_transfer(transfer, {transfer.lines[0].id: (2, 0, None)}, actor=manager)
    assert product.id in product_ids_at(point.id)
