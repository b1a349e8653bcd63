"""A recall, end to end in the domain: orders holding the lot are cancelled (and their customers emailed), the
stock leaves every point through recall ledger rows, the lot is off sale online and at every counter, a receipt
of it is refused, each point has its pull list and the department its buyers report. Every refusal changes
nothing."""
import email
import email.policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from shop.accounts.models import Role
from shop.core.clock import today
from shop.core.errors import DomainError, NotAllowed
from shop.extensions import db
from shop.inventory import queries as stock_queries
from shop.inventory.availability import availability_of_product
from shop.inventory.models import Lot, MovementKind, StockLevel, StockMovement
from shop.inventory.services import reserve_stock, sell_at_counter
from shop.orders import services as orders
from shop.orders.models import AllocationState, OrderAllocation, OrderStatus
from shop.producers.services import attach_member
from shop.recalls import queries, services
from shop.traceability.models import TraceEvent, TraceEventType
from tests.factories import make_point, make_product, make_stock, make_user
from tests.orders.conftest import ADDRESS, CONTACT

OTHER = orders.Contact(name="Trần Văn Bình", phone="+84987654321", email="binh@example.vn")


@pytest.fixture
def mail_folder(tmp_path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def app(make_app, mail_folder):
    return make_app(MAIL_FOLDER=str(mail_folder))


def mail_files(folder: Path) -> set[Path]:
    return set(folder.glob("*.eml")) if folder.exists() else set()


def read_mail(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


class World:
    """Two points; 'Hạt điều rang muối' of one producer lies in lot BAD at both (5 at XL, 4 at BH) and in lot GOOD
    at BH only (3). A second producer makes another product."""

    def __init__(self):
        self.xl = make_point("DN-XL-01", name="Điểm OCOP Xuân Lộc")
        self.bh = make_point("DN-BH-01", name="Điểm OCOP Biên Hòa")
        self.staff = make_user(Role.POINT_MANAGER, email="staff@example.vn")
        self.officer = make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        self.product = make_product(name="Hạt điều rang muối", price_vnd=120_000)
        self.owner = make_user(Role.PRODUCER, email="owner@example.vn")
        attach_member(self.product.producer, self.owner)
        self.stranger = make_user(Role.PRODUCER, email="stranger@example.vn")
        self.other_product = make_product(name="Mật ong rừng")
        attach_member(self.other_product.producer, self.stranger)
        make_stock(self.xl, self.product, self.staff, lot_code="BAD", quantity=5, expires_in_days=100)
        make_stock(self.bh, self.product, self.staff, lot_code="BAD", quantity=4, expires_in_days=100)
        make_stock(self.bh, self.product, self.staff, lot_code="GOOD", quantity=3, expires_in_days=300)
        self.lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "BAD"))
        db.session.commit()


@pytest.fixture
def world(app_ctx) -> World:
    return World()


def _on_hand(point) -> dict[str, tuple[int, int]]:
    return {row.lot.lot_code: (row.on_hand, row.reserved) for row in stock_queries.stock_for_point(point)}


# ------------------------------------------------------------------------------------------- the recall

def test_a_recall_cancels_the_orders_holding_the_lot_and_pulls_it_from_every_point(world, mail_folder):
    unpaid = orders.create_order(world.xl, [(world.product, 2)], fulfilment="pickup", payment_method="card",
                                 contact=CONTACT)
    paid = orders.create_order(world.xl, [(world.product, 1)], fulfilment="pickup", payment_method="card",
                               contact=OTHER)
    orders.mark_paid(paid, paid.total_vnd)
    shipped = orders.create_order(world.bh, [(world.product, 1)], fulfilment="delivery",
                                  payment_method="cash_on_delivery", contact=OTHER, address=ADDRESS)
    orders.ship(shipped, tracking_note="VNPost EB123", actor=world.staff)
    db.session.commit()
    before = mail_files(mail_folder)

    outcome = services.recall(world.lot, reason="Nhiễm nấm mốc", actor=world.officer)
    db.session.commit()

    assert sorted(o.number for o in outcome.cancelled) == sorted([unpaid.number, paid.number])
    for order in (unpaid, paid):
        assert order.status == OrderStatus.CANCELLED
        assert "BAD" in order.cancel_reason and "Nhiễm nấm mốc" in order.cancel_reason
        assert all(a.state == AllocationState.RELEASED for line in order.lines for a in line.allocations)
    assert shipped.status == OrderStatus.SHIPPED  # already with the customer: in the buyers report, not cancelled
    # Both customers hear of the cancellation by the existing order emails.
    sent = [read_mail(path) for path in mail_files(mail_folder) - before]
    assert sorted(m["To"] for m in sent) == sorted([CONTACT.email, OTHER.email])
    assert all(unpaid.number in m["Subject"] or paid.number in m["Subject"] for m in sent)

    # Off every shelf: 5 at XL; at BH 4 minus the one shipped; GOOD untouched.
    assert _on_hand(world.xl) == {"BAD": (0, 0)}
    assert _on_hand(world.bh) == {"BAD": (0, 0), "GOOD": (3, 0)}
    assert sorted((m.point_id, m.quantity) for m in outcome.pulled) == sorted([(world.xl.id, -5), (world.bh.id, -3)])
    assert stock_queries.verify_ledger() == []

    lot = db.session.get(Lot, world.lot.id)
    assert lot.is_recalled and lot.recall_reason == "Nhiễm nấm mốc" and lot.recalled_by_id == world.officer.id
    event = db.session.scalar(sa.select(TraceEvent).where(TraceEvent.lot_id == lot.id,
                                                         TraceEvent.event_type == TraceEventType.RECALLED))
    assert (event.event_type, event.automatic, event.description) == (TraceEventType.RECALLED, True, "Nhiễm nấm mốc")


def test_the_lots_own_producer_may_recall_it(world):
    services.recall(world.lot, reason="Sai nhãn", actor=world.owner)
    db.session.commit()
    lot = db.session.get(Lot, world.lot.id)
    assert lot.recalled_by_id == world.owner.id
    event = db.session.scalar(sa.select(TraceEvent).where(TraceEvent.lot_id == lot.id,
                                                         TraceEvent.event_type == TraceEventType.RECALLED))
    assert event.actor_name == world.product.producer.name


# ------------------------------------------------------------------------------------------- its effects

def test_a_recalled_lot_is_off_sale_online(world):
    services.recall(world.lot, reason="Nhiễm nấm mốc", actor=world.officer)
    db.session.commit()
    available = {row.point.code: row.available for row in availability_of_product(world.product.id, today(), 5)}
    assert available == {"DN-XL-01": 0, "DN-BH-01": 3}  # only GOOD is left, at BH
    with pytest.raises(DomainError) as refused:
        reserve_stock(world.xl, world.product, 1, reference="DH-TEST")
    assert refused.value.code == "insufficient_stock"
    with pytest.raises(DomainError):
        orders.create_order(world.xl, [(world.product, 1)], fulfilment="pickup", payment_method="card",
                            contact=CONTACT)


def test_a_recalled_lot_is_refused_at_every_counter(world):
    services.recall(world.lot, reason="Nhiễm nấm mốc", actor=world.officer)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        sell_at_counter(world.xl, [(world.product, 1)], payment_method="cash", actor=world.staff)
    assert refused.value.code == "insufficient_stock"
    # At BH the counter sells GOOD, never BAD.
    sale = sell_at_counter(world.bh, [(world.product, 2)], payment_method="cash", actor=world.staff)
    assert [line.lot_code for line in sale.lines] == ["GOOD"]


def test_a_receipt_of_a_recalled_lot_is_refused(world):
    services.recall(world.lot, reason="Nhiễm nấm mốc", actor=world.officer)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        make_stock(world.xl, world.product, world.staff, lot_code="BAD", quantity=2, expires_in_days=100)
    assert refused.value.code == "lot_recalled"


# ------------------------------------------------------------------------------- pull lists and buyers

def test_each_point_gets_its_pull_list(world):
    services.recall(world.lot, reason="Nhiễm nấm mốc", actor=world.officer)
    db.session.commit()
    rows = queries.pull_list(world.xl)
    assert [(r.lot.lot_code, r.product.name, r.quantity, r.reason) for r in rows] == [
        ("BAD", "Hạt điều rang muối", 5, "Nhiễm nấm mốc")]
    assert [(r.point.code, r.quantity) for r in queries.pulled_by_point(world.lot)] == [("DN-BH-01", 4),
                                                                                         ("DN-XL-01", 5)]
    assert queries.pull_list(make_point("DN-TT-01")) == []


def test_the_buyers_report_lists_orders_with_customers_and_counter_sales(world):
    shipped = orders.create_order(world.xl, [(world.product, 2)], fulfilment="delivery",
                                  payment_method="cash_on_delivery", contact=CONTACT, address=ADDRESS)
    orders.ship(shipped, tracking_note="VNPost EB123", actor=world.staff)
    paid = orders.create_order(world.xl, [(world.product, 1)], fulfilment="pickup", payment_method="card",
                               contact=OTHER)
    orders.mark_paid(paid, paid.total_vnd)
    sale = sell_at_counter(world.xl, [(world.product, 1)], payment_method="cash", actor=world.staff)
    elsewhere = sell_at_counter(world.bh, [(world.product, 1)], payment_method="cash", actor=world.staff)
    db.session.commit()
    services.recall(world.lot, reason="Nhiễm nấm mốc", actor=world.officer)
    db.session.commit()

    buyers = queries.buyers_of(world.lot)
    rows = {row.number: row for row in buyers.orders}
    assert set(rows) == {shipped.number, paid.number}
    assert (rows[shipped.number].name, rows[shipped.number].email, rows[shipped.number].phone) == (
        CONTACT.name, CONTACT.email, CONTACT.phone)
    assert (rows[shipped.number].quantity, rows[shipped.number].handed_over) == (2, 2)
    assert (rows[paid.number].status, rows[paid.number].handed_over) == (OrderStatus.CANCELLED, 0)
    assert rows[paid.number].refund_due_vnd == 120_000  # paid by card, cancelled by the recall: to refund
    assert [(row.number, row.point.code, row.quantity) for row in buyers.counter] == [
        (sale.number, "DN-XL-01", 1), (elsewhere.number, "DN-BH-01", 1)]  # FEFO took BAD at BH too
    assert buyers.units_sold_online == 2


# ---------------------------------------------------------------------------------------------- refusals

def _nothing_changed(world):
    lot = db.session.get(Lot, world.lot.id)
    assert not lot.is_recalled and lot.recalled_by_id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)
                             .where(StockMovement.kind == MovementKind.RECALL)) == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_recall_needs_a_reason(world, reason):
    with pytest.raises(DomainError) as refused:
        services.recall(world.lot, reason=reason, actor=world.officer)
    assert (refused.value.code, refused.value.field) == ("reason_required", "reason")
    db.session.rollback()
    _nothing_changed(world)


def test_a_lot_is_recalled_once(world):
    services.recall(world.lot, reason="Nhiễm nấm mốc", actor=world.officer)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        services.recall(world.lot, reason="Lần nữa", actor=world.owner)
    assert refused.value.code == "already_recalled"
    db.session.rollback()
    assert db.session.get(Lot, world.lot.id).recall_reason == "Nhiễm nấm mốc"


@pytest.mark.parametrize("who", ["stranger", "staff", "customer"])
def test_only_the_department_and_the_lots_producer_may_recall(world, who):
    actor = make_user(Role.CUSTOMER) if who == "customer" else getattr(world, who)
    order = orders.create_order(world.xl, [(world.product, 1)], fulfilment="pickup", payment_method="card",
                                contact=CONTACT)
    db.session.commit()
    with pytest.raises(NotAllowed):
        services.recall(world.lot, reason="Không phải của tôi", actor=actor)
    db.session.rollback()
    _nothing_changed(world)
    assert db.session.get(type(order), order.id).status == OrderStatus.PENDING_PAYMENT
    held = db.session.scalar(sa.select(sa.func.sum(OrderAllocation.quantity))
                             .where(OrderAllocation.state == AllocationState.HELD))
    assert held == 1 and db.session.scalar(sa.select(sa.func.sum(StockLevel.reserved))) == 1
