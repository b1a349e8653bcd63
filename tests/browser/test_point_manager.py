"""A point manager in real Chromium, as in the demo: receives goods from a producer, then sells them at the
counter by typing the barcode (as a scanner does: digits, then Enter), and gets a printable receipt. The stock
is checked through the JSON API, before and after, so the test holds whatever other browser tests did first."""
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from shop.core.clock import today
from shop.core.money import format_vnd

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
POINT = "DN-XL-01"
MANAGER = "xuanloc@demo.ocop.vn"  # seed/accounts.json; demo password below (seed/README.md)
PASSWORD = "ocop-demo"
PREFERRED = "Hạt điều nhân trắng Hà Mỵ"  # carried by DN-XL-01 in seed/points.json


def seed_products_with_barcodes() -> dict[str, dict]:
    products = json.loads((ROOT / "seed" / "products.json").read_text(encoding="utf-8"))
    return {item["name"]: item for item in products if item.get("gtin")}


def log_in(page, base: str) -> None:
    page.goto(f"{base}/account/login")
    page.locator("#email").fill(MANAGER)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/account/login" not in url)


def available_by_api(page, base: str, slug: str) -> int:
    """The manager's exact view of the point's stock (session cookie), paged until the product is found."""
    number = 1
    while True:
        response = page.request.get(f"{base}/api/v1/points/{POINT}/stock?detail=exact&page={number}")
        assert response.ok, response.text()
        body = response.json()
        assert body["detail"] == "exact"
        for item in body["items"]:
            if item["product"]["slug"] == slug:
                return item["available"]
        if number >= body["pages"]:
            return 0
        number += 1


def record_receipt(page, base: str, lot_code: str, quantity: int) -> dict:
    """Fill /receipts/new for a product that has a barcode; returns that product's seed record."""
    page.goto(f"{base}/manage/points/{POINT}/receipts/new")
    select = page.locator("select#product")
    select.wait_for()
    with_barcode = seed_products_with_barcodes()
    # An option is labelled by the product's name (the receipts page adds the producer in brackets).
    options = {}
    for option in select.locator("option").all():
        label, value = option.inner_text().strip(), option.get_attribute("value")
        name = next((n for n in with_barcode if label == n or label.startswith(n + " (")), None)
        if name and value:
            options[name] = value
    assert options, f"no product with a barcode can be received at {POINT}"
    name = PREFERRED if PREFERRED in options else min(options)
    select.select_option(value=options[name])
    page.locator("#lot_code").fill(lot_code)
    page.locator("#production_date").fill((today() - timedelta(days=15)).isoformat())
    page.locator("#expiry_date").fill((today() + timedelta(days=300)).isoformat())
    page.locator("#quantity").fill(str(quantity))
    page.locator("#unit_cost_vnd").fill("80000")
    page.locator("#delivery_note").fill("PGH-BROWSER-1")
    page.locator("main form.form button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/manage/points/{POINT}/stock$"))
    return with_barcode[name]


def test_a_point_manager_receives_goods_then_sells_them_at_the_counter(page, live_server):
    log_in(page, live_server)
    product = record_receipt(page, live_server, lot_code=f"BT-{today():%y%m%d}", quantity=12)
    before = available_by_api(page, live_server, product["slug"])
    assert before >= 12, "the receipt put the goods on the shelf"

    # The counter: the barcode typed into the box, then Enter, adds the line in place (counter.js).
    page.goto(f"{live_server}/manage/points/{POINT}/counter")
    box = page.locator("#counter-q")
    box.wait_for()
    assert box.evaluate("node => node === document.activeElement"), "the box has the focus, ready for a scan"
    box.type(product["gtin"])
    box.press("Enter")
    line = page.locator("#lines tr[data-line] input[data-quantity]")
    line.wait_for()
    assert page.locator("#lines tbody th").first.inner_text().startswith(product["name"])
    line.fill("3")
    total = format_vnd(3 * product["price_vnd"])
    page.wait_for_function("text => document.querySelector('[data-total]').textContent === text", arg=total)

    page.locator("#counter-sale input[name=payment_method][value=card]").check()
    page.locator("#counter-sale button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/manage/points/{POINT}/sales/{POINT}-\d{{6}}$"))

    number = page.url.rsplit("/", 1)[1]
    assert page.locator("[data-receipt-number]").inner_text().strip() == number
    assert page.locator("[data-receipt-total]").inner_text().strip() == total
    assert page.locator("button[data-print]").is_visible(), "the script shows the print button"
    assert available_by_api(page, live_server, product["slug"]) == before - 3


def test_the_counter_says_so_when_a_scanned_barcode_is_unknown(page, live_server):
    log_in(page, live_server)
    page.goto(f"{live_server}/manage/points/{POINT}/counter")
    box = page.locator("#counter-q")
    box.wait_for()
    box.type("8934567890137")  # a valid check digit that no product has
    box.press("Enter")
    status = page.locator("#counter-status.counter-status--problem")
    status.wait_for()
    assert "8934567890137" in status.inner_text()
    assert page.locator("#lines tr[data-line]").count() == 0
