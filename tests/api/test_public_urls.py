"""Absolute links in the API (and the trace page's QR link) are built on PUBLIC_URL, never on the Host header a
client sends: a forged `Host: evil.example` must not put another site's address into what the shop serves."""
import pytest

from shop.extensions import db
from shop.sales_points.services import carry_product
from tests.api.conftest import add_picture
from tests.factories import make_point, make_product
from tests.traceability.test_trace_page import build_lot

PUBLIC = "https://ocop.example.vn"
EVIL = {"Host": "evil.example"}


@pytest.fixture
def app(make_app):
    return make_app(PUBLIC_URL=PUBLIC)


@pytest.fixture
def shop_data(app):
    with app.app_context():
        product = make_product(name="Hạt điều rang muối", gtin="8934567890120")
        add_picture(product)
        point = make_point("DN-XL-01", name="Điểm OCOP Xuân Lộc")
        carry_product(point, product)
        lot = build_lot(product, upload_dir=app.config["UPLOAD_DIR"])
        db.session.commit()
        return {"slug": product.slug, "producer": product.producer.slug, "point": point.code, "code": lot.trace_code}


def urls_in(value) -> list[str]:
    if isinstance(value, dict):
        return [url for item in value.values() for url in urls_in(item)]
    if isinstance(value, list):
        return [url for item in value for url in urls_in(item)]
    if isinstance(value, str) and "://" in value:
        return [value]
    return []


def test_api_links_are_on_public_url_whatever_the_host_header(client, shop_data):
    paths = [f"/api/v1/products/{shop_data['slug']}", f"/api/v1/producers/{shop_data['producer']}",
             "/api/v1/points", f"/api/v1/points/{shop_data['point']}", f"/api/v1/trace/{shop_data['code']}",
             f"/api/v1/trace/{shop_data['code']}?format=epcis"]
    seen = []
    for path in paths:
        response = client.get(path, headers=EVIL)
        assert response.status_code == 200, path
        # EPCIS documents name their JSON-LD context on gs1.org: a standard's address, not a link of ours.
        links = [url for url in urls_in(response.get_json()) if not url.startswith("https://ref.gs1.org/")]
        assert all(url.startswith(PUBLIC + "/") for url in links), (path, [u for u in links if "evil" in u])
        seen += links
    # Guards the test: product, picture, point, producer, trace page, attachment and Digital Link links were checked.
    assert {"/products/", "/media/", "/points/", "/producers/", "/t/", "/files/", "/01/"} <= {
        part for url in seen for part in ("/products/", "/media/", "/points/", "/producers/", "/t/", "/files/", "/01/")
        if part in url}


def test_the_trace_page_and_its_qr_code_use_public_url(client, shop_data):
    page = client.get(f"/t/{shop_data['code']}", headers=EVIL).get_data(as_text=True)
    assert f"{PUBLIC}/01/08934567890120/10/" in page
    assert "evil.example" not in page
