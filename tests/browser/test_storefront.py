"""A visitor in real Chromium: searches without diacritics, opens a certified product, reads it on a phone."""
import re

import pytest

from shop.core.money import format_vnd

pytestmark = pytest.mark.browser
COFFEE = re.compile(r"cà phê", re.IGNORECASE)


def product_links(page):
    return page.locator("main a[href*='/products/']").filter(has_text=COFFEE)


def test_search_without_diacritics_finds_coffee_and_opens_a_certified_product(page, live_server):
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "vi", "the storefront is Vietnamese by default"
    box = page.get_by_role("search").locator("input[name=q]")
    box.fill("ca phe")
    box.press("Enter")
    page.wait_for_url(re.compile(r"[?&]q=ca(\+|%20)phe"))

    links = product_links(page)
    links.first.wait_for()
    assert links.count() >= 2, "the demo data has several coffees; all of them should be found"
    name = links.first.inner_text().strip()
    links.first.click()
    page.wait_for_url(re.compile(r"/products/[\w-]+$"))
    slug = page.url.rsplit("/", 1)[1]
    assert page.get_by_role("heading", level=1).inner_text().strip() == name

    # What the page shows is the product's own valid certificate and price, as the API reports them.
    response = page.request.get(f"{live_server}/api/v1/products/{slug}")
    assert response.ok
    product = response.json()
    certificate = product["certificate"]
    assert certificate and product["stars"] >= 3
    badge = page.get_by_role("img", name=re.compile(str(product["stars"]))).first
    assert badge.is_visible()
    assert "★" * product["stars"] in badge.inner_text()
    main = page.locator("main")
    assert certificate["decision_no"] in main.inner_text()
    assert format_vnd(product["price_vnd"]) in main.inner_text()
    assert "₫" in main.inner_text()


@pytest.mark.parametrize("where", ["listing", "product"])
def test_pages_fit_a_phone_without_horizontal_scrolling(phone, live_server, where):
    phone.goto(live_server + "/products?q=ca+phe")
    if where == "product":
        href = product_links(phone).first.get_attribute("href")
        phone.goto(live_server + href)
        phone.get_by_role("heading", level=1).wait_for()
    overflow = phone.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert phone.evaluate("() => window.innerWidth") == 390
    assert overflow <= 0, f"the {where} page scrolls sideways by {overflow}px on a 390 px wide phone"
