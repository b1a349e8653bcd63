"""GS1 Digital Link /01/<GTIN>/10/<lot> and the QR codes that carry it."""
import io

import pytest
import zxingcpp
from PIL import Image
from stdnum import ean

from shop.extensions import db
from shop.traceability.digital_link import BadGtin, digital_link, gtin14, parse_gtin, stored_forms
from shop.traceability.qr import qr_png
from shop.traceability.trace_page import lot_by_trace_code
from tests.factories import make_product
from tests.traceability.test_trace_page import build_lot

GTIN13 = "893200000001" + ean.calc_check_digit("893200000001")  # 8932000000013
PUBLIC = "https://ocop.example.vn"


@pytest.fixture
def app(make_app):
    return make_app(PUBLIC_URL=PUBLIC)


@pytest.fixture
def linked(app):
    with app.app_context():
        with_gtin = make_product(name="Hạt điều rang muối", stars=4)
        lot = build_lot(with_gtin, lot_code="L 01/2026", gtin=GTIN13)
        plain = build_lot(make_product(name="Tiêu đen", stars=3), lot_code="T-1")
        db.session.commit()
        return {"code": lot.trace_code, "slug": with_gtin.slug, "plain_code": plain.trace_code,
                "plain_slug": plain.product.slug}


def decode(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    return results[0].text


def test_gtin_parsing_pads_to_14_digits_and_checks_the_digit():
    assert parse_gtin(GTIN13) == "0" + GTIN13
    assert parse_gtin("0" + GTIN13) == "0" + GTIN13
    assert parse_gtin("96385074") == "00000096385074"  # GTIN-8
    assert stored_forms("0" + GTIN13) == ["0" + GTIN13, GTIN13]
    assert gtin14(None) is None and gtin14("123") is None
    for bad in (GTIN13[:-1] + str((int(GTIN13[-1]) + 1) % 10), "89320000000", "abcdefghijklm",
                "８９３２０００００００１３"):
        with pytest.raises(BadGtin):
            parse_gtin(bad)


def test_link_of_a_lot_with_and_without_gtin(app, linked):
    with app.app_context():
        lot = lot_by_trace_code(linked["code"])
        assert digital_link(lot, PUBLIC + "/") == f"{PUBLIC}/01/0{GTIN13}/10/L%2001%2F2026"
        plain = lot_by_trace_code(linked["plain_code"])
        assert digital_link(plain, PUBLIC) == f"{PUBLIC}/t/{plain.trace_code}"


@pytest.mark.parametrize("gtin", ["0" + GTIN13, GTIN13])
def test_digital_link_resolves_to_the_trace_page(client, linked, gtin):
    response = client.get(f"/01/{gtin}/10/L%2001%2F2026")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "L 01/2026" in html and "Hạt điều rang muối" in html
    assert f'rel="canonical" href="/t/{linked["code"]}"' in html


def test_gtin_alone_opens_the_product_page(client, linked):
    response = client.get(f"/01/0{GTIN13}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/products/{linked['slug']}")


def test_unknown_lot_falls_back_to_the_product_page_with_a_notice(client, linked):
    response = client.get(f"/01/0{GTIN13}/10/NO-SUCH-LOT")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/products/{linked['slug']}")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "NO-SUCH-LOT" in html and "flash--warning" in html


@pytest.mark.parametrize("bad", [GTIN13[:-1] + str((int(GTIN13[-1]) + 1) % 10), "12345", "89320000000AB"])
def test_malformed_gtin_is_a_clear_400(client, linked, bad):
    response = client.get(f"/01/{bad}/10/L1")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "GTIN" in html and bad in html
    api = client.get(f"/01/{bad}/10/L1", headers={"Accept": "application/json"})
    assert api.status_code == 400
    assert api.json["error"]["code"] == "bad_gtin" and "GTIN" in api.json["error"]["message"]
    assert client.get(f"/01/{bad}").status_code == 400


def test_unknown_gtin_is_404(client, linked):
    other = "893999999999" + ean.calc_check_digit("893999999999")
    assert client.get(f"/01/{other}/10/L1").status_code == 404
    assert client.get(f"/01/{other}").status_code == 404
    api = client.get(f"/01/{other}/10/L1", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"


def test_qr_png_carries_exactly_the_digital_link(client, linked):
    response = client.get(f"/t/{linked['code']}/qr.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert decode(response.data) == f"{PUBLIC}/01/0{GTIN13}/10/L%2001%2F2026"
    plain = client.get(f"/t/{linked['plain_code']}/qr.png?scale=4")
    assert decode(plain.data) == f"{PUBLIC}/t/{linked['plain_code']}"


def test_qr_png_of_the_module_decodes_to_its_url():
    url = f"{PUBLIC}/01/0{GTIN13}/10/L%2001%2F2026"
    assert decode(qr_png(url, 6)) == url


def test_qr_svg_and_refusals(client, linked):
    response = client.get(f"/t/{linked['code']}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data
    assert client.get("/t/NOSUCHCODE/qr.svg").status_code == 404
    assert client.get("/t/NOSUCHCODE/qr.png").status_code == 404
    assert client.get(f"/t/{linked['code']}/qr.png?scale=0").status_code == 400
    assert client.get(f"/t/{linked['code']}/qr.png?scale=abc").status_code == 400
