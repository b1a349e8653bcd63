"""`flask books verify` (and its older name `flask inventory verify`): clean books built through the services give
no breach; each invariant tampered with by a raw SQL UPDATE is reported, with its ids, and exit 1."""
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from shop.books import cli as books_cli
from shop.books.queries import verify_books
from shop.extensions import db
from shop.inventory.models import Lot, StockLevel, TransferLine
from shop.inventory.services import (
    cancel_transfer,
    create_transfer,
    receive_transfer,
    return_counter_sale,
    sell_at_counter,
    ship_transfer,
)
from shop.orders import services as orders
from shop.orders.models import AllocationState, OrderAllocation, OrderLine, OrderStatus
from shop.payments import services as payments
from shop.payments.models import CashCollection
from tests.factories import make_point, make_point_manager, make_product, make_stock
from tests.orders.conftest import ADDRESS, CONTACT

VERIFY_COMMANDS = [["books", "verify"], ["inventory", "verify"]]


@dataclass
class Books:
    """Ids of the clean books (built in the test's app context)."""

    centre_level_a: int     # DN-TT-01, product A, lot A1
    xl_level_a: int         # DN-XL-01, product A, lot A1
    product_a: int
    received_line: int      # transfer line: 3 shipped, 2 accepted, 1 rejected
    received_transfer: int
    completed: int          # pay-at-pickup, handed over, cash 240 000, 1 of 2 units refunded back into stock
    completed_fulfilled: int  # its allocation still fulfilled (the refunded unit was split off as released)
    held: int               # pay-at-pickup, confirmed: holds 1 unit at DN-TT-01
    held_allocation: int


@pytest.fixture
def books(app_ctx) -> Books:
    manager = make_point_manager(email="staff@example.vn")
    centre = make_point("DN-TT-01", tier="centre")
    xl = make_point("DN-XL-01")
    a = make_product(name="Hạt điều rang muối", price_vnd=120_000)
    b = make_product(name="Mật ong rừng", price_vnd=50_000)
    make_stock(centre, a, manager, lot_code="A1", quantity=10)
    make_stock(centre, b, manager, lot_code="B1", quantity=8)
    make_stock(xl, a, manager, lot_code="A1", quantity=4)
    lot_a = db.session.scalar(sa.select(Lot).where(Lot.product_id == a.id))
    lot_b = db.session.scalar(sa.select(Lot).where(Lot.product_id == b.id))

    # Transfers: received with a rejection, cancelled in transit, a draft cancelled, one still in transit.
    received = create_transfer(centre, xl, [(a, lot_a, 3)], actor=manager)
    ship_transfer(received, actor=manager)
    receive_transfer(received, {received.lines[0].id: (2, 1, "Hộp móp")}, actor=manager)
    cancel_transfer(ship_transfer(create_transfer(centre, xl, [(b, lot_b, 2)], actor=manager), actor=manager),
                    actor=manager)
    cancel_transfer(create_transfer(centre, xl, [(b, lot_b, 1)], actor=manager), actor=manager)
    ship_transfer(create_transfer(centre, xl, [(b, lot_b, 1)], actor=manager), actor=manager)

    # Orders: handed over and partly refunded with the unit back; cancelled; shipped; cancelled after shipping;
    # delivered and refunded in full; one still holding stock.
    pickup = {"fulfilment": "pickup", "payment_method": "pay_at_pickup", "contact": CONTACT}
    delivery = {"fulfilment": "delivery", "payment_method": "cash_on_delivery", "contact": CONTACT,
                "address": ADDRESS}
    completed = orders.create_order(xl, [(a, 2)], **pickup)
    orders.mark_ready(completed, actor=manager)
    payments.record_cash(completed, 240_000, actor=manager)
    orders.hand_over(completed, completed.pickup_code, actor=manager)
    payments.refund(completed, {completed.lines[0].id: (1, True)}, amount_vnd=120_000, reason="Hỏng", actor=manager)
    orders.cancel(orders.create_order(xl, [(a, 1)], **pickup), reason="Khách hủy", actor=manager)
    orders.ship(orders.create_order(centre, [(b, 2)], **delivery), tracking_note="VNPost EB1", actor=manager)
    returned = orders.create_order(centre, [(b, 1)], **delivery)
    orders.ship(returned, tracking_note="VNPost EB2", actor=manager)
    orders.cancel(returned, reason="Không giao được", actor=manager)
    refunded = orders.create_order(centre, [(a, 1)], **delivery)
    orders.ship(refunded, tracking_note="VNPost EB3", actor=manager)
    orders.complete_delivery(refunded, actor=manager)
    payments.record_cash(refunded, 120_000, actor=manager)
    payments.refund(refunded, {refunded.lines[0].id: (1, True)}, amount_vnd=120_000, reason="Sai hàng", actor=manager)
    held = orders.create_order(centre, [(a, 1)], **pickup)

    # The counter: a sale and a return back on the shelf.
    sale = sell_at_counter(xl, [(a, 1)], payment_method="cash", actor=manager)
    return_counter_sale(sale, {sale.lines[0].id: 1}, reason="Đổi ý", restock=True, actor=manager)
    db.session.commit()
    assert (completed.status, refunded.status, held.status) == (OrderStatus.COMPLETED, OrderStatus.REFUNDED,
                                                                OrderStatus.CONFIRMED)

    def level(point) -> int:
        return db.session.scalar(sa.select(StockLevel.id).where(StockLevel.point_id == point.id,
                                                                 StockLevel.lot_id == lot_a.id))

    [fulfilled] = [x.id for x in completed.lines[0].allocations if x.state == AllocationState.FULFILLED]
    return Books(centre_level_a=level(centre), xl_level_a=level(xl), product_a=a.id,
                 received_line=received.lines[0].id, received_transfer=received.id, completed=completed.id,
                 completed_fulfilled=fulfilled, held=held.id, held_allocation=held.lines[0].allocations[0].id)


def tamper(sql: str, **params) -> None:
    assert db.session.execute(sa.text(sql), params).rowcount == 1
    db.session.commit()


def breach_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": " in line and "breach(es)" not in line]


@pytest.mark.parametrize("command", VERIFY_COMMANDS, ids=" ".join)
def test_clean_books_have_no_breach(books, runner, command):
    assert verify_books() == []
    result = runner.invoke(args=command)
    assert result.exit_code == 0, result.output
    assert "Checked 6 invariants over" in result.output and "no breach" in result.output
    assert "no difference" in result.output


def test_a_long_check_shows_its_progress_on_stderr(books, runner, monkeypatch):
    monkeypatch.setattr(books_cli, "PROGRESS_FROM", 1)
    result = runner.invoke(args=["books", "verify"])
    assert result.exit_code == 0, result.output
    assert "Checking the books" in result.stderr and "Checking" not in result.stdout


def test_on_hand_behind_the_ledgers_back(books, runner):
    tamper("UPDATE stock_level SET on_hand = on_hand + 5 WHERE id = :id", id=books.xl_level_a)
    expected = (f"ledger: stock level {books.xl_level_a} (point DN-XL-01, product {books.product_a}, lot A1) "
                "on hand 10, ledger says 5")
    for command in VERIFY_COMMANDS:
        result = runner.invoke(args=command)
        assert result.exit_code == 1, result.output
        assert breach_lines(result.stdout) == [expected]
        assert "1 breach(es) of the books" in result.stderr


def test_reserved_without_an_allocation(books, runner):
    tamper("UPDATE stock_level SET reserved = reserved + 1 WHERE id = :id", id=books.centre_level_a)
    result = runner.invoke(args=["books", "verify"])
    assert result.exit_code == 1
    assert breach_lines(result.stdout) == [
        (f"reserved: stock level {books.centre_level_a} (point DN-TT-01, product {books.product_a}, lot A1) "
         "reserved 2, allocations hold 1")]


def test_a_held_allocation_released_behind_the_levels_back(books, runner):
    tamper("UPDATE order_allocation SET state = 'released' WHERE id = :id", id=books.held_allocation)
    result = runner.invoke(args=["books", "verify"])
    assert result.exit_code == 1
    assert breach_lines(result.stdout) == [
        (f"reserved: stock level {books.centre_level_a} (point DN-TT-01, product {books.product_a}, lot A1) "
         "reserved 1, allocations hold 0")]


def test_a_handed_over_allocation_made_held_again(books, runner):
    tamper("UPDATE order_allocation SET state = 'held' WHERE id = :id", id=books.completed_fulfilled)
    result = runner.invoke(args=["books", "verify"])
    assert result.exit_code == 1
    assert breach_lines(result.stdout) == [
        (f"reserved: stock level {books.xl_level_a} (point DN-XL-01, product {books.product_a}, lot A1) "
         "reserved 0, allocations hold 1"),
        (f"order status: order {books.completed} (DH-{books.completed:06d}) is completed but it still holds 1 unit(s) "
         "and the ledger has 1 unit(s) out with it (allocations: held 1, fulfilled 0, released 1 of 2 ordered)")]


def test_a_transfer_line_accepting_more_than_shipped(books, runner):
    tamper("UPDATE transfer_line SET quantity_accepted = quantity_accepted + 1 WHERE id = :id",
           id=books.received_line)
    result = runner.invoke(args=["books", "verify"])
    assert result.exit_code == 1
    [line] = breach_lines(result.stdout)
    assert line == (
        f"transfer: transfer {books.received_transfer} (DN-TT-01-CK-000001, DN-TT-01 to DN-XL-01, received) lot A1 "
        f"(product {books.product_a}): shipped 3, accepted 3, rejected 1; ledger out 3, in 2, returned 1: "
        "accepted + rejected is not what was shipped; ledger in 2, expected 3")


def test_nothing_is_accepted_before_a_transfer_is_received(books, runner):
    [line_id] = db.session.scalars(sa.select(TransferLine.id).join(TransferLine.transfer)
                                   .where(TransferLine.quantity_accepted.is_(None), sa.text("status = 'shipped'")))
    tamper("UPDATE transfer_line SET quantity_accepted = 1 WHERE id = :id", id=line_id)
    [line] = breach_lines(runner.invoke(args=["books", "verify"]).stdout)
    assert line.startswith("transfer: transfer ") and line.endswith("units accepted or rejected while shipped")


def test_refunded_vnd_that_its_refunds_do_not_add_up_to(books, runner):
    tamper("UPDATE customer_order SET refunded_vnd = refunded_vnd + 1000 WHERE id = :id", id=books.completed)
    result = runner.invoke(args=["books", "verify"])
    assert result.exit_code == 1
    assert breach_lines(result.stdout) == [
        (f"refunds: order {books.completed} (DH-{books.completed:06d}, completed) refunded_vnd 121000, its 1 "
         "refund(s) add up to 120000, paid 240000")]


def test_more_cash_recorded_than_due(books, runner):
    tamper("UPDATE cash_collection SET amount_vnd = amount_vnd + 10000 WHERE order_id = :id", id=books.completed)
    result = runner.invoke(args=["books", "verify"])
    assert result.exit_code == 1
    assert breach_lines(result.stdout) == [
        (f"cash: order {books.completed} (DH-{books.completed:06d}, pay_at_pickup) cash recorded 250000 for a total "
         "of 240000, paid_vnd 240000")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CashCollection)) == 2


def test_an_order_cancelled_behind_its_allocations_back(books, runner):
    tamper("UPDATE customer_order SET status = 'cancelled' WHERE id = :id", id=books.held)
    result = runner.invoke(args=["books", "verify"])
    assert result.exit_code == 1
    assert breach_lines(result.stdout) == [
        (f"order status: order {books.held} (DH-{books.held:06d}) is cancelled but it still holds 1 unit(s) "
         "(allocations: held 1, fulfilled 0, released 0 of 1 ordered)")]


def test_a_handed_over_order_set_back_to_ready(books, runner):
    tamper("UPDATE customer_order SET status = 'ready_for_pickup' WHERE id = :id", id=books.completed)
    [line] = breach_lines(runner.invoke(args=["books", "verify"]).stdout)
    assert line.startswith(f"order status: order {books.completed} (DH-{books.completed:06d}) is ready_for_pickup "
                           "but 1 unit(s) already left the shelf")


def test_an_allocation_that_no_longer_covers_its_line(books, runner):
    [allocation] = db.session.scalars(sa.select(OrderAllocation.id).join(OrderLine)
                                      .where(OrderLine.order_id == books.held))
    tamper("UPDATE order_line SET quantity = 2 WHERE order_id = :id", id=books.held)
    [line] = breach_lines(runner.invoke(args=["books", "verify"]).stdout)
    assert allocation == books.held_allocation
    assert "is confirmed but 1 line(s) whose allocations do not add up to the quantity ordered" in line


def test_units_handed_over_without_their_ledger_row(books, runner):
    tamper("UPDATE stock_movement SET reference = 'PGH-X' WHERE kind = 'order_fulfilment' AND reference = :number",
           number=f"DH-{books.completed:06d}")
    [line] = breach_lines(runner.invoke(args=["books", "verify"]).stdout)
    assert line == (f"order status: order {books.completed} (DH-{books.completed:06d}) is completed but the ledger has "
                    "-1 unit(s) out with it (allocations: held 0, fulfilled 1, released 1 of 2 ordered)")
