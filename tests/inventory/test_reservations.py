"""Reservations for orders: FEFO, all or nothing, not sellable at the counter, fulfilment writes the ledger."""
import pytest
import sqlalchemy as sa

from shop.accounts.models import Role, User
from shop.catalog.models import Product
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory import queries
from shop.inventory.models import Lot, MovementKind, StockLevel, StockMovement
from shop.inventory.services import (
    adjust_stock,
    fulfil_reservation,
    release_reservation,
    reserve_lines,
    reserve_stock,
    sell_at_counter,
)
from shop.sales_points.models import SalesPoint
from tests.factories import make_point, make_product, make_user, recall_lot
from tests.inventory.conftest import receive, run_in_threads


def levels(point) -> dict[str, tuple[int, int]]:
    return {row.lot.lot_code: (row.on_hand, row.reserved) for row in queries.stock_for_point(point)}


def test_reservation_takes_the_lot_that_expires_first_and_skips_recalled_lots(point, product, manager):
    receive(point, product, manager, lot_code="LATE", quantity=5, expires_in_days=200)
    receive(point, product, manager, lot_code="SOON", quantity=2, expires_in_days=20)
    receive(point, product, manager, lot_code="BAD", quantity=9, expires_in_days=5)
    recall_lot(db.session.scalar(sa.select(Lot).where(Lot.lot_code == "BAD")), reason="Thu hồi")
    held = reserve_stock(point, product, 4, reference="DH-0001", actor=manager)
    db.session.commit()
    assert [(level.lot.lot_code, quantity) for level, quantity in held] == [("SOON", 2), ("LATE", 2)]
    assert levels(point) == {"SOON": (2, 2), "LATE": (5, 2), "BAD": (0, 0)}  # recalled: pulled off the shelf
    assert queries.available_quantity(point.id, product.id, today()) == 3
    # Three receipts and the recall's row; reserving moves no goods, so it writes no ledger row.
    kinds = db.session.scalars(sa.select(StockMovement.kind).order_by(StockMovement.id)).all()
    assert kinds == ["receipt", "receipt", "receipt", "recall"]


def test_reserved_stock_is_not_sold_at_the_counter_nor_written_off(point, product, manager):
    receive(point, product, manager, lot_code="A", quantity=3)
    reserve_stock(point, product, 2, reference="DH-0001", actor=manager)
    with pytest.raises(DomainError) as refused:
        sell_at_counter(point, [(product, 2)], payment_method="cash", actor=manager)
    assert refused.value.code == "insufficient_stock"
    with pytest.raises(DomainError) as refused:
        adjust_stock((point, product, db.session.scalar(sa.select(Lot))), delta=-2, reason="damaged", actor=manager)
    assert refused.value.code == "insufficient_stock"
    sell_at_counter(point, [(product, 1)], payment_method="cash", actor=manager)
    assert levels(point) == {"A": (2, 2)}


def test_reserving_several_lines_is_all_or_nothing(point, product, manager):
    other = make_product(name="Mật ong rừng")
    receive(point, product, manager, lot_code="A", quantity=3)
    receive(point, other, manager, lot_code="B", quantity=1)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        reserve_lines(point, [(product, 3), (other, 2)], reference="DH-0002", actor=manager)
    assert refused.value.code == "insufficient_stock"
    db.session.rollback()
    assert levels(point) == {"A": (3, 0), "B": (1, 0)}
    held = reserve_lines(point, [(product, 3), (other, 1)], reference="DH-0002", actor=manager)
    assert sorted((level.lot.lot_code, quantity) for level, quantity in held) == [("A", 3), ("B", 1)]
    with pytest.raises(DomainError) as refused:
        reserve_stock(point, product, 1, reference="DH-0003", actor=manager)
    assert refused.value.code == "insufficient_stock"


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "1", True])
def test_reserving_a_bad_quantity_is_refused(point, product, manager, quantity):
    receive(point, product, manager, quantity=5)
    with pytest.raises(DomainError) as refused:
        reserve_stock(point, product, quantity, reference="DH-1", actor=manager)
    assert refused.value.code == "invalid_quantity" and levels(point) == {"L1": (5, 0)}


def test_a_product_without_a_valid_certificate_cannot_be_reserved(point, manager):
    product = make_product(stars=None)
    with pytest.raises(DomainError) as refused:
        reserve_stock(point, product, 1, reference="DH-1", actor=manager)
    assert refused.value.code == "no_qualifying_basis"


def test_release_and_fulfil(point, product, manager):
    receive(point, product, manager, lot_code="A", quantity=5)
    [(level, _)] = reserve_stock(point, product, 4, reference="DH-0004", actor=manager)
    release_reservation(level, 1, reference="DH-0004", actor=manager)
    assert levels(point) == {"A": (5, 3)}
    with pytest.raises(DomainError) as refused:
        release_reservation(level, 4, actor=manager)
    assert refused.value.code == "not_reserved"
    with pytest.raises(DomainError) as refused:
        fulfil_reservation(level, 4, reference="DH-0004", actor=manager)
    assert refused.value.code == "not_reserved" and levels(point) == {"A": (5, 3)}

    movement = fulfil_reservation(level, 3, reference="DH-0004", actor=manager)
    db.session.commit()
    assert (movement.kind, movement.quantity, movement.reference) == (MovementKind.ORDER_FULFILMENT, -3, "DH-0004")
    assert levels(point) == {"A": (2, 0)}
    assert queries.verify_ledger() == []


def test_eight_orders_reserving_one_unit_share_a_stock_of_five(shared_app):
    with shared_app.app_context():
        manager = make_user(Role.POINT_MANAGER)
        point, product = make_point("DN-XL-01"), make_product()
        receive(point, product, manager, lot_code="A", quantity=2, expires_in_days=30)
        receive(point, product, manager, lot_code="B", quantity=3, expires_in_days=60)
        db.session.commit()
        ids = point.id, product.id, manager.id

    def reserve(n):
        point, product, actor = (db.session.get(SalesPoint, ids[0]), db.session.get(Product, ids[1]),
                                 db.session.get(User, ids[2]))
        return reserve_stock(point, product, 1, reference=f"DH-{n}", actor=actor)[0][1]

    held, refusals = run_in_threads(shared_app, 8, reserve)
    assert held == [1] * 5 and refusals == ["insufficient_stock"] * 3
    with shared_app.app_context():
        assert db.session.scalar(sa.select(sa.func.sum(StockLevel.reserved))) == 5
        assert db.session.scalar(sa.select(sa.func.sum(StockLevel.on_hand))) == 5
        assert queries.verify_ledger() == []
