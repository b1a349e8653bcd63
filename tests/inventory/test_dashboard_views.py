"""The point's home page and alerts page, as the manager of DN-XL-01 (16 units of cashews: lot L-SOON 6 units
expiring in 20 days, lot L-LATE 10 units in 200 days, both bought at 80 000 ₫, sold at 120 000 ₫)."""
from datetime import timedelta

import sqlalchemy as sa
from bs4 import BeautifulSoup

from shop.accounts.models import Role, User
from shop.catalog.models import Product
from shop.core.clock import today
from shop.extensions import db
from shop.inventory.services import sell_at_counter
from shop.sales_points.models import PointProduct, SalesPoint
from tests.conftest import csrf_token, login
from tests.factories import make_certificate, make_product, make_stock, make_user
from tests.test_accessibility import assert_accessible


def page(desk, path="", code=None, status=200) -> BeautifulSoup:
    response = desk.client.get(desk.url(path, code))
    assert response.status_code == status, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def sell(desk, *lines):
    """One counter sale through the service: lines of (product id, quantity)."""
    with desk.app.app_context():
        sell_at_counter(db.session.get(SalesPoint, desk.point_id),
                        [(db.session.get(Product, pid), qty) for pid, qty in lines], payment_method="cash",
                        actor=db.session.get(User, desk.manager_id))
        db.session.commit()


def add_product(desk, name, price, quantity, **stock):
    """Another product on DN-XL-01's shelf; **stock goes to make_stock, `certificate_days` to its certificate."""
    certificate_days = stock.pop("certificate_days", None)
    with desk.app.app_context():
        product = make_product(name=name, price_vnd=price, stars=None if certificate_days else 4)
        if certificate_days:
            make_certificate(product, stars=4, valid_until=today() + timedelta(days=certificate_days))
        make_stock(db.session.get(SalesPoint, desk.point_id), product, db.session.get(User, desk.manager_id),
                   quantity=quantity, **stock)
        db.session.commit()
        return product.id


def money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + "\u00a0₫"


def threshold_of(desk, product_id):
    with desk.app.app_context():
        return db.session.get(PointProduct, (desk.point_id, product_id)).low_stock_threshold


# --- the dashboard ----------------------------------------------------------------------------------------------

def test_the_dashboard_shows_stock_value_and_units(desk):
    html = page(desk)
    assert money(16 * 80_000) in html.select_one("#stock-value").get_text()
    assert money(16 * 120_000) in html.select_one("#stock-value").get_text()
    assert html.select_one("#units-on-hand .dash-tile__value").get_text(strip=True) == "16"
    assert_accessible(html, "dashboard")


def test_the_chart_has_thirty_days_and_todays_bar_grows_after_a_counter_sale(desk):
    bars = page(desk).select("svg rect.sales-chart__bar")
    assert len(bars) == 30 and all(float(bar["height"]) == 0 for bar in bars)
    sell(desk, (desk.product_id, 2))
    html = page(desk)
    bars = html.select("svg rect.sales-chart__bar")
    today_bar = bars[-1]
    assert today_bar["data-day"] == today().isoformat()
    assert (today_bar["data-total"], today_bar["data-count"]) == ("240000", "1")
    assert float(today_bar["height"]) > 100
    assert all(float(bar["height"]) == 0 and bar["data-total"] == "0" for bar in bars[:-1])  # zero days are there
    # The same numbers for those who do not see the chart: a table of every day, and the chart's description.
    rows = html.select("#sales-table tbody tr")
    assert len(rows) == 30 and money(240_000) in rows[0].get_text()
    assert rows[1].select("td")[0].get_text(strip=True) == "0"
    svg = html.select_one("svg.sales-chart__svg")
    assert svg["role"] == "img" and svg.find("title") and money(240_000) in svg.find("desc").get_text()
    assert money(240_000) in html.select_one("#sales-total").get_text()
    # 14 units left at cost: the 4 of L-SOON and the 10 of L-LATE.
    assert money(14 * 80_000) in html.select_one("#stock-value").get_text()


def test_top_products_are_ordered_by_revenue(desk):
    honey = add_product(desk, "Mật ong rừng", 50_000, 10)
    sell(desk, (desk.product_id, 1), (honey, 3))
    rows = page(desk).select("#top-products tbody tr")
    assert [(row["data-product-id"], row.select("td")[1].get_text(strip=True)) for row in rows] == [
        (str(honey), "3"), (str(desk.product_id), "1")]
    assert money(150_000) in rows[0].get_text()


def test_the_dashboard_lists_lots_and_certificates_about_to_expire(desk):
    add_product(desk, "Bánh pía", 60_000, 8, lot_code="L-10", expires_in_days=10)
    add_product(desk, "Mật ong rừng", 50_000, 5, lot_code="M-1", certificate_days=60)
    html = page(desk)
    assert [item["data-lot-code"] for item in html.select("#expiring-lots li")] == ["L-10", "L-SOON"]
    certificates = html.select("#certificates li")
    assert len(certificates) == 1 and "Mật ong rừng" in certificates[0].get_text()
    assert (today() + timedelta(days=60)).strftime("%d/%m/%Y") in certificates[0].get_text()
    assert html.select_one(f"a[href='{desk.url('/alerts')}']")


# --- alerts and thresholds --------------------------------------------------------------------------------------

def post_thresholds(desk, values: dict, code=None):
    token = csrf_token(desk.client, desk.url("/alerts"))
    data = {"csrf_token": token, **{f"threshold_{pid}": value for pid, value in values.items()}}
    return desk.client.post(desk.url("/thresholds", code), data=data)


def low_stock_ids(desk):
    return [item["data-product-id"] for item in page(desk, "/alerts").select("#low-stock li")]


def test_a_low_stock_alert_follows_the_threshold_the_manager_sets(desk):
    assert low_stock_ids(desk) == []  # 16 available, default threshold 5
    response = post_thresholds(desk, {desk.product_id: "20"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/alerts#thresholds")
    assert threshold_of(desk, desk.product_id) == 20
    assert low_stock_ids(desk) == [str(desk.product_id)]
    assert page(desk, "/alerts").select_one(f"#threshold_{desk.product_id}")["value"] == "20"
    # Lowered to 12: 16 available is enough again.
    post_thresholds(desk, {desk.product_id: "12"})
    assert low_stock_ids(desk) == []
    # Selling down to 10 brings it back; blank returns to the default of 5, which 10 clears.
    sell(desk, (desk.product_id, 6))
    assert low_stock_ids(desk) == [str(desk.product_id)]
    assert post_thresholds(desk, {desk.product_id: ""}).status_code == 303
    assert threshold_of(desk, desk.product_id) is None
    assert low_stock_ids(desk) == []


def test_bad_thresholds_are_refused_with_a_message_and_nothing_changes(desk):
    honey = add_product(desk, "Mật ong rừng", 50_000, 10)
    post_thresholds(desk, {desk.product_id: "7", honey: "3"})
    for bad in ("-1", "abc", "2.5", "99999999"):
        response = post_thresholds(desk, {desk.product_id: "9", honey: bad})
        assert response.status_code == 400, bad
        html = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        field = html.select_one(f"#threshold_{honey}")
        assert field["aria-invalid"] == "true" and html.select_one(".error-summary"), bad
        assert_accessible(html, f"alerts with the error {bad}")
    assert (threshold_of(desk, desk.product_id), threshold_of(desk, honey)) == (7, 3)


def test_the_alerts_page_lists_everything_and_is_accessible(desk):
    add_product(desk, "Bánh pía", 60_000, 2, lot_code="L-10", expires_in_days=10)
    html = page(desk, "/alerts")
    assert [item["data-lot-code"] for item in html.select("#expiring-lots li")] == ["L-10", "L-SOON"]
    assert len(html.select("#low-stock li")) == 1  # Bánh pía: 2 below 5
    assert len(html.select("table.thresholds tbody tr")) == 2
    assert_accessible(html, "alerts")


# --- who may see and change -------------------------------------------------------------------------------------

def test_a_manager_cannot_open_or_change_another_points_pages(desk):
    for path in ("", "/alerts"):
        page(desk, path, code=desk.other_code, status=403)
    assert post_thresholds(desk, {desk.product_id: "1"}, code=desk.other_code).status_code == 403
    page(desk, "", code="DN-XX-99", status=404)


def test_a_trade_officer_reads_any_dashboard_but_cannot_set_thresholds(desk):
    with desk.app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        db.session.commit()
    desk.client = desk.app.test_client()  # a fresh browser: the officer's own session
    login(desk.client, "officer@example.vn")
    assert money(16 * 80_000) in page(desk).select_one("#stock-value").get_text()
    page(desk, code=desk.other_code)
    alerts = page(desk, "/alerts")
    assert alerts.select_one(f"#threshold_{desk.product_id}").has_attr("disabled")
    assert not alerts.select("#thresholds-form button")
    token = csrf_token(desk.client, desk.url("/alerts"))
    response = desk.client.post(desk.url("/thresholds"), data={"csrf_token": token,
                                                               f"threshold_{desk.product_id}": "1"})
    assert response.status_code == 403
    assert threshold_of(desk, desk.product_id) is None
    with desk.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PointProduct)
                                 .where(PointProduct.low_stock_threshold.is_not(None))) == 0
