"""Accessibility and CSP rules every page must keep, checked on the rendered HTML of each page (with data),
plus the colour contrast of the stylesheet's palette."""
import re
from datetime import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from shop.certification.services import withdraw_certificate
from shop.core.images import make_placeholder
from shop.extensions import db
from shop.producers.services import add_producer_image
from shop.sales_points.services import carry_product
from tests.conftest import post_form
from tests.factories import make_certificate, make_point, make_producer, make_product

ROOT = Path(__file__).resolve().parent.parent
LABELLED_ELSEWHERE = {"hidden", "submit", "button", "reset", "image"}


@pytest.fixture
def site(app):
    """A small catalogue with photos (so <img> and <picture> appear) and one lapsed product."""
    import io

    from shop.catalog.services import add_product_image

    with app.app_context():
        producer = make_producer("HTX Cà phê Xuân Lộc", former_district="xuan-loc")
        add_producer_image(producer, io.BytesIO(make_placeholder("logo", (200, 200))), is_logo=True,
                           alt="Logo HTX Cà phê Xuân Lộc")
        coffee = make_product(producer, "Cà phê Robusta", stars=5, price_vnd=185_000)
        add_product_image(coffee, io.BytesIO(make_placeholder("coffee", (800, 600))), alt="Gói cà phê Robusta 500 g")
        add_product_image(coffee, io.BytesIO(make_placeholder("beans", (800, 600))), alt="Hạt cà phê rang")
        make_product(producer, "Mật ong", stars=3, price_vnd=90_000, group_code="1", subgroup_code="1.2b")
        lapsed = make_product(producer, "Bánh tráng", stars=None)
        withdraw_certificate(make_certificate(lapsed, stars=4), decision_no="7/QĐ-UBND", reason="Vi phạm.")
        point = make_point("DN-TT-01", name="Trung tâm OCOP", tier="centre", opens_at=time(8), closes_at=time(17))
        carry_product(point, coffee)
        db.session.commit()
        return {"product": coffee.slug, "lapsed": lapsed.slug, "producer": producer.slug}


PAGES = ["/", "/products", "/products?stars=4&group=1&sort=price_asc", "/products?stars=abc",
         "/products?min_price=999999999", "product", "lapsed", "/products/khong-co", "/producers",
         "producer", "/points", "/points/DN-TT-01", "/account/login", "/account/register"]


def resolve(path: str, site: dict) -> str:
    return {"product": f"/products/{site['product']}", "lapsed": f"/products/{site['lapsed']}",
            "producer": f"/producers/{site['producer']}"}.get(path, path)


def fetch(client, url):
    response = client.get(url)
    assert response.status_code in (200, 404), url
    return response, BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.mark.parametrize("path", PAGES)
def test_page_follows_the_accessibility_rules(client, site, path):
    url = resolve(path, site)
    _, page = fetch(client, url)
    assert_accessible(page, url)


def test_a_form_with_errors_follows_the_rules_too(client, site):
    response = post_form(client, "/account/register", {"email": "not-an-email", "password": "short"})
    assert response.status_code == 400
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert_accessible(page, "/account/register (errors)")
    for field in page.select('[aria-invalid="true"]'):
        for ref in field["aria-describedby"].split():
            assert page.find(id=ref) is not None, f"#{field['id']} points at a missing #{ref}"
    assert page.select_one('.error-summary[role="alert"]')


def test_the_english_pages_declare_english(client, site):
    client.get("/lang/en")
    _, page = fetch(client, resolve("product", site))
    assert page.html["lang"] == "en"
    assert_accessible(page, "product (en)")


def assert_accessible(page: BeautifulSoup, url: str) -> None:
    # Language of the page.
    assert page.html.get("lang") in ("vi", "en"), url

    # One h1 per page, and a title.
    assert len(page.find_all("h1")) == 1, url
    assert page.title and page.title.get_text(strip=True), url

    # Skip link first, pointing at the main landmark.
    first_link = page.body.find("a")
    assert first_link["href"] == "#main" and "skip-link" in first_link.get("class", []), url
    assert page.find("main", id="main"), url

    # Every image has an alt attribute; content pictures (photos, logos) have a real one.
    for img in page.find_all("img"):
        assert img.has_attr("alt"), f"{url}: {img}"
        if img.find_parent("picture"):
            assert img["alt"].strip(), f"{url}: a photo without alternative text: {img}"
            assert img.get("width") and img.get("height"), f"{url}: no intrinsic size: {img}"
            assert img.get("loading") in ("lazy", "eager") and img.get("decoding") == "async", url

    # Every form control has a label (label[for], a wrapping label, aria-label or aria-labelledby).
    labelled = {label["for"] for label in page.find_all("label") if label.get("for")}
    for control in page.find_all(["input", "select", "textarea"]):
        if control.name == "input" and control.get("type", "text") in LABELLED_ELSEWHERE:
            continue
        ok = (control.get("id") in labelled or control.find_parent("label") is not None
              or control.get("aria-label") or control.get("aria-labelledby"))
        assert ok, f"{url}: unlabelled control {control}"
    for button in page.find_all("button"):
        assert button.get_text(strip=True) or button.get("aria-label"), f"{url}: empty button {button}"

    # Ids are unique (labels and aria references depend on it).
    ids = [tag["id"] for tag in page.find_all(id=True)]
    assert len(ids) == len(set(ids)), f"{url}: duplicate ids {sorted({i for i in ids if ids.count(i) > 1})}"

    # Star badges are announced as text, the glyphs hidden from screen readers.
    for badge in page.select(".ocop-badge"):
        assert badge.get("role") == "img" and re.search(r"\d", badge.get("aria-label", "")), f"{url}: {badge}"
        assert all(g.get("aria-hidden") == "true" for g in badge.select(".ocop-badge__stars")), url

    # Strict CSP: no inline scripts, styles or event handlers; every asset comes from this site.
    for script in page.find_all("script"):
        assert script.get("src", "").startswith("/static/") and not script.string, f"{url}: inline script"
    assert not page.find_all("style"), f"{url}: <style> element"
    for tag in page.find_all(True):
        assert "style" not in tag.attrs, f"{url}: style attribute on <{tag.name}>"
        handlers = [name for name in tag.attrs if name.lower().startswith("on")]
        assert not handlers, f"{url}: inline handler {handlers} on <{tag.name}>"
    for tag, attr in (("link", "href"), ("script", "src"), ("img", "src"), ("source", "srcset")):
        for element in page.find_all(tag):
            value = element.get(attr, "")
            assert not re.search(r"(^|[\s,])(https?:)?//", value), f"{url}: external asset {value}"
    for link in page.find_all("a", href=True):
        assert not link["href"].lower().startswith("javascript:"), url


def test_pages_are_served_with_the_strict_csp(client, site):
    csp = client.get("/").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"


def test_the_static_assets_referenced_by_the_layout_exist(client):
    page = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    assets = [link["href"] for link in page.find_all("link", href=True)] + \
             [script["src"] for script in page.find_all("script", src=True)] + \
             [img["src"] for img in page.find_all("img", src=True) if img["src"].startswith("/static/")]
    assert assets
    for asset in assets:
        response = client.get(asset)
        status = response.status_code
        response.close()  # static files are streamed: close the file handle
        assert status == 200, asset


# --- colour contrast (WCAG 2.2: 4.5:1 for text, 3:1 for large text, focus rings and borders) ----------------

def _palette() -> dict[str, str]:
    css = (ROOT / "static" / "css" / "site.css").read_text()
    root = re.search(r":root\s*{(.*?)}", css, re.DOTALL).group(1)
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", root))


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


WHITE = "#ffffff"
# (foreground, background, minimum): the pairs the stylesheet actually uses.
PAIRS = [
    ("ink", "paper", 4.5), ("ink", "surface", 4.5), ("ink-muted", "surface", 4.5), ("ink-muted", "paper", 4.5),
    ("green-700", "surface", 4.5), ("green-700", "paper", 4.5), ("green-800", "green-50", 4.5),
    ("red-700", "red-50", 4.5), ("amber-700", "amber-50", 4.5), ("ink", "amber-50", 4.5),
    ("gold", "green-800", 4.5),                           # stars on the badge
    ("ink", "gold", 4.5),                                 # header search button
    ("ink", "focus", 4.5),                                # a focused link
    ("focus", "green-800", 3.0),                          # focus ring on the header
    ("green-900", "green-100", 4.5),
]


@pytest.mark.parametrize("foreground, background, minimum", PAIRS)
def test_palette_contrast(foreground, background, minimum):
    palette = _palette()
    fg, bg = palette[foreground], palette[background]
    assert contrast(fg, bg) >= minimum, f"--{foreground} on --{background}: {contrast(fg, bg):.2f}:1"


def test_white_text_on_the_green_surfaces_is_readable():
    palette = _palette()
    for name in ("green-700", "green-800", "green-900"):
        assert contrast(WHITE, palette[name]) >= 4.5, name


def test_focus_is_always_visible():
    css = (ROOT / "static" / "css" / "site.css").read_text()
    rule = re.search(r"(?m)^:focus-visible\s*{(.*?)}", css, re.DOTALL)
    assert rule and re.search(r"outline:\s*3px solid", rule.group(1))
    assert not re.search(r"outline:\s*(none|0)\s*;", css.replace("main:focus { outline: none;", ""))
