"""The public trace page /t/<code>: what a shopper sees after scanning the pack, and the files behind it."""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from shop.certification.services import withdraw_certificate
from shop.core.clock import today
from shop.extensions import db
from shop.inventory.models import StockLevel
from shop.sales_points.models import PointStatus
from shop.traceability.models import Lot, TraceAttachment, TraceEvent, TraceInput
from tests.factories import make_point, make_producer, make_product

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def build_lot(product, *, lot_code="LOT-2026-01", events=3, inputs_per_event=1, gtin=None, recalled=False,
              upload_dir: str | None = None) -> Lot:
    """A lot and its journal written straight with the models (not through the services)."""
    if gtin is not None:
        product.gtin = gtin
    lot = Lot(product_id=product.id, lot_code=lot_code, production_date=today() - timedelta(days=20),
              expiry_date=today() + timedelta(days=200), quantity=500)
    if recalled:
        lot.recalled_at = datetime.now(UTC)
        lot.recall_reason = "Phát hiện nấm mốc trong mẫu lưu"
    db.session.add(lot)
    db.session.flush()
    start = datetime.now(UTC) - timedelta(days=19)
    kinds = ["sourcing", "receiving_inputs", "processing", "packing", "quality_test", "shipping"]
    for n in range(events):
        event = TraceEvent(lot_id=lot.id, event_type=kinds[n % len(kinds)], occurred_at=start + timedelta(hours=n),
                           place=f"Xưởng số {n + 1}, xã Phú Hòa", actor_name="Nguyễn Thị Lan",
                           previous_step="Vườn ông Tư, Định Quán", next_step="Kho thành phẩm",
                           description="Rửa sạch và phân loại", reference=f"PN-{n:03d}")
        for m in range(inputs_per_event):
            event.inputs.append(TraceInput(material=f"Hạt điều thô {m}", supplier="HTX Phú Hòa", origin="Đồng Nai",
                                           quantity=Decimal("2.500"), unit="kg", supplier_lot=f"NCC-{m}"))
        db.session.add(event)
    db.session.flush()
    if upload_dir is not None:
        first = db.session.scalars(sa.select(TraceEvent).where(TraceEvent.lot_id == lot.id)
                                   .order_by(TraceEvent.id)).first()
        stored = f"ab/{lot_code.lower()}-test.pdf"
        path = Path(upload_dir) / "trace" / stored
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(PDF_BYTES)
        db.session.add(TraceAttachment(event_id=first.id, kind="document", title="Phiếu kiểm nghiệm",
                                       original_name="kiểm nghiệm.pdf", stored_name=stored,
                                       content_type="application/pdf", size_bytes=len(PDF_BYTES), sha256="0" * 64))
        db.session.flush()
    return lot


@pytest.fixture
def traced(app):
    """A certified cashew product with one lot of three events (one file) and units at an open point."""
    with app.app_context():
        producer = make_producer("HTX Điều Phú Hòa", story_md="Chúng tôi trồng **điều** từ năm 1990.")
        product = make_product(producer, name="Hạt điều rang muối Phú Hòa", stars=4)
        lot = build_lot(product, upload_dir=app.config["UPLOAD_DIR"])
        point = make_point(name="Điểm OCOP Định Quán")
        closed = make_point(name="Điểm đã đóng cửa")
        db.session.flush()
        closed.status = PointStatus.CLOSED
        db.session.add_all([StockLevel(point_id=point.id, product_id=product.id, lot_id=lot.id, on_hand=7),
                            StockLevel(point_id=closed.id, product_id=product.id, lot_id=lot.id, on_hand=3)])
        db.session.commit()
        return {"code": lot.trace_code, "lot_id": lot.id, "slug": product.slug, "product_id": product.id}


def test_trace_page_shows_product_producer_certificate_lot_and_timeline(client, traced):
    response = client.get(f"/t/{traced['code']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Hạt điều rang muối Phú Hòa" in html
    assert f'href="/products/{traced["slug"]}"' in html
    assert "HTX Điều Phú Hòa" in html and "<strong>điều</strong>" in html  # the story, rendered Markdown
    assert "Xã Phú Hòa" in html  # the producer's commune
    assert "LOT-2026-01" in html
    assert (today() - timedelta(days=20)).strftime("%d/%m/%Y") in html
    assert (today() + timedelta(days=200)).strftime("%d/%m/%Y") in html
    assert 'trace-status--valid' in html
    # The timeline: three events in time order, places, who, one step back and forward, inputs.
    assert html.count('<li id="event-') == 3
    assert html.index("Xưởng số 1") < html.index("Xưởng số 2") < html.index("Xưởng số 3")
    assert "Nguyễn Thị Lan" in html and "Vườn ông Tư, Định Quán" in html and "Kho thành phẩm" in html
    assert "Hạt điều thô 0" in html and "2,5 kg" in html
    assert "Phiếu kiểm nghiệm" in html
    # On sale at the open point, not at the closed one.
    assert "Điểm OCOP Định Quán" in html and "Điểm đã đóng cửa" not in html
    assert "trace-recall" not in html
    assert "no-cache" in response.headers["Cache-Control"]


def test_trace_page_is_light_one_picture_no_script_of_its_own(client, traced):
    html = client.get(f"/t/{traced['code']}").get_data(as_text=True)
    assert "css/trace.css" in html
    assert html.count("<script") <= 1  # only the site-wide script of the layout
    assert "style=" not in html


def test_trace_code_is_case_insensitive_and_unknown_code_is_404(client, traced):
    assert client.get(f"/t/{traced['code'].lower()}").status_code == 200
    assert client.get("/t/NOSUCHCODE").status_code == 404
    assert client.get("/t/bad-code!").status_code == 404


def test_recall_shows_at_once_with_its_reason(app, client, traced):
    assert "trace-recall" not in client.get(f"/t/{traced['code']}").get_data(as_text=True)
    with app.app_context():
        lot = db.session.get(Lot, traced["lot_id"])
        lot.recalled_at = datetime.now(UTC)
        lot.recall_reason = "Phát hiện nấm mốc trong mẫu lưu"
        db.session.commit()
    html = client.get(f"/t/{traced['code']}").get_data(as_text=True)
    assert "trace-recall" in html and 'role="alert"' in html
    assert "Phát hiện nấm mốc trong mẫu lưu" in html
    assert "Điểm OCOP Định Quán" not in html  # a recalled lot is not offered for sale


def test_withdrawn_certificate_shows_withdrawn_at_once(app, client, traced):
    with app.app_context():
        from shop.certification.queries import current_certificate

        certificate = current_certificate(traced["product_id"], today())
        withdraw_certificate(certificate, decision_no="99/QĐ-UBND", reason="Vi phạm", on=today())
        db.session.commit()
    html = client.get(f"/t/{traced['code']}").get_data(as_text=True)
    assert "trace-status--withdrawn" in html and "99/QĐ-UBND" in html
    assert "trace-status--valid" not in html


def test_expired_certificate_shows_expired(app, client):
    with app.app_context():
        product = make_product(name="Mật ong hoa cà phê", stars=3, decision_date=date(2020, 1, 10))
        code = build_lot(product).trace_code
        db.session.commit()
    html = client.get(f"/t/{code}").get_data(as_text=True)
    assert "trace-status--expired" in html


def test_corrected_event_is_marked_and_points_at_its_correction(app, client, traced):
    with app.app_context():
        first = db.session.scalars(sa.select(TraceEvent).where(TraceEvent.lot_id == traced["lot_id"])
                                   .order_by(TraceEvent.id)).first()
        db.session.add(TraceEvent(lot_id=traced["lot_id"], event_type="sourcing", occurred_at=first.occurred_at,
                                  place="Vườn bà Năm", actor_name="Nguyễn Thị Lan", corrects_id=first.id))
        db.session.commit()
        first_id = first.id
        correction_id = db.session.scalar(sa.select(sa.func.max(TraceEvent.id)))
    html = client.get(f"/t/{traced['code']}").get_data(as_text=True)
    assert f'id="event-{first_id}" class="trace-event trace-event--corrected' in html
    assert f'href="#event-{correction_id}"' in html and f'href="#event-{first_id}"' in html


def test_attachment_is_served_inline_only_through_its_own_lot(app, client, traced):
    with app.app_context():
        attachment_id = db.session.scalar(sa.select(TraceAttachment.id))
        other = build_lot(make_product(name="Tiêu đen Phú Hòa"), lot_code="OTHER-1")
        db.session.commit()
        other_code = other.trace_code
    response = client.get(f"/t/{traced['code']}/files/{attachment_id}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.data == PDF_BYTES
    response.close()
    assert client.get(f"/t/{other_code}/files/{attachment_id}").status_code == 404
    assert client.get(f"/t/{traced['code']}/files/999999").status_code == 404


def test_a_lot_with_200_events_loads_in_a_handful_of_queries(app, client):
    with app.app_context():
        lot = build_lot(make_product(name="Cà phê Robusta"), events=200, inputs_per_event=2,
                        upload_dir=app.config["UPLOAD_DIR"])
        db.session.commit()
        code = lot.trace_code
        statements = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    response = client.get(f"/t/{code}")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('<li id="event-') == 200
    assert len(statements) <= 12, "\n".join(statements)


def test_trace_page_follows_the_accessibility_rules(app, client, traced):
    from bs4 import BeautifulSoup

    from tests.test_accessibility import assert_accessible

    with app.app_context():
        lot = db.session.get(Lot, traced["lot_id"])
        lot.recalled_at = datetime.now(UTC)
        lot.recall_reason = "Nấm mốc"
        db.session.commit()
    url = f"/t/{traced['code']}"
    assert_accessible(BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser"), url)


def test_a_new_event_or_input_shows_on_the_next_request(app, client, traced):
    """The rendered journal is kept per version: anything appended makes a new one."""
    url = f"/t/{traced['code']}"
    assert "Giao cho Điểm OCOP Xuân Lộc" not in client.get(url).get_data(as_text=True)
    assert client.get(f"/api/v1/trace/{traced['code']}").json["events"][-1]["place"] == "Xưởng số 3, xã Phú Hòa"
    with app.app_context():
        event = TraceEvent(lot_id=traced["lot_id"], event_type="shipping", occurred_at=datetime.now(UTC),
                           place="Giao cho Điểm OCOP Xuân Lộc", actor_name="HTX Điều Phú Hòa")
        db.session.add(event)
        db.session.commit()
    assert "Giao cho Điểm OCOP Xuân Lộc" in client.get(url).get_data(as_text=True)
    assert client.get(f"/api/v1/trace/{traced['code']}").json["events"][-1]["place"] == "Giao cho Điểm OCOP Xuân Lộc"
    with app.app_context():
        first_id = db.session.scalar(sa.select(sa.func.min(TraceEvent.id)).where(TraceEvent.lot_id == traced["lot_id"]))
        db.session.add(TraceInput(event_id=first_id, material="Muối biển Bà Rịa", quantity=Decimal(1), unit="kg"))
        db.session.commit()
    assert "Muối biển Bà Rịa" in client.get(url).get_data(as_text=True)
