"""GET /api/v1/trace/<code>: the lot and its journal as JSON and as EPCIS 2.0 JSON-LD."""
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from shop.extensions import db
from shop.inventory.models import StockLevel
from shop.traceability.epcis import lgtin_class
from shop.traceability.models import Lot, TraceEvent
from tests.factories import make_point, make_product
from tests.traceability.test_trace_page import build_lot

GTIN = "8932000000013"
PUBLIC = "https://ocop.example.vn"
EVENT_KEYS = {"type", "eventID", "eventTime", "eventTimeZoneOffset", "bizStep", "disposition", "readPoint",
              "bizLocation"}


@pytest.fixture
def app(make_app):
    return make_app(PUBLIC_URL=PUBLIC)


@pytest.fixture
def lot_data(app):
    with app.app_context():
        product = make_product(name="Hạt điều rang muối", stars=4)
        lot = build_lot(product, lot_code="L/01", events=6, gtin=GTIN, upload_dir=app.config["UPLOAD_DIR"])
        point = make_point(name="Điểm OCOP Biên Hòa", code="DN-BH-01")
        db.session.flush()
        first = db.session.scalars(sa.select(TraceEvent).where(TraceEvent.lot_id == lot.id)
                                   .order_by(TraceEvent.id)).first()
        db.session.add(TraceEvent(lot_id=lot.id, event_type="received_at_point", occurred_at=datetime.now(UTC),
                                  point_id=point.id, actor_name="Điểm OCOP Biên Hòa", automatic=True))
        db.session.add(TraceEvent(lot_id=lot.id, event_type="sourcing", occurred_at=first.occurred_at,
                                  place="Vườn bà Năm", actor_name="Nguyễn Thị Lan", corrects_id=first.id))
        db.session.add(StockLevel(point_id=point.id, product_id=product.id, lot_id=lot.id, on_hand=4))
        db.session.commit()
        plain = build_lot(make_product(name="Tiêu đen", stars=None), lot_code="T-1")
        db.session.commit()
        return {"code": lot.trace_code, "lot_id": lot.id, "first_id": first.id, "plain": plain.trace_code}


def test_trace_json_has_lot_product_producer_certificate_events_and_points(client, lot_data):
    response = client.get(f"/api/v1/trace/{lot_data['code'].lower()}")
    assert response.status_code == 200
    body = response.json
    assert body["trace_code"] == lot_data["code"]
    assert body["digital_link"] == f"{PUBLIC}/01/0{GTIN}/10/L%2F01"
    assert body["lot"]["lot_code"] == "L/01" and body["lot"]["quantity"] == 500
    assert body["product"]["name"] == "Hạt điều rang muối" and body["product"]["gtin"] == GTIN
    assert body["producer"]["address"]["province_code"] == 75
    assert body["certificate_status"] == "valid" and body["certificate"]["stars"] == 4
    assert body["recall"] is None
    assert len(body["events"]) == 8
    first = next(e for e in body["events"] if e["id"] == lot_data["first_id"])
    assert first["corrected_by"] is not None
    assert first["inputs"][0] == {"material": "Hạt điều thô 0", "supplier": "HTX Phú Hòa", "origin": "Đồng Nai",
                                  "quantity": "2.5", "unit": "kg", "supplier_lot": "NCC-0"}
    url = first["attachments"][0]["url"]
    assert url.endswith(f"/t/{lot_data['code']}/files/{url.rsplit('/', 1)[1]}")
    at_point = next(e for e in body["events"] if e["type"] == "received_at_point")
    assert at_point["point"]["code"] == "DN-BH-01" and at_point["automatic"] is True
    assert [p["code"] for p in body["on_sale_at"]] == ["DN-BH-01"]


def test_recall_is_in_the_json_at_once(app, client, lot_data):
    with app.app_context():
        lot = db.session.get(Lot, lot_data["lot_id"])
        lot.recalled_at = datetime.now(UTC)
        lot.recall_reason = "Nấm mốc"
        db.session.commit()
    body = client.get(f"/api/v1/trace/{lot_data['code']}").json
    assert body["recall"]["reason"] == "Nấm mốc" and body["on_sale_at"] == []


def test_unknown_code_is_404_json_and_bad_format_400(client, lot_data):
    response = client.get("/api/v1/trace/NOSUCHCODE")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    bad = client.get(f"/api/v1/trace/{lot_data['code']}?format=xml")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_parameter"


def test_epcis_document(client, lot_data):
    response = client.get(f"/api/v1/trace/{lot_data['code']}?format=epcis")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    doc = response.json
    assert doc["@context"][0] == "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    assert doc["type"] == "EPCISDocument" and doc["schemaVersion"] == "2.0" and doc["creationDate"].endswith("Z")
    events = doc["epcisBody"]["eventList"]
    assert len(events) == 8
    for event in events:
        assert EVENT_KEYS <= set(event), event
        assert event["eventTimeZoneOffset"] == "+07:00" and event["eventTime"].endswith("+07:00")
    lgtin = "urn:epc:class:lgtin:893200000.0001.L%2F01"
    by_step = {}
    for event in events:
        by_step.setdefault(event["bizStep"], []).append(event)
    assert {"commissioning", "receiving", "packing", "inspecting", "shipping"} <= set(by_step)
    transformation = next(e for e in events if e["type"] == "TransformationEvent")
    assert transformation["outputQuantityList"] == [{"epcClass": lgtin, "quantity": 500}]
    assert transformation["inputQuantityList"][0]["uom"] == "KGM"
    assert transformation["ilmd"]["cbvmda:itemExpirationDate"] and transformation["ilmd"]["ocop:productionDate"]
    shipping = by_step["shipping"][0]
    assert shipping["type"] == "ObjectEvent" and shipping["action"] == "OBSERVE"
    assert shipping["quantityList"][0]["epcClass"] == lgtin and shipping["disposition"] == "in_transit"
    assert shipping["sourceList"][0]["type"] == "location" and shipping["destinationList"]
    received = next(e for e in events if e.get("ocop:eventType") == "received_at_point")
    assert received["readPoint"]["id"] == f"{PUBLIC}/points/DN-BH-01"
    assert received["destinationList"] == [{"type": "location", "destination": f"{PUBLIC}/points/DN-BH-01"}]
    corrected = next(e for e in events if e["eventID"].endswith(f"#event-{lot_data['first_id']}"))
    assert corrected["errorDeclaration"]["reason"] == "incorrect_data"
    assert corrected["errorDeclaration"]["correctiveEventIDs"][0].startswith(f"{PUBLIC}/t/{lot_data['code']}#event-")


def test_epcis_without_gtin_uses_the_trace_url_and_404(client, lot_data):
    doc = client.get(f"/api/v1/trace/{lot_data['plain']}?format=epcis").json
    event = doc["epcisBody"]["eventList"][0]
    assert event["quantityList"][0]["epcClass"] == f"{PUBLIC}/t/{lot_data['plain']}"
    missing = client.get("/api/v1/trace/NOSUCHCODE?format=epcis")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_lgtin_class():
    assert lgtin_class("08932000000013", "A 1", 7) == "urn:epc:class:lgtin:8932000.000001.A%201"
    with pytest.raises(ValueError):
        lgtin_class("08932000000013", "A", 3)


def test_the_trace_json_is_what_the_openapi_document_says(client, lot_data):
    from tests.api.conftest import assert_documented

    document = client.get("/api/v1/openapi.json").get_json()
    body = assert_documented(document, "/trace/{code}", client.get(f"/api/v1/trace/{lot_data['code']}"))
    assert len(body["events"]) == 8
    assert_documented(document, "/trace/{code}", client.get(f"/api/v1/trace/{lot_data['plain']}"))
    assert_documented(document, "/trace/{code}", client.get("/api/v1/trace/KHONGCO"))
