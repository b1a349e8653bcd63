"""Counter sales (FEFO, all or nothing, refusals) and stock counts."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.certification.services import withdraw_certificate
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory import queries, services
from shop.inventory.models import (
    CounterSale,
    CounterSaleLine,
    Lot,
    MovementKind,
    PaymentMethod,
    StockLevel,
    StockMovement,
)
from shop.inventory.services import record_count, sell_at_counter
from shop.sales_points.models import PointStatus
from tests.factories import make_certificate, make_point, make_product, recall_lot
from tests.inventory.conftest import receive


def on_hand_by_lot(point) -> dict[str, int]:
    return {row.lot.lot_code: row.on_hand for row in queries.stock_for_point(point)}


def rows(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_sale_takes_the_lot_that_expires_first_then_the_next(point, product, manager):
    receive(point, product, manager, lot_code="LATE", quantity=5, expires_in_days=200)
    receive(point, product, manager, lot_code="SOON", quantity=3, expires_in_days=20)
    receive(point, product, manager, lot_code="FOREVER", quantity=9, expires_in_days=None)
    sale = sell_at_counter(point, [(product, 4)], payment_method="cash", actor=manager)
    db.session.commit()
    assert [(line.lot_code, line.quantity, line.unit_price_vnd) for line in sale.lines] == [
        ("SOON", 3, 120_000), ("LATE", 1, 120_000)]
    assert sale.total_vnd == 480_000 and sale.payment_method == PaymentMethod.CASH
    assert sale.number == "DN-XL-01-000001"
    assert on_hand_by_lot(point) == {"SOON": 0, "LATE": 4, "FOREVER": 9}
    sales_rows = db.session.scalars(sa.select(StockMovement).where(StockMovement.kind == MovementKind.COUNTER_SALE))
    assert sorted((m.quantity, m.reference) for m in sales_rows) == [(-3, sale.number), (-1, sale.number)]
    # The price on the receipt is the price of the day, kept when the catalogue changes.
    product.price_vnd = 150_000
    second = sell_at_counter(point, [(product, 5)], payment_method="card", actor=manager)
    assert second.number == "DN-XL-01-000002"
    assert [(line.lot_code, line.quantity) for line in second.lines] == [("LATE", 4), ("FOREVER", 1)]
    assert db.session.get(CounterSale, sale.id).total_vnd == 480_000 and second.total_vnd == 750_000
    assert queries.verify_ledger() == []


def test_a_sale_never_takes_a_recalled_lot(point, product, manager):
    receive(point, product, manager, lot_code="RECALLED", quantity=5, expires_in_days=10)
    receive(point, product, manager, lot_code="GOOD", quantity=2, expires_in_days=100)
    recall_lot(db.session.scalar(sa.select(Lot).where(Lot.lot_code == "RECALLED")), reason="Nhiễm khuẩn")
    assert queries.available_quantity(point.id, product.id, today()) == 2
    with pytest.raises(DomainError) as error:
        sell_at_counter(point, [(product, 3)], payment_method="cash", actor=manager)
    assert error.value.code == "insufficient_stock"
    sale = sell_at_counter(point, [(product, 2)], payment_method="cash", actor=manager)
    assert [line.lot_code for line in sale.lines] == ["GOOD"]
    with pytest.raises(DomainError) as error:  # nor may it be received again
        receive(point, product, manager, lot_code="RECALLED", quantity=1, expires_in_days=10)
    assert error.value.code == "lot_recalled"


def test_a_sale_never_takes_an_expired_lot(point, product, manager, monkeypatch):
    receive(point, product, manager, lot_code="SHORT", quantity=5, expires_in_days=2)
    receive(point, product, manager, lot_code="LONG", quantity=1, expires_in_days=100)
    monkeypatch.setattr(services, "today", lambda: today() + timedelta(days=3))
    with pytest.raises(DomainError) as error:
        sell_at_counter(point, [(product, 2)], payment_method="cash", actor=manager)
    assert error.value.code == "insufficient_stock"
    assert queries.available_quantity(point.id, product.id, today() + timedelta(days=3)) == 1
    assert queries.available_quantity(point.id, product.id, today() + timedelta(days=2)) == 6  # last day still sold
    sale = sell_at_counter(point, [(product, 1)], payment_method="cash", actor=manager)
    assert [line.lot_code for line in sale.lines] == ["LONG"]


def test_a_sale_refuses_a_product_whose_certificate_was_withdrawn(point, manager):
    product = make_product(stars=None)
    certificate = make_certificate(product, stars=3)
    receive(point, product, manager, quantity=5)
    withdraw_certificate(certificate, decision_no="7/QĐ-UBND", reason="Không duy trì tiêu chí", actor=manager)
    with pytest.raises(DomainError) as error:
        sell_at_counter(point, [(product, 1)], payment_method="cash", actor=manager)
    assert error.value.code == "no_qualifying_basis"
    assert on_hand_by_lot(point) == {"L1": 5} and rows(CounterSale) == 0


def test_a_sale_is_all_or_nothing(point, product, manager):
    other = make_product(name="Mật ong rừng", price_vnd=200_000)
    receive(point, product, manager, lot_code="A", quantity=5)
    receive(point, other, manager, lot_code="B", quantity=1)
    db.session.commit()
    before = (rows(StockMovement), rows(CounterSale), rows(CounterSaleLine))
    with pytest.raises(DomainError) as error:
        sell_at_counter(point, [(product, 2), (other, 2)], payment_method="cash", actor=manager)
    assert error.value.code == "insufficient_stock"
    assert (rows(StockMovement), rows(CounterSale), rows(CounterSaleLine)) == before
    assert on_hand_by_lot(point) == {"A": 5, "B": 1}
    db.session.rollback()  # what the caller does; nothing was pending anyway
    assert on_hand_by_lot(point) == {"A": 5, "B": 1}


def test_a_sale_undoes_its_own_updates_when_a_later_line_finds_the_stock_gone(point, product, manager, monkeypatch):
    # The plan is made from a read; another transaction may sell in between. Simulate it for one attempt.
    other = make_product(name="Mật ong rừng")
    receive(point, product, manager, lot_code="A", quantity=5)
    receive(point, other, manager, lot_code="B", quantity=1)
    real_plan = services._plan_fefo
    calls = []

    def stale_plan(*args):
        calls.append(args)
        plan = real_plan(*args)
        if len(calls) == 1:  # the first time, someone else takes lot B right after we planned
            db.session.execute(sa.update(StockLevel).where(StockLevel.lot_id == plan[-1][1].id).values(on_hand=0))
        return plan

    monkeypatch.setattr(services, "_plan_fefo", stale_plan)
    with pytest.raises(DomainError) as error:
        sell_at_counter(point, [(product, 2), (other, 1)], payment_method="cash", actor=manager)
    assert error.value.code == "insufficient_stock" and len(calls) == 2
    assert on_hand_by_lot(point) == {"A": 5, "B": 0}  # A was taken back; B is the simulated outside change


@pytest.mark.parametrize("lines, payment, code", [
    ("zero", "cash", "invalid_quantity"), ("negative", "cash", "invalid_quantity"),
    ("text", "cash", "invalid_quantity"), ("empty", "cash", "empty_sale"), ("ok", "cheque", "invalid_payment_method"),
])
def test_a_sale_refuses_bad_input(point, product, manager, lines, payment, code):
    receive(point, product, manager, quantity=5)
    given = {"zero": [(product, 0)], "negative": [(product, -1)], "text": [(product, "1")], "empty": [],
             "ok": [(product, 1)]}[lines]
    with pytest.raises(DomainError) as error:
        sell_at_counter(point, given, payment_method=payment, actor=manager)
    assert error.value.code == code
    assert on_hand_by_lot(point) == {"L1": 5} and rows(CounterSale) == 0


def test_a_suspended_point_does_not_sell(point, product, manager):
    receive(point, product, manager, quantity=5)
    point.status = PointStatus.SUSPENDED
    with pytest.raises(DomainError) as error:
        sell_at_counter(point, [(product, 1)], payment_method="cash", actor=manager)
    assert error.value.code == "point_not_open"


def test_sale_numbers_are_per_point(point, product, manager):
    other_point = make_point("DN-LK-01")
    receive(point, product, manager, quantity=5)
    receive(other_point, product, manager, quantity=5)
    numbers = [sell_at_counter(p, [(product, 1)], payment_method="bank_transfer", actor=manager).number
               for p in (point, other_point, point)]
    assert numbers == ["DN-XL-01-000001", "DN-LK-01-000001", "DN-XL-01-000002"]


def test_a_count_turns_differences_into_count_corrections(point, product, manager):
    receive(point, product, manager, lot_code="A", quantity=10)
    receive(point, product, manager, lot_code="B", quantity=4)
    lots = {lot.lot_code: lot.id for lot in db.session.scalars(sa.select(Lot))}
    movements = record_count(point, {(product.id, lots["A"]): 8, (product.id, lots["B"]): 4}, actor=manager)
    assert [(m.lot_id, m.quantity, m.reason) for m in movements] == [(lots["A"], -2, "count_correction")]
    assert on_hand_by_lot(point) == {"A": 8, "B": 4}
    movements = record_count(point, {(product.id, lots["A"]): 9, (product.id, lots["B"]): 0}, actor=manager)
    assert sorted(m.quantity for m in movements) == [-4, 1]
    assert on_hand_by_lot(point) == {"A": 9, "B": 0}
    assert queries.verify_ledger() == []


def test_a_count_with_a_bad_line_changes_nothing(point, product, manager):
    receive(point, product, manager, lot_code="A", quantity=10)
    lot = db.session.scalar(sa.select(Lot))
    for bad in ({(product.id, lot.id): -1}, {(product.id, lot.id): 2.5}, {(product.id + 999, lot.id): 3}):
        with pytest.raises(DomainError):
            record_count(point, bad, actor=manager)
    db.session.execute(sa.update(StockLevel).values(reserved=6))
    db.session.expire_all()
    with pytest.raises(DomainError) as error:
        record_count(point, {(product.id, lot.id): 5}, actor=manager)
    assert error.value.code == "below_reserved"
    assert on_hand_by_lot(point) == {"A": 10} and rows(StockMovement) == 1


def test_a_count_of_a_lot_found_at_a_point_that_had_none_creates_its_level(point, product, manager):
    receive(point, product, manager, lot_code="A", quantity=2)
    lot = db.session.scalar(sa.select(Lot))
    other_point = make_point("DN-LK-01")
    [movement] = record_count(other_point, {(product.id, lot.id): 3}, actor=manager)
    assert (movement.point_id, movement.quantity) == (other_point.id, 3)
    assert on_hand_by_lot(other_point) == {"A": 3} and queries.verify_ledger() == []
    assert record_count(other_point, {(product.id, lot.id): 3}, actor=manager) == []  # no difference, no row


def test_a_count_is_refused_when_the_stock_moved_while_counting(point, product, manager, monkeypatch):
    receive(point, product, manager, lot_code="A", quantity=10)
    lot = db.session.scalar(sa.select(Lot))
    real_apply = services._apply

    def sale_in_between(changes):
        db.session.execute(sa.update(StockLevel).values(on_hand=StockLevel.on_hand - 1))  # someone sells one
        return real_apply(changes)

    monkeypatch.setattr(services, "_apply", sale_in_between)
    with pytest.raises(DomainError) as error:
        record_count(point, {(product.id, lot.id): 7}, actor=manager)
    assert error.value.code == "stock_changed"
    assert on_hand_by_lot(point) == {"A": 9} and rows(StockMovement) == 1  # only the simulated sale changed it


def test_a_count_sheet_applies_only_to_the_stock_it_was_printed_with(point, product, manager):
    receive(point, product, manager, lot_code="A", quantity=10)
    lot = db.session.scalar(sa.select(Lot))
    key = (product.id, lot.id)
    sell_at_counter(point, [(product, 1)], payment_method="cash", actor=manager)  # after the sheet was printed
    with pytest.raises(DomainError) as error:
        record_count(point, {key: 8}, actor=manager, counted_against={key: 10})
    assert error.value.code == "stock_changed"
    assert on_hand_by_lot(point) == {"A": 9}
    [movement] = record_count(point, {key: 8}, actor=manager, counted_against={key: 9})
    assert movement.quantity == -1
