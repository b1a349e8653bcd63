"""The chain of custody: receipts, transfers and recalls in inventory write automatic events on the lot."""
import pytest
import sqlalchemy as sa

from shop.accounts.models import Role
from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory.queries import lot_on_sale_at
from shop.inventory.services import create_transfer, receive_transfer, ship_transfer
from shop.traceability import queries
from shop.traceability.models import Lot, TraceEvent, TraceEventType
from shop.traceability.services import record_event
from tests.factories import make_point, make_point_manager, make_product, make_stock, make_user, recall_lot


@pytest.fixture
def stocked(app_ctx):
    centre = make_point("DN-TT-01", tier="centre", name="Trung tâm OCOP tỉnh Đồng Nai", street="Số 1 Võ Thị Sáu")
    xuanloc = make_point("DN-XL-01", name="Điểm OCOP Xuân Lộc")
    manager = make_point_manager(centre, xuanloc)
    product = make_product(name="Mít sấy giòn Long Khánh")
    make_stock(centre, product, manager, lot_code="L-250301", quantity=20, delivery_note="PGH-0042")
    lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "L-250301"))
    return centre, xuanloc, manager, product, lot


def test_a_receipt_records_the_lot_received_at_the_point(stocked):
    centre, _xuanloc, _manager, product, lot = stocked
    [entry] = queries.lot_timeline(lot)
    received = entry.event
    assert received.event_type == TraceEventType.RECEIVED_AT_POINT and received.automatic
    assert received.point_id == centre.id and received.actor_name == centre.name
    assert received.reference == "PGH-0042"
    assert received.previous_step == product.producer.name and received.next_step == centre.name
    assert received.place.startswith("Số 1 Võ Thị Sáu")


def test_a_received_transfer_records_where_the_lot_went(stocked):
    centre, xuanloc, manager, product, lot = stocked
    transfer = create_transfer(centre, xuanloc, [(product, lot, 5)], actor=manager)
    ship_transfer(transfer, actor=manager)
    receive_transfer(transfer, {transfer.lines[0].id: (4, 1, "Móp hộp")}, actor=manager)
    moved = [e.event for e in queries.lot_timeline(lot) if e.event.event_type == TraceEventType.TRANSFERRED]
    assert len(moved) == 1
    assert (moved[0].point_id, moved[0].previous_step, moved[0].next_step, moved[0].reference) == \
        (xuanloc.id, centre.name, xuanloc.name, transfer.number)
    assert [p.point.code for p in lot_on_sale_at(lot.id)] == ["DN-TT-01", "DN-XL-01"]


def test_a_fully_rejected_transfer_records_no_move(stocked):
    centre, xuanloc, manager, product, lot = stocked
    transfer = create_transfer(centre, xuanloc, [(product, lot, 5)], actor=manager)
    ship_transfer(transfer, actor=manager)
    receive_transfer(transfer, {transfer.lines[0].id: (0, 5, "Hỏng")}, actor=manager)
    assert [e.event.event_type for e in queries.lot_timeline(lot)] == [TraceEventType.RECEIVED_AT_POINT]


def test_a_recall_records_the_reason_and_who(stocked):
    _centre, _xuanloc, _manager, _product, lot = stocked
    officer = make_user(Role.TRADE_OFFICER)
    recall_lot(lot, reason="Phát hiện nấm mốc", actor=officer)
    recalled = queries.lot_timeline(lot)[-1].event
    assert (recalled.event_type, recalled.description, recalled.actor_name) == \
        (TraceEventType.RECALLED, "Phát hiện nấm mốc", "Sở Công Thương")
    assert lot_on_sale_at(lot.id) == []


def test_a_refused_receipt_writes_no_event(stocked):
    centre, _xuanloc, manager, product, _lot = stocked
    before = db.session.scalar(sa.select(sa.func.count(TraceEvent.id)))
    with pytest.raises(DomainError):
        make_stock(centre, product, manager, lot_code="L-2", quantity=0)
    assert db.session.scalar(sa.select(sa.func.count(TraceEvent.id))) == before


def test_automatic_events_cannot_be_corrected_by_the_producer(app, stocked):
    _centre, _xuanloc, _manager, _product, lot = stocked
    received = queries.lot_timeline(lot)[0].event
    with pytest.raises(DomainError) as refused:
        record_event(lot, event_type="shipping", occurred_at=received.occurred_at, place="Kho", actor_name="A",
                     recorded_by=make_user(Role.PRODUCER), corrects=received.id)
    assert refused.value.code == "correction_of_automatic"


# ------------------------------------------------------------------------------------------------ demo seed

def test_the_demo_journals_are_complete_and_seeding_twice_adds_nothing(app_ctx):
    from shop.seeding import seed_demo
    from shop.seeding.demo_trace import seed_demo_trace
    from shop.traceability.models import TraceAttachment
    from tests.traceability.conftest import uploaded_files

    report = seed_demo(images=False)
    seed_demo_trace(report)
    db.session.commit()
    assert report.created["trace events"] > 20 and report.created["trace attachments"] >= 5

    producer_lots = list(db.session.scalars(
        sa.select(Lot).join(TraceEvent, TraceEvent.lot_id == Lot.id)
        .where(TraceEvent.event_type == TraceEventType.SOURCING).distinct()))
    assert len(producer_lots) >= 6
    mit = [lot for lot in producer_lots if lot.product.slug == "mit-say-gion-long-khanh"]
    assert mit, "the demo producer's lots have journals"
    timeline = queries.lot_timeline(mit[0])
    kinds = [entry.event.event_type for entry in timeline]
    assert kinds[:6] == [TraceEventType.SOURCING, TraceEventType.RECEIVING_INPUTS, TraceEventType.PROCESSING,
                         TraceEventType.QUALITY_TEST, TraceEventType.PACKING, TraceEventType.SHIPPING]
    assert TraceEventType.RECEIVED_AT_POINT in kinds, "the chain of custody continues to the shelf"
    times = [entry.event.occurred_at for entry in timeline]
    assert times == sorted(times)
    harvest = timeline[0].event
    assert harvest.inputs[0].material == "Mít Thái tươi" and harvest.inputs[0].supplier_lot.startswith("SN-MT-")
    assert timeline[3].event.attachments[0].content_type == "application/pdf"

    counts = (db.session.scalar(sa.select(sa.func.count(Lot.id))),
              db.session.scalar(sa.select(sa.func.count(TraceEvent.id))),
              db.session.scalar(sa.select(sa.func.count(TraceAttachment.id))), len(uploaded_files(app_ctx)))
    again = seed_demo(images=False)
    seed_demo_trace(again)
    db.session.commit()
    assert not again.created["trace events"] and not again.created["trace lots"]
    assert (db.session.scalar(sa.select(sa.func.count(Lot.id))),
            db.session.scalar(sa.select(sa.func.count(TraceEvent.id))),
            db.session.scalar(sa.select(sa.func.count(TraceAttachment.id))), len(uploaded_files(app_ctx))) == counts


def test_a_recall_by_the_producer_names_the_producer(stocked):
    from shop.producers.services import attach_member

    _centre, _xuanloc, _manager, product, lot = stocked
    account = make_user(Role.PRODUCER)
    attach_member(product.producer, account)
    recall_lot(lot, reason="Bao bì bị phồng", actor=account)
    recalled = queries.lot_timeline(lot)[-1].event
    assert (recalled.actor_name, recalled.recorded_by_id) == (product.producer.name, account.id)
