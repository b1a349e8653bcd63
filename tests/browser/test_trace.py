"""A shopper scans the QR code of a lot with a phone and reads where it comes from.

The QR image is the server's own (/t/<code>/qr.png), decoded here with a QR reader library (zxing-cpp); the URL it
carries is opened in Chromium with a phone-sized window. The lot is one of the demo data's lots of a product with a
GTIN (so the QR carries a GS1 Digital Link), read from the live server's database file; when the demo data has no
journal for it yet, two steps are written into that database first."""
import io
import sqlite3
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

pytestmark = pytest.mark.browser


def _database(tmp_path_factory):
    found = sorted(tmp_path_factory.getbasetemp().glob("live*/shop.sqlite"))
    assert found, "the live server's database file was not found"
    return found[-1]


def _traced_lot(path) -> dict:
    """A lot of a product with a GTIN, not recalled, the one with the longest journal first."""
    with sqlite3.connect(path) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute(
            "SELECT lot.id, lot.trace_code, lot.lot_code, product.name, product.gtin,"
            " (SELECT count(*) FROM trace_event WHERE trace_event.lot_id = lot.id) AS events"
            " FROM lot JOIN product ON product.id = lot.product_id"
            " WHERE product.gtin IS NOT NULL AND lot.recalled_at IS NULL AND product.status = 'published'"
            " ORDER BY events DESC, lot.id LIMIT 1").fetchone()
        assert row is not None, "the demo data has no lot of a product with a GTIN"
        lot = dict(row)
        if not lot["events"]:
            stamp = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S.%f")
            for kind, place in (("processing", "Xưởng chế biến, xã Xuân Lộc"), ("packing", "Xưởng đóng gói")):
                connection.execute(
                    "INSERT INTO trace_event (lot_id, event_type, occurred_at, place, actor_name, automatic,"
                    " recorded_at) VALUES (?, ?, ?, ?, ?, 0, ?)", (lot["id"], kind, stamp, place, "Tổ sản xuất", stamp))
            lot["events"] = 2
        return lot


def test_scanned_qr_opens_the_trace_page_on_a_phone(phone, live_server, tmp_path_factory):
    lot = _traced_lot(_database(tmp_path_factory))
    response = phone.request.get(f"{live_server}/t/{lot['trace_code']}/qr.png")
    assert response.ok
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.body())))
    assert len(decoded) == 1
    url = decoded[0].text
    assert f"/01/{lot['gtin'].zfill(14)}/10/" in url, url

    # The QR carries the site's public address (PUBLIC_URL); the test server listens elsewhere, so the phone's
    # requests to that address are answered by the test server, path unchanged.
    public = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    if public != live_server:
        def answer(route):
            served = phone.request.fetch(live_server + route.request.url[len(public):], method=route.request.method,
                                         headers=route.request.headers, max_redirects=0)
            route.fulfill(response=served)

        phone.route(f"{public}/**", answer)
    phone.goto(url)

    heading = phone.get_by_role("heading", level=1)
    assert heading.inner_text().strip() == lot["name"]
    main = phone.locator("main")
    assert lot["lot_code"] in main.inner_text()
    assert phone.locator(".trace-timeline > li").count() == lot["events"]
    assert phone.locator("link[href*='css/trace.css']").count() == 1
    assert phone.evaluate("() => getComputedStyle(document.querySelector('.trace-card')).borderRadius") != "0px", \
        "the trace stylesheet is applied"
    assert phone.evaluate("() => window.innerWidth") == 390
    overflow = phone.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the trace page scrolls sideways by {overflow}px on a 390 px wide phone"
