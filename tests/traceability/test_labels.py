"""Label sheets: A4 pages of 24 labels with the Vietnamese name, certificate, lot, dates, QR and EAN-13."""
import io
import re

import pytest
import zxingcpp
from PIL import Image

from shop.accounts.models import Role
from shop.extensions import db
from shop.producers.services import attach_member
from shop.traceability.digital_link import digital_link
from shop.traceability.labels import ean13_pattern, label_qr_png, render_label_sheet
from shop.traceability.trace_page import lot_by_trace_code
from tests.conftest import login
from tests.factories import make_certificate, make_producer, make_product, make_user
from tests.traceability.test_trace_page import build_lot

NAME = "Hạt điều rang muối"
GTIN = "8932000000013"
PUBLIC = "https://ocop.example.vn"


def pdf_text(data: bytes) -> str:
    """The text of an uncompressed fpdf2 PDF: each string of glyph ids decoded with the fonts' ToUnicode maps."""
    maps = []
    for block in re.findall(rb"beginbfchar\n(.*?)endbfchar", data, re.DOTALL):
        maps.append({int(a, 16): chr(int(b, 16)) for a, b in re.findall(rb"<([0-9A-F]+)> <([0-9A-F]+)>", block)})
    texts = []
    for raw in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", data, re.DOTALL):
        unescaped = re.sub(rb"\\([nrtbf()\\])", lambda m: {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b",
                                                          b"f": b"\f"}.get(m.group(1), m.group(1)), raw)
        ids = [int.from_bytes(unescaped[i:i + 2], "big") for i in range(0, len(unescaped) - 1, 2)]
        for glyphs in maps:
            if all(i in glyphs for i in ids):
                texts.append("".join(glyphs[i] for i in ids))
    return "\n".join(texts)


@pytest.fixture
def labelled(app):
    with app.app_context():
        producer = make_producer("HTX Điều Phú Hòa")
        product = make_product(producer, name=NAME, stars=None)
        make_certificate(product, stars=4, decision_no="123/QĐ-UBND")
        lot = build_lot(product, lot_code="LOT-2026-07", gtin=GTIN)
        owner = make_user(Role.PRODUCER, email="owner@example.vn")
        attach_member(producer, owner)
        rival = make_producer("HTX Khác")
        other_user = make_user(Role.PRODUCER, email="rival@example.vn")
        attach_member(rival, other_user)
        make_user(Role.CUSTOMER, email="buyer@example.vn")
        db.session.commit()
        return {"lot_id": lot.id, "code": lot.trace_code}


def test_sheet_has_24_labels_a_page_and_embeds_dejavu(app, labelled):
    with app.app_context():
        lot = lot_by_trace_code(labelled["code"])
        for copies, pages in ((1, 1), (24, 1), (25, 2), (100, 5)):
            pdf = render_label_sheet(lot, copies, base_url=PUBLIC)
            assert pdf.startswith(b"%PDF-")
            assert len(re.findall(rb"/Type /Page\b", pdf)) == pages
        assert b"DejaVuSans" in pdf and b"/FontFile2" in pdf
        with pytest.raises(ValueError):
            render_label_sheet(lot, 0, base_url=PUBLIC)


def test_label_text_has_the_vietnamese_name_certificate_lot_and_dates(app, labelled):
    with app.app_context():
        lot = lot_by_trace_code(labelled["code"])
        text = pdf_text(render_label_sheet(lot, 3, base_url=PUBLIC, compress=False))
        assert text.count(NAME) == 3  # the name with its tone marks, once per label
        assert "OCOP ★★★★" in text
        assert "123/QĐ-UBND" in text
        assert "LOT-2026-07" in text
        assert lot.production_date.strftime("%d/%m/%Y") in text and lot.expiry_date.strftime("%d/%m/%Y") in text
        assert "932000" in text and "000013" in text  # the barcode's digits


def test_label_qr_decodes_to_the_digital_link_and_ean13_pattern(app, labelled):
    with app.app_context():
        lot = lot_by_trace_code(labelled["code"])
        url = digital_link(lot, PUBLIC)
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(label_qr_png(url))))
        assert [result.text for result in decoded] == [f"{PUBLIC}/01/0{GTIN}/10/LOT-2026-07"]
    pattern = ean13_pattern(GTIN)
    assert len(pattern) == 95 and pattern.startswith("101") and pattern.endswith("101")
    assert ean13_pattern("96385074") is None and ean13_pattern(None) is None


def test_owner_downloads_the_sheet(client, labelled):
    login(client, "owner@example.vn")
    response = client.get(f"/manage/producer/lots/{labelled['lot_id']}/labels.pdf?copies=30")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert len(re.findall(rb"/Type /Page\b", response.data)) == 2
    default = client.get(f"/manage/producer/lots/{labelled['lot_id']}/labels.pdf")
    assert len(re.findall(rb"/Type /Page\b", default.data)) == 1


@pytest.mark.parametrize("copies", ["0", "501", "-3", "abc", "2.5"])
def test_copies_out_of_range_is_400(client, labelled, copies):
    login(client, "owner@example.vn")
    response = client.get(f"/manage/producer/lots/{labelled['lot_id']}/labels.pdf?copies={copies}")
    assert response.status_code == 400
    assert "500" in response.get_data(as_text=True)


def test_other_producers_lot_is_404_and_other_roles_are_refused(client, labelled):
    url = f"/manage/producer/lots/{labelled['lot_id']}/labels.pdf"
    assert client.get(url).status_code in (302, 401)  # a guest goes to the login page
    login(client, "rival@example.vn")
    assert client.get(url).status_code == 404
    assert client.get("/manage/producer/lots/999999/labels.pdf").status_code == 404
    client.post("/account/logout")
    with client.session_transaction() as session:
        session.clear()
    login(client, "buyer@example.vn")
    assert client.get(url).status_code == 403
