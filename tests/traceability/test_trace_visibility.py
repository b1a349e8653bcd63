"""The public trace pages (/t/<code>, the GS1 Digital Link, the trace API, the lot's QR code) show only lots of
published products that have left production: a draft product's lot or a batch still being made is not found."""
import pytest

from shop.catalog.services import unpublish_product
from shop.extensions import db
from shop.traceability.models import Lot, LotStatus
from tests.factories import make_product
from tests.traceability.test_trace_page import build_lot

GTIN = "8932565000039"


def public_urls(lot: dict) -> list[str]:
    return [f"/t/{lot['code']}", f"/t/{lot['code']}/qr.svg", f"/01/{GTIN}/10/{lot['lot_code']}",
            f"/api/v1/trace/{lot['code']}", f"/api/v1/trace/{lot['code']}?format=epcis"]


def make_lot(app, *, status: LotStatus = LotStatus.RELEASED, published: bool = True) -> dict:
    with app.app_context():
        product = make_product(name="Mít sấy giòn Long Khánh")
        lot = build_lot(product, lot_code="L-001", gtin=GTIN)
        lot.status = status
        if not published:
            unpublish_product(product)
        db.session.commit()
        return {"code": lot.trace_code, "lot_code": lot.lot_code, "id": lot.id}


@pytest.mark.parametrize("status", [LotStatus.RELEASED, LotStatus.CLOSED])
def test_a_released_or_closed_lot_of_a_published_product_is_shown(app, client, status):
    lot = make_lot(app, status=status)
    for url in public_urls(lot):
        assert client.get(url).status_code == 200, url


def test_a_lot_still_in_production_is_not_found(app, client):
    lot = make_lot(app, status=LotStatus.IN_PRODUCTION)
    for url in public_urls(lot):
        assert client.get(url).status_code == 404, url


def test_a_lot_of_a_draft_product_is_not_found(app, client):
    lot = make_lot(app, published=False)
    for url in public_urls(lot):
        assert client.get(url).status_code == 404, url


def test_a_lot_shows_once_it_is_released(app, client):
    lot = make_lot(app, status=LotStatus.IN_PRODUCTION)
    assert client.get(f"/t/{lot['code']}").status_code == 404
    with app.app_context():
        db.session.get(Lot, lot["id"]).status = LotStatus.RELEASED
        db.session.commit()
    assert client.get(f"/t/{lot['code']}").status_code == 200
