"""Lots and the journal: what is accepted, every refusal of the issue's "Bad input" (nothing stored: no rows, no
files), append-only rows, the correction chain, and the timeline's query count."""
import io
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from shop.core.audit_trail import AuditEntry
from shop.core.clock import VN_TZ, today
from shop.core.errors import DomainError
from shop.core.models import utcnow
from shop.extensions import db
from shop.traceability import queries
from shop.traceability.models import Lot, LotStatus, TraceAttachment, TraceEvent, TraceEventType, TraceInput
from shop.traceability.services import create_lot, record_event, update_lot_status
from tests.conftest import at_run_time
from tests.factories import make_product
from tests.traceability.conftest import pdf_file, png_bytes, uploaded_files

MANGO = {"material": "Mít Thái tươi", "supplier": "Vườn ông Sáu, Bình Lộc", "origin": "Phường Bình Lộc, Đồng Nai",
         "quantity": "1200", "unit": "kg", "supplier_lot": "VS-2503"}


def at(day, hour=9):
    return datetime.combine(day, time(hour), tzinfo=VN_TZ).astimezone(UTC)


def event(lot, owner, app, **kw):
    fields = {"event_type": "processing", "occurred_at": at(lot.production_date), "place": "Xưởng sấy, Xuân Lập",
              "actor_name": "Công ty TNHH Trái cây sấy Long Khánh", "inputs": [MANGO],
              "upload_dir": app.config["UPLOAD_DIR"], "recorded_by": owner}
    fields.update(kw)
    return record_event(lot, **fields)


def counts():
    return (db.session.scalar(sa.select(sa.func.count(TraceEvent.id))),
            db.session.scalar(sa.select(sa.func.count(TraceInput.id))),
            db.session.scalar(sa.select(sa.func.count(TraceAttachment.id))))


# ---------------------------------------------------------------------------------------------------- lots

def test_a_lot_is_created_with_its_dates_and_a_trace_code(product, owner):
    lot = create_lot(product, lot_code=" L-250301 ", production_date=today(), expiry_date=today() + timedelta(days=365),
                     quantity=800, actor=owner)
    assert lot.lot_code == "L-250301" and lot.status == LotStatus.IN_PRODUCTION and lot.quantity == 800
    assert len(lot.trace_code) == 10 and queries.lot_by_trace_code(lot.trace_code.lower()) is lot
    assert queries.lot_by_gtin_and_code("08932565000039", "L-250301") is lot
    action = db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.subject_type == "Lot",
                                                                   AuditEntry.subject_id == lot.id))
    assert action == "traceability.lot_created"


def test_a_duplicate_lot_code_of_the_same_product_is_refused(lot, product, owner):
    with pytest.raises(DomainError) as refused:
        create_lot(product, lot_code="L-001", production_date=today(), quantity=5, actor=owner)
    assert (refused.value.code, refused.value.field) == ("duplicate_lot", "lot_code")
    assert db.session.scalar(sa.select(sa.func.count(Lot.id))) == 1
    other = make_product(product.producer, name="Chôm chôm sấy dẻo")
    assert create_lot(other, lot_code="L-001", production_date=today(), quantity=5, actor=owner).id


@pytest.mark.parametrize("change, code", [
    ({"production_date": lambda: today() + timedelta(days=1)}, "invalid_production_date"),
    ({"expiry_date": lambda: today() - timedelta(days=30)}, "expiry_before_production"),
    ({"quantity": 0}, "invalid_quantity"),
    ({"quantity": -5}, "invalid_quantity"),
    ({"lot_code": "  "}, "lot_code_required"),
])
def test_bad_lot_input_is_refused(product, owner, change, code):
    change = at_run_time(change)
    fields = {"lot_code": "L-9", "production_date": today() - timedelta(days=3), "quantity": 10, **change}
    with pytest.raises(DomainError) as refused:
        create_lot(product, **fields, actor=owner)
    assert refused.value.code == code
    assert db.session.scalar(sa.select(sa.func.count(Lot.id))) == 0


def test_status_changes_and_a_recalled_lot_can_only_be_closed(lot, owner):
    update_lot_status(lot, "released", owner)
    assert lot.status == LotStatus.RELEASED
    with pytest.raises(DomainError):
        update_lot_status(lot, "nonsense", owner)
    lot.recalled_at = utcnow()
    with pytest.raises(DomainError) as refused:
        update_lot_status(lot, "in_production", owner)
    assert refused.value.code == "lot_recalled"
    update_lot_status(lot, "closed", owner)
    assert lot.status == LotStatus.CLOSED


# -------------------------------------------------------------------------------------------------- events

def test_an_event_with_inputs_and_files_is_recorded(app, lot, owner):
    harvest = event(lot, owner, app, event_type="sourcing", occurred_at=at(lot.production_date - timedelta(days=2)),
                    ward_code=26134, province_code=75, previous_step="Vườn ông Sáu", next_step="Xưởng sấy",
                    attachments=[pdf_file(), (io.BytesIO(png_bytes()), "vuon.png", "Ảnh vườn")])
    assert harvest.event_type == TraceEventType.SOURCING and not harvest.automatic
    assert [(i.material, i.quantity, i.unit, i.supplier_lot) for i in harvest.inputs] == \
        [("Mít Thái tươi", Decimal(1200), "kg", "VS-2503")]
    assert [(a.kind, a.title) for a in harvest.attachments] == \
        [("document", "Kết quả thử nghiệm"), ("photo", "Ảnh vườn")]
    assert len(uploaded_files(app)) == 2
    assert harvest.place  # an address was given


def test_a_commune_alone_is_a_place(app, lot, owner):
    recorded = event(lot, owner, app, place="", ward_code=26134, province_code=75)
    assert recorded.place and recorded.ward_code == 26134


def test_decimal_comma_quantities_are_read(app, lot, owner):
    recorded = event(lot, owner, app, inputs=[{**MANGO, "quantity": "2,5"}])
    assert recorded.inputs[0].quantity == Decimal("2.5")


@pytest.mark.parametrize("change, code", [
    ({"occurred_at": utcnow() + timedelta(hours=1)}, "event_in_future"),
    ({"event_type": "packing", "occurred_at": "lot-1d"}, "event_before_lot"),
    ({"event_type": "quality_test", "occurred_at": "lot-1d"}, "event_before_lot"),
    ({"event_type": "shipping", "occurred_at": "lot-1d"}, "event_before_lot"),
    ({"event_type": "sourcing", "occurred_at": "lot-400d"}, "event_before_lot"),
    ({"occurred_at": datetime(2025, 1, 1, 9)}, "occurred_at_required"),  # naive: no time zone
    ({"inputs": [{**MANGO, "quantity": "-3"}]}, "invalid_input_quantity"),
    ({"inputs": [{**MANGO, "quantity": "0"}]}, "invalid_input_quantity"),
    ({"inputs": [{**MANGO, "quantity": "nhiều"}]}, "invalid_input_quantity"),
    ({"inputs": [{**MANGO, "material": " "}]}, "material_required"),
    ({"inputs": [{**MANGO, "unit": ""}]}, "unit_required"),
    ({"event_type": "received_at_point"}, "invalid_event_type"),
    ({"event_type": "recalled"}, "invalid_event_type"),
    ({"place": "", "ward_code": None}, "place_required"),
    ({"ward_code": 99999999, "province_code": 75}, "invalid_ward"),
    ({"actor_name": ""}, "actor_name_required"),
])
def test_bad_event_input_stores_nothing(app, lot, owner, change, code):
    change = dict(change)
    if isinstance(change.get("occurred_at"), str):
        days = int(change["occurred_at"][4:-1])
        change["occurred_at"] = at(lot.production_date - timedelta(days=days))
    with pytest.raises(DomainError) as refused:
        event(lot, owner, app, attachments=[pdf_file()], **change)
    assert refused.value.code == code
    assert counts() == (0, 0, 0)
    assert uploaded_files(app) == []


def test_sourcing_up_to_a_year_before_production_is_accepted(app, lot, owner):
    recorded = event(lot, owner, app, event_type="receiving_inputs",
                     occurred_at=at(lot.production_date - timedelta(days=300)))
    assert recorded.id


def test_a_few_minutes_of_clock_skew_are_tolerated(app, lot, owner):
    assert event(lot, owner, app, occurred_at=utcnow() + timedelta(minutes=2)).id


@pytest.mark.parametrize("name, content", [
    ("virus.exe", b"MZ\x90\x00 not a document"),
    ("bang-gia.xlsx", b"PK\x03\x04 a spreadsheet"),
    ("fake.pdf", b"%PDF-1.4 truncated without an end"),
    ("empty.pdf", b""),
])
def test_a_file_that_is_not_a_pdf_or_an_image_stores_nothing(app, lot, owner, name, content):
    with pytest.raises(DomainError) as refused:
        # The good file comes first: it is written, then removed when the second is refused.
        event(lot, owner, app, attachments=[pdf_file(), (io.BytesIO(content), name, "Tệp")])
    assert refused.value.code == "bad_file" and refused.value.field == "attachments"
    assert refused.value.message
    assert counts() == (0, 0, 0)
    assert uploaded_files(app) == []


def test_the_journal_is_append_only(app, lot, owner):
    recorded = event(lot, owner, app, attachments=[pdf_file()])
    db.session.commit()
    recorded.place = "Nơi khác"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    recorded.inputs[0].quantity = Decimal(1)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(recorded.attachments[0])
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(recorded)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert counts() == (1, 1, 1)


def test_a_correction_chain_supersedes_each_previous_entry(app, lot, owner):
    first = event(lot, owner, app, description="Sấy 10 giờ")
    second = event(lot, owner, app, description="Sấy 12 giờ", corrects=first.id)
    with pytest.raises(DomainError) as refused:
        event(lot, owner, app, description="Sấy 14 giờ", corrects=first.id)
    assert refused.value.code == "already_corrected"
    third = event(lot, owner, app, description="Sấy 14 giờ", corrects=second)
    timeline = queries.lot_timeline(lot)
    by_id = {entry.event.id: entry for entry in timeline}
    assert by_id[first.id].superseded_by is second and by_id[second.id].superseded_by is third
    assert by_id[third.id].superseded_by is None and by_id[third.id].corrects is second
    assert [e.description for e in queries.timeline_events(lot, current_only=True)] == ["Sấy 14 giờ"]


def test_a_correction_must_point_at_an_event_of_the_same_lot(app, lot, product, owner):
    other = create_lot(product, lot_code="L-002", production_date=lot.production_date, quantity=5, actor=owner)
    foreign = event(other, owner, app)
    with pytest.raises(DomainError) as refused:
        event(lot, owner, app, corrects=foreign.id)
    assert refused.value.code == "correction_other_lot"
    with pytest.raises(DomainError):
        event(lot, owner, app, corrects=987654)
    assert counts()[0] == 1


def test_the_timeline_is_in_time_order_and_loads_in_three_queries(app, lot, owner):
    base = at(lot.production_date)
    for n in range(30):
        event(lot, owner, app, occurred_at=base + timedelta(hours=(n * 7) % 30), description=f"Bước {n}",
              attachments=[pdf_file()] if n % 10 == 0 else [])
    db.session.commit()
    lot_id = lot.id
    db.session.expire_all()
    statements = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    timeline = queries.lot_timeline(lot_id)
    for entry in timeline:
        _ = [i.material for i in entry.event.inputs], [a.title for a in entry.event.attachments], entry.event.point
    assert len(statements) <= 3
    times = [entry.event.occurred_at for entry in timeline]
    assert times == sorted(times) and len(timeline) == 30
