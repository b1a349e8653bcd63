"""Availability on the storefront: bands per point (in stock / few left / out of stock) counted only from
sellable stock of products with a qualifying basis, and shown at once on cached pages."""
from datetime import time, timedelta
from io import BytesIO

import pytest
from bs4 import BeautifulSoup

from shop.accounts.models import Role, User
from shop.catalog.models import Product
from shop.certification.services import record_basis
from shop.core.clock import today
from shop.core.images import make_placeholder
from shop.extensions import db, page_cache
from shop.inventory.availability import (
    Band,
    availability_at_point,
    availability_of_product,
    band_for,
    lots_at_point,
)
from shop.inventory.models import Lot
from shop.inventory.services import sell_at_counter
from shop.sales_points.models import SalesPoint
from shop.sales_points.services import add_point_photo, carry_product
from tests.factories import make_point, make_product, make_stock, make_user, recall_lot
from tests.test_accessibility import assert_accessible

FEW = 5


def bands(rows) -> dict[str, str]:
    return {row.point.code: row.band.value for row in rows}


@pytest.mark.parametrize("available, band", [(0, Band.OUT_OF_STOCK), (-1, Band.OUT_OF_STOCK), (1, Band.FEW_LEFT),
                                             (FEW, Band.FEW_LEFT), (FEW + 1, Band.IN_STOCK)])
def test_band_thresholds(available, band):
    assert band_for(available, FEW) is band


@pytest.fixture
def shelf(app_ctx):
    """A product at three open points: plenty, exactly the threshold, and none left; plus a closed point."""
    clerk = make_user(Role.ADMIN)
    product = make_product(name="Hạt điều rang muối")
    plenty, few, empty = make_point("DN-TT-01", tier="centre"), make_point("DN-XL-01"), make_point("DN-BH-01")
    closed = make_point("DN-NT-01")
    make_stock(plenty, product, clerk, quantity=30)
    make_stock(few, product, clerk, quantity=FEW)
    carry_product(empty, product)
    make_stock(closed, product, clerk, quantity=10)
    closed.status = "closed"
    db.session.flush()
    return {"product": product, "plenty": plenty, "few": few, "empty": empty, "clerk": clerk}


def test_each_open_point_carrying_the_product_gets_its_band(shelf):
    rows = availability_of_product(shelf["product"].id, today(), FEW)
    assert [row.point.code for row in rows] == ["DN-TT-01", "DN-BH-01", "DN-XL-01"], "centre first, closed out"
    assert bands(rows) == {"DN-TT-01": "in_stock", "DN-XL-01": "few_left", "DN-BH-01": "out_of_stock"}
    assert {row.point.code: row.available for row in rows} == {"DN-TT-01": 30, "DN-XL-01": 5, "DN-BH-01": 0}


def test_one_sale_moves_a_point_from_in_stock_to_few_left(shelf):
    make_stock(shelf["few"], shelf["product"], shelf["clerk"], lot_code="L2", quantity=1)
    assert bands(availability_of_product(shelf["product"].id, today(), FEW))["DN-XL-01"] == "in_stock"
    sell_at_counter(shelf["few"], [(shelf["product"], 1)], payment_method="cash", actor=shelf["clerk"])
    assert bands(availability_of_product(shelf["product"].id, today(), FEW))["DN-XL-01"] == "few_left"


def test_expired_lots_are_not_counted(shelf):
    make_stock(shelf["empty"], shelf["product"], shelf["clerk"], lot_code="SOON", quantity=8, expires_in_days=20)
    assert bands(availability_of_product(shelf["product"].id, today(), FEW))["DN-BH-01"] == "in_stock"
    later = today() + timedelta(days=21)
    assert bands(availability_of_product(shelf["product"].id, later, FEW))["DN-BH-01"] == "out_of_stock"
    lots = lots_at_point(shelf["empty"].id, [shelf["product"].id], later)[shelf["product"].id]
    assert [(lot.lot.lot_code, lot.on_hand, lot.available, lot.sellable) for lot in lots] == [("SOON", 8, 0, False)]


def test_recalled_lots_are_not_counted(shelf):
    lot = db.session.scalar(db.select(Lot).where(Lot.product_id == shelf["product"].id))
    recall_lot(lot, reason="Nhiễm nấm mốc")
    rows = availability_of_product(shelf["product"].id, today(), FEW)
    assert set(bands(rows).values()) == {"out_of_stock"}


def test_a_recalled_lot_still_on_the_shelf_is_not_available(shelf):
    # Recalled after a count found units the recall had not pulled: listed for the manager, never available.
    lot = db.session.scalar(db.select(Lot).where(Lot.product_id == shelf["product"].id))
    lot.recalled_at = lot.created_at
    db.session.flush()
    assert bands(availability_of_product(shelf["product"].id, today(), FEW))["DN-TT-01"] == "out_of_stock"
    [row] = lots_at_point(shelf["plenty"].id, [shelf["product"].id], today())[shelf["product"].id]
    assert (row.on_hand, row.available, row.sellable) == (30, 0, False)


def test_a_product_without_a_qualifying_basis_is_not_listed(app_ctx):
    clerk = make_user(Role.ADMIN)
    point = make_point("DN-XL-01")
    certified = make_product(name="Cà phê Robusta")
    uncertified = make_product(name="Trà mãng cầu", stars=None)
    on_basis = make_product(name="Bưởi Tân Triều", stars=None)
    record_basis(on_basis, criterion="key_product", reference="123/QĐ-UBND", justification="Sản phẩm chủ lực.",
                 actor=clerk)
    make_stock(point, certified, clerk, quantity=3)
    make_stock(point, on_basis, clerk, quantity=9)
    carry_product(point, uncertified)  # carried once, before its basis lapsed: still not for sale
    rows = availability_at_point(point.id, today(), FEW)
    assert [(row.product.name, row.band.value, row.stars) for row in rows] == [
        ("Bưởi Tân Triều", "in_stock", None), ("Cà phê Robusta", "few_left", 4)]
    assert availability_of_product(uncertified.id, today(), FEW) == []


# --- pages, with the page cache on (the default) --------------------------------------------------------------

@pytest.fixture
def storefront(app):
    with app.app_context():
        clerk = make_user(Role.ADMIN)
        product = make_product(name="Hạt điều rang muối")
        centre = make_point("DN-TT-01", name="Trung tâm OCOP", tier="centre", opens_at=time(7, 30),
                            closes_at=time(17), phone="0251 3822 111")
        point = make_point("DN-XL-01", name="Điểm bán Xuân Lộc")
        make_stock(centre, product, clerk, quantity=3)
        make_stock(point, product, clerk, quantity=40)
        db.session.commit()
        return {"slug": product.slug, "product_id": product.id, "clerk_id": clerk.id, "centre_id": centre.id}


def page_bands(client, url: str) -> dict[str, str]:
    page = BeautifulSoup(client.get(url + "?lang=en").get_data(as_text=True), "html.parser")
    return {item.select_one("a")["href"].rsplit("/", 1)[-1]: item.select_one(".stock-band")["data-band"]
            for item in page.select(".where-to-buy .point-list__item")}


def cached_bodies_with_a_placeholder(app) -> int:
    """The page cache stores the body with the fragment's placeholder, never a rendered stock band."""
    store = app.extensions["cache"][page_cache]  # this app's SimpleCache (no CACHE_REDIS_URL in the tests)
    bodies = [store.serializer.loads(value) for _expires, value in store._cache.values()]
    assert not any(b"stock-band--" in body for body in bodies)
    return sum(b"<!--live:" in body for body in bodies)


def test_product_page_shows_a_band_per_point_in_words_with_a_link(app, client, storefront):
    assert app.config["PAGE_CACHE_SIZE"] > 0
    page = BeautifulSoup(client.get(f"/products/{storefront['slug']}?lang=en").get_data(as_text=True),
                         "html.parser")
    items = page.select(".where-to-buy .point-list__item")
    assert [item.select_one("a")["href"] for item in items] == ["/points/DN-TT-01", "/points/DN-XL-01"]
    words = [" ".join(item.select_one(".stock-band").get_text(" ").split()) for item in items]
    assert words == ["! Few left", "✓ In stock"], "the band is told in words, not by colour alone"
    assert all(item.select_one(".stock-band__icon")["aria-hidden"] == "true" for item in items)
    assert "<!--live:" not in str(page), "no placeholder is ever sent"


def test_a_counter_sale_that_empties_a_point_shows_at_once_on_the_cached_page(app, client, storefront):
    url = f"/products/{storefront['slug']}"
    assert page_bands(client, url) == {"DN-TT-01": "few_left", "DN-XL-01": "in_stock"}
    assert page_bands(client, url) == {"DN-TT-01": "few_left", "DN-XL-01": "in_stock"}  # from the cache
    assert cached_bodies_with_a_placeholder(app) == 1
    with app.app_context():
        centre = db.session.get(SalesPoint, storefront["centre_id"])
        sell_at_counter(centre, [(db.session.get(Product, storefront["product_id"]), 3)], payment_method="cash",
                        actor=db.session.get(User, storefront["clerk_id"]))
        db.session.commit()
    assert page_bands(client, url) == {"DN-TT-01": "out_of_stock", "DN-XL-01": "in_stock"}
    assert cached_bodies_with_a_placeholder(app) == 1, "the sale did not empty the cache: the page came from it"


def test_point_page_lists_its_products_with_bands_live(app, client, storefront):
    def point_bands():
        page = BeautifulSoup(client.get("/points/DN-TT-01").get_data(as_text=True), "html.parser")
        return [(item.select_one(".product-card__name a").get_text(strip=True),
                 item.select_one(".stock-band")["data-band"]) for item in page.select(".point-stock__item")]

    assert point_bands() == [("Hạt điều rang muối", "few_left")]
    assert point_bands() == [("Hạt điều rang muối", "few_left")]  # from the cache
    with app.app_context():
        make_stock(db.session.get(SalesPoint, storefront["centre_id"]),
                   db.session.get(Product, storefront["product_id"]),
                   db.session.get(User, storefront["clerk_id"]), lot_code="L2", quantity=50)
        db.session.commit()
    assert point_bands() == [("Hạt điều rang muối", "in_stock")]


def test_point_pages_with_a_map_and_photos_follow_the_accessibility_rules(app, client, storefront):
    with app.app_context():
        centre = db.session.get(SalesPoint, storefront["centre_id"])
        centre.latitude, centre.longitude = 10.9469, 106.8198
        add_point_photo(centre, BytesIO(make_placeholder("front", (800, 600))), alt="Mặt tiền trung tâm",
                        actor=db.session.get(User, storefront["clerk_id"]))
        db.session.commit()
    listing = BeautifulSoup(client.get("/points").get_data(as_text=True), "html.parser")
    assert_accessible(listing, "/points")
    card = listing.select_one('[data-point-code="DN-TT-01"]')
    assert (card["data-point-lat"], card["data-point-lng"]) == ("10.9469", "106.8198")
    assert card["data-point-url"] == "/points/DN-TT-01"
    assert not listing.select_one('[data-point-code="DN-XL-01"]').has_attr("data-point-lat"), "no coordinates"
    scripts = [script["src"] for script in listing.find_all("script", src=True)]
    assert "/static/vendor/leaflet/leaflet.js" in scripts and "/static/js/points-map.js" in scripts
    for asset in ("/static/vendor/leaflet/leaflet.css", "/static/vendor/leaflet/images/marker-icon.png",
                  "/static/vendor/leaflet/LICENSE", "/static/js/points-map.js", "/static/css/points.css"):
        with client.get(asset) as response:
            assert response.status_code == 200, asset

    detail = BeautifulSoup(client.get("/points/DN-TT-01").get_data(as_text=True), "html.parser")
    assert_accessible(detail, "/points/DN-TT-01")
    assert detail.select_one(".point-photos img")["alt"] == "Mặt tiền trung tâm"
