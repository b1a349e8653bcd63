"""The cart and checkout pages as a buyer uses them: add from the product page, check out, and every refusal
answered with 400, the message on the page, nothing created and nothing held."""
import re

import pytest
import sqlalchemy as sa

from shop.catalog.models import Product
from shop.checkout.models import CartLine
from shop.extensions import db
from shop.inventory.services import reserve_stock
from shop.orders.models import OrderStatus
from shop.sales_points.queries import get_by_code
from tests.checkout.pages import PICKUP, add, available, build_site, orders, page
from tests.conftest import csrf_token, login, post_form
from tests.test_accessibility import assert_accessible


@pytest.fixture
def site(app):
    return build_site(app)


def test_a_guest_adds_to_the_cart_from_the_product_page_and_orders_for_pickup(app, client, site):
    product_page = page(client.get(f"/products/{site['cashews_slug']}"))
    assert product_page.select_one('form[action="/cart/add"] input[name="quantity"]')
    response = add(client, site)
    assert response.status_code == 303 and response.headers["Location"].endswith("/cart")
    cart = page(client.get("/cart?lang=en"))
    assert cart.select_one(f"#quantity-{site['cashews']}")["value"] == "2"
    assert "240.000" in cart.select_one(".cart-table__subtotal").get_text()

    checkout = page(client.get("/checkout"))
    assert [i["value"] for i in checkout.select('input[name="pickup_point"]')] == ["DN-TT-01"]
    response = post_form(client, "/checkout", PICKUP)
    assert response.status_code == 303
    [order] = orders(app)
    assert re.fullmatch(rf"/orders/{order.number}\?key={order.access_key}", response.headers["Location"])
    assert order.status == OrderStatus.CONFIRMED and order.total_vnd == 240_000 and order.phone == "+84912345678"
    assert available(app, site) == 3
    assert client.get("/checkout").status_code == 302  # the cart is empty now


def test_the_checkout_recomputes_prices_sent_in_the_form(app, client, site):
    add(client, site)
    response = post_form(client, "/checkout", {**PICKUP, "unit_price_vnd": "1", "subtotal_vnd": "1",
                                               "total_vnd": "1", "shipping_fee_vnd": "-50000"})
    assert response.status_code == 303
    [order] = orders(app)
    assert (order.total_vnd, order.shipping_fee_vnd, order.lines[0].unit_price_vnd) == (240_000, 0, 120_000)


def test_home_delivery_with_cash_on_delivery(app, client, site):
    add(client, site)
    response = post_form(client, "/checkout", {**PICKUP, "fulfilment": "delivery", "payment_method":
                                               "cash_on_delivery", "province_code": "75", "ward_code": "26221",
                                               "street": "12 Hùng Vương"})
    assert response.status_code == 303
    [order] = orders(app)
    assert order.fulfilment == "delivery" and order.total_vnd == 260_000


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "21"])
def test_bad_quantities_are_refused_with_400_and_nothing_in_the_cart(client, site, quantity):
    response = add(client, site, quantity=quantity)
    assert response.status_code == 400
    assert page(response).select_one(".error-summary")
    assert not page(client.get("/cart")).select(".cart-table")


def test_updating_and_removing_lines(client, site):
    add(client, site)
    url = "/cart"
    assert post_form(client, "/cart/update", {"product_id": site["cashews"], "quantity": "5"},
                     form_url=url).status_code == 303
    assert page(client.get(url)).select_one(f"#quantity-{site['cashews']}")["value"] == "5"
    assert post_form(client, "/cart/update", {"product_id": site["cashews"], "quantity": "0"},
                     form_url=url).status_code == 400
    assert post_form(client, "/cart/remove", {"product_id": site["cashews"]}, form_url=url).status_code == 303
    assert not page(client.get(url)).select(".cart-table")


@pytest.mark.parametrize("change, field", [({"phone": "12345"}, "phone"), ({"email": "binh@"}, "email"),
                                           ({"pickup_point": "DN-XL-01"}, "pickup_point"),
                                           ({"payment_method": "cash_on_delivery"}, "payment_method"),
                                           ({"fulfilment": "delivery", "payment_method": "cash_on_delivery",
                                             "province_code": "75", "ward_code": "4"}, "ward_code"),
                                           ({"fulfilment": "delivery", "payment_method": "cash_on_delivery",
                                             "province_code": "9999"}, "province_code")])
def test_refusals_come_back_as_400_with_the_message_on_the_field_and_nothing_held(app, client, site, change,
                                                                                  field):
    add(client, site)
    response = post_form(client, "/checkout", {**PICKUP, **change})
    assert response.status_code == 400
    html = page(response)
    assert html.select_one(f"#{field}-error"), field
    assert_accessible(html, f"/checkout ({field} refused)")
    assert orders(app) == [] and available(app, site) == 5


def test_not_enough_stock_is_said_on_the_page(app, client, site):
    add(client, site, quantity="4")
    with app.app_context():  # someone else takes the units between the cart and the checkout
        reserve_stock(get_by_code("DN-TT-01"), db.session.get(Product, site["cashews"]), 3, reference="DH-OTHER")
        db.session.commit()
    response = post_form(client, "/checkout", {**PICKUP, "fulfilment": "delivery", "payment_method":
                                               "cash_on_delivery", "province_code": "75", "ward_code": "26221",
                                               "street": "12 Hùng Vương"})
    assert response.status_code == 400 and page(response).select_one(".error-summary")
    assert orders(app) == [] and available(app, site) == 2


def test_alcohol_asks_for_the_age_confirmation(app, client, site):
    add(client, site, product="wine", quantity="1")
    checkout = page(client.get("/checkout"))
    assert checkout.select_one('input[name="age_confirmed"]')
    response = post_form(client, "/checkout", PICKUP)
    assert response.status_code == 400 and page(response).select_one("#age_confirmed-error")
    assert post_form(client, "/checkout", {**PICKUP, "age_confirmed": "y"}).status_code == 303
    assert orders(app)[0].age_confirmed


def test_the_guest_cart_joins_the_stored_cart_at_login_and_the_checkout_is_prefilled(app, client, site):
    add(client, site, quantity="3")
    assert login(client, "khach@example.vn").status_code in (302, 303)
    with app.app_context():
        assert [(line.product_id, line.quantity) for line in db.session.scalars(sa.select(CartLine))] == [
            (site["cashews"], 3)]
    checkout = page(client.get("/checkout"))
    assert checkout.select_one("#name")["value"] == "Lê Thị Khách"
    assert checkout.select_one("#email")["value"] == "khach@example.vn"
    response = post_form(client, "/checkout", PICKUP)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CartLine)) == 0


def test_the_add_to_cart_form_works_for_every_visitor_of_a_cached_product_page(app, site):
    assert app.config["PAGE_CACHE_SIZE"]  # the second visitor gets the page from the cache
    first, second = app.test_client(), app.test_client()
    assert csrf_token(first, f"/products/{site['cashews_slug']}") != csrf_token(second,
                                                                              f"/products/{site['cashews_slug']}")
    assert add(first, site).status_code == 303 and add(second, site).status_code == 303


def test_cart_and_checkout_pages_follow_the_accessibility_rules(client, site):
    assert_accessible(page(client.get("/cart")), "/cart (empty)")
    add(client, site)
    add(client, site, product="wine", quantity="1")
    assert_accessible(page(client.get("/cart")), "/cart")
    assert_accessible(page(client.get("/checkout")), "/checkout")


def test_the_cart_link_counts_the_units_for_guests_and_customers(app, client, site):
    from shop.checkout.views import cart_link

    with app.test_request_context("/"):
        assert "(" not in cart_link(0)
    add(client, site, quantity="3")
    with client.session_transaction() as stored:
        guest_cart = dict(stored["cart"])
    with app.test_request_context("/"):
        from flask import session

        session["cart"] = guest_cart
        assert "(3" in cart_link(0)


def test_without_javascript_choosing_a_province_lists_its_communes_and_places_nothing(app, client, site):
    add(client, site)
    response = post_form(client, "/checkout", {**PICKUP, "submit": "", "refresh": "1", "fulfilment": "delivery",
                                               "province_code": "79"})
    assert response.status_code == 200 and orders(app) == []
    html = page(response)
    assert html.select_one('#province_code option[selected]')["value"] == "79"
    wards = [option["value"] for option in html.select("#ward_code option") if option["value"]]
    assert wards and "26221" not in wards  # Hồ Chí Minh City's communes, not Đồng Nai's


def test_with_online_alcohol_sales_off_the_product_page_offers_no_cart_and_adding_is_refused(app, client, site):
    app.config["ALCOHOL_ONLINE_SALES"] = False
    wine_page = page(client.get(f"/products/{site['wine_slug']}"))
    assert not wine_page.select('form[action="/cart/add"]')
    assert add(client, site, product="wine", quantity="1").status_code == 400
    assert not page(client.get("/cart")).select(".cart-table")
