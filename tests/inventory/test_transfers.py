"""Transfers between points: draft → shipped (in transit) → received (accepted / rejected) or cancelled."""
import pytest
import sqlalchemy as sa

from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory import queries
from shop.inventory.models import Lot, MovementKind, StockMovement, TransferStatus
from shop.inventory.services import (
    cancel_transfer,
    create_transfer,
    receive_transfer,
    sell_at_counter,
    ship_transfer,
)
from tests.factories import make_point
from tests.inventory.conftest import receive


@pytest.fixture
def centre(app_ctx):
    return make_point("DN-TT-01")


@pytest.fixture
def lot(centre, product, manager):
    receive(centre, product, manager, lot_code="L1", quantity=10)
    return db.session.scalar(sa.select(Lot).where(Lot.lot_code == "L1"))


def on_hand(point) -> dict[str, int]:
    return {row.lot.lot_code: row.on_hand for row in queries.stock_for_point(point)}


def ledger(point) -> list[tuple[str, int, str | None]]:
    rows = db.session.scalars(sa.select(StockMovement).where(StockMovement.point_id == point.id)
                              .order_by(StockMovement.id))
    return [(m.kind.value, m.quantity, m.reference) for m in rows]


def test_ship_then_receive_all_moves_the_stock_and_both_ends_see_it_in_transit(centre, point, product, lot,
                                                                                 manager):
    transfer = create_transfer(centre, point, [(product, lot, 4)], actor=manager, note="Hàng Tết")
    assert transfer.number == "DN-TT-01-CK-000001" and transfer.status == TransferStatus.DRAFT
    assert on_hand(centre) == {"L1": 10} and queries.in_transit_for(point) == []  # a draft moves nothing

    ship_transfer(transfer, actor=manager)
    db.session.commit()
    assert transfer.status == TransferStatus.SHIPPED and transfer.shipped_at is not None
    assert on_hand(centre) == {"L1": 6} and on_hand(point) == {}
    assert ledger(centre)[-1] == ("transfer_out", -4, transfer.number)
    for end in (centre, point):
        assert [(line.transfer.number, line.lot.lot_code, line.quantity_shipped)
                for line in queries.in_transit_for(end)] == [(transfer.number, "L1", 4)]
    assert queries.in_transit_for(make_point("DN-LK-01")) == []
    assert queries.verify_ledger() == []

    line = transfer.lines[0]
    receive_transfer(transfer, {line.id: (4, 0, None)}, actor=manager)
    db.session.commit()
    assert transfer.status == TransferStatus.RECEIVED and transfer.received_at is not None
    assert (line.quantity_accepted, line.quantity_rejected) == (4, 0)
    assert on_hand(centre) == {"L1": 6} and on_hand(point) == {"L1": 4}
    assert ledger(point) == [("transfer_in", 4, transfer.number)]
    assert queries.in_transit_for(point) == [] and queries.in_transit_for(centre) == []
    assert queries.verify_ledger() == []
    # The received units are sellable at the destination.
    sale = sell_at_counter(point, [(product, 4)], payment_method="cash", actor=manager)
    assert [(line.lot_code, line.quantity) for line in sale.lines] == [("L1", 4)]


def test_rejected_units_go_back_to_the_origin_with_their_reason(centre, point, product, lot, manager):
    transfer = ship_transfer(create_transfer(centre, point, [(product, lot, 5)], actor=manager), actor=manager)
    line = transfer.lines[0]
    receive_transfer(transfer, {line.id: (3, 2, "Hộp bị móp")}, actor=manager)
    db.session.commit()
    assert on_hand(centre) == {"L1": 7} and on_hand(point) == {"L1": 3}
    assert ledger(centre)[-2:] == [("transfer_out", -5, transfer.number), ("return", 2, transfer.number)]
    returned = db.session.scalar(sa.select(StockMovement).where(StockMovement.kind == MovementKind.RETURN))
    assert returned.note == "Hộp bị móp" and line.rejection_reason == "Hộp bị móp"
    assert queries.verify_ledger() == []


@pytest.mark.parametrize("accepted, rejected, reason, code", [
    (5, 1, "Vỡ", "quantity_mismatch"),   # more than was shipped
    (3, 0, None, "quantity_mismatch"),   # units unaccounted for
    (6, 0, None, "quantity_mismatch"),
    (4, 1, "  ", "reason_required"),     # rejection without a reason
    (-1, 6, "Vỡ", "invalid_quantity"),
    (2.5, 2.5, "Vỡ", "invalid_quantity"),
])
def test_receiving_refuses_quantities_that_do_not_add_up(centre, point, product, lot, manager, accepted, rejected,
                                                         reason, code):
    transfer = ship_transfer(create_transfer(centre, point, [(product, lot, 5)], actor=manager), actor=manager)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        receive_transfer(transfer, {transfer.lines[0].id: (accepted, rejected, reason)}, actor=manager)
    assert refused.value.code == code
    db.session.rollback()
    assert transfer.status == TransferStatus.SHIPPED and on_hand(point) == {} and on_hand(centre) == {"L1": 5}


def test_receiving_refuses_a_missing_line_and_a_second_receipt(centre, point, product, lot, manager):
    transfer = ship_transfer(create_transfer(centre, point, [(product, lot, 5)], actor=manager), actor=manager)
    with pytest.raises(DomainError) as refused:
        receive_transfer(transfer, {}, actor=manager)
    assert refused.value.code == "line_missing"
    receive_transfer(transfer, {transfer.lines[0].id: (5, 0, None)}, actor=manager)
    with pytest.raises(DomainError) as refused:
        receive_transfer(transfer, {transfer.lines[0].id: (5, 0, None)}, actor=manager)
    assert refused.value.code == "not_shipped" and on_hand(point) == {"L1": 5}


def test_a_transfer_to_the_same_point_or_with_bad_quantities_is_refused(centre, product, lot, manager):
    with pytest.raises(DomainError) as refused:
        create_transfer(centre, centre, [(product, lot, 1)], actor=manager)
    assert refused.value.code == "same_point" and refused.value.field == "to_point"
    other = make_point("DN-VC-01")
    for quantity in (0, -3, 1.5, "2", True):
        with pytest.raises(DomainError) as refused:
            create_transfer(centre, other, [(product, lot, quantity)], actor=manager)
        assert refused.value.code == "invalid_quantity"
    with pytest.raises(DomainError) as refused:
        create_transfer(centre, other, [], actor=manager)
    assert refused.value.code == "empty_transfer"


def test_shipping_more_than_is_available_is_refused_and_moves_nothing(centre, point, product, lot, manager):
    receive(centre, product, manager, lot_code="L2", quantity=3, expires_in_days=300)
    lot2 = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "L2"))
    transfer = create_transfer(centre, point, [(product, lot, 5), (product, lot2, 4)], actor=manager)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        ship_transfer(transfer, actor=manager)
    assert refused.value.code == "insufficient_stock"
    db.session.rollback()
    assert on_hand(centre) == {"L1": 10, "L2": 3} and transfer.status == TransferStatus.DRAFT
    # A lot the origin never had is refused too.
    with pytest.raises(DomainError) as refused:
        ship_transfer(create_transfer(point, centre, [(product, lot, 1)], actor=manager), actor=manager)
    assert refused.value.code == "insufficient_stock"


def test_cancelling_a_draft_moves_nothing_and_a_shipped_one_returns_the_goods(centre, point, product, lot, manager):
    draft = create_transfer(centre, point, [(product, lot, 2)], actor=manager)
    cancel_transfer(draft, actor=manager)
    assert draft.status == TransferStatus.CANCELLED and ledger(centre) == [("receipt", 10, "PGH-001")]

    shipped = ship_transfer(create_transfer(centre, point, [(product, lot, 6)], actor=manager), actor=manager)
    assert on_hand(centre) == {"L1": 4}
    cancel_transfer(shipped, actor=manager)
    db.session.commit()
    assert on_hand(centre) == {"L1": 10} and on_hand(point) == {}
    assert ledger(centre)[-1] == ("return", 6, shipped.number)
    assert queries.in_transit_for(centre) == [] and queries.verify_ledger() == []
    with pytest.raises(DomainError) as refused:
        ship_transfer(shipped, actor=manager)
    assert refused.value.code == "not_draft"


def test_a_received_transfer_cannot_be_cancelled(centre, point, product, lot, manager):
    transfer = ship_transfer(create_transfer(centre, point, [(product, lot, 2)], actor=manager), actor=manager)
    receive_transfer(transfer, {transfer.lines[0].id: (2, 0, None)}, actor=manager)
    with pytest.raises(DomainError) as refused:
        cancel_transfer(transfer, actor=manager)
    assert refused.value.code == "not_cancellable"
    assert transfer.status == TransferStatus.RECEIVED and on_hand(point) == {"L1": 2} and on_hand(centre) == {"L1": 8}
