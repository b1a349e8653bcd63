"""The buyer's side over HTTP: the pay page (only for the order's owner or its secret link), the sandbox card
confirmation the page's script uses with localstripe, and the return page that reads the intent on the server."""
import re

import pytest

from shop.accounts.models import Role
from shop.catalog.models import Product
from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.sales_points.models import SalesPoint
from tests.conftest import csrf_token, login
from tests.factories import make_user
from tests.live_server import free_port
from tests.payments.conftest import place

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def status_of(shop, number):
    with shop.app.app_context():
        order = shop.order(number)
        return order.status, order.paid_vnd


def test_the_pay_page_opens_only_with_the_secret_link(client, shop, localstripe):
    number, key = shop.place_card_order()
    assert client.get(f"/orders/{number}/pay").status_code == 404
    assert client.get(f"/orders/{number}/pay?key=wrong").status_code == 404
    assert client.get(f"/orders/DH-999999/pay?key={key}").status_code == 404
    page = client.get(f"/orders/{number}/pay?key={key}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'src="{localstripe}/js.stripe.com/v3/"' in html and "js/pay.js" in html
    assert 'data-client-secret="pi_' in html and "150.000" in html
    policy = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert localstripe in policy["script-src"] and localstripe in policy["connect-src"]
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


def test_the_owner_logged_in_needs_no_key_and_others_get_404(client, shop):
    with shop.app.app_context():
        owner = make_user(Role.CUSTOMER, email="owner@example.vn")
        make_user(Role.CUSTOMER, email="other@example.vn")
        order = place(db.session.get(SalesPoint, shop.point_id), db.session.get(Product, shop.product_id),
                      customer=owner)
        number = order.number
    login(client, "other@example.vn")
    assert client.get(f"/orders/{number}/pay").status_code == 404
    client.post("/account/logout")
    other_client = shop.app.test_client()
    login(other_client, "owner@example.vn")
    assert other_client.get(f"/orders/{number}/pay").status_code == 200


def test_a_paid_order_s_pay_page_goes_back_to_the_order(client, shop, sdk):
    number, key = shop.place_card_order()
    pay_in_sandbox(client, sdk, number, key)
    client.get(f"/orders/{number}/payment-return?key={key}")
    response = client.get(f"/orders/{number}/pay?key={key}")
    assert response.status_code == 302 and response.location.endswith(f"/orders/{number}?key={key}")


def pay_in_sandbox(client, sdk, number, key, card=CARD):
    """What static/js/pay.js does with localstripe: tokenise the card, post the token with the CSRF token."""
    html = client.get(f"/orders/{number}/pay?key={key}").get_data(as_text=True)
    csrf = re.search(r'data-csrf-token="([^"]+)"', html).group(1)
    token = sdk.v1.tokens.create(params={"card": card})
    return client.post(f"/orders/{number}/pay/sandbox-card?key={key}&lang=en", json={"token": token.id},
                       headers={"X-CSRFToken": csrf})


def test_paying_with_the_test_card_then_returning_confirms_the_order(client, shop, sdk):
    number, key = shop.place_card_order()
    early = client.get(f"/orders/{number}/payment-return?key={key}")  # back before paying: nothing changes
    assert early.status_code == 302 and status_of(shop, number) == (OrderStatus.PENDING_PAYMENT, 0)
    paid = pay_in_sandbox(client, sdk, number, key)
    assert paid.status_code == 200 and paid.json["status"] == "succeeded"
    back = client.get(f"/orders/{number}/payment-return?key={key}&redirect_status=succeeded")
    assert back.status_code == 302 and back.location.endswith(f"/orders/{number}?key={key}")
    assert status_of(shop, number) == (OrderStatus.CONFIRMED, 150_000)


def test_the_return_page_never_trusts_the_browser(client, shop):
    number, key = shop.place_card_order()
    client.get(f"/orders/{number}/payment-return?key={key}&redirect_status=succeeded&payment_intent=pi_x")
    assert status_of(shop, number) == (OrderStatus.PENDING_PAYMENT, 0)
    assert client.get(f"/orders/{number}/payment-return").status_code == 404


@pytest.mark.parametrize("number", ["4000000000000002", "4000000000000341"])
def test_a_declined_card_is_said_and_the_order_stays_pending(client, shop, sdk, number):
    # 0002: declined as the card is taken; 0341: taken, then the charge is declined (localstripe's two cases).
    order_number, key = shop.place_card_order()
    declined = pay_in_sandbox(client, sdk, order_number, key, {**CARD, "number": number})
    assert declined.status_code == 402 and declined.json["error"]["code"] == "card_declined"
    assert "declined" in declined.json["error"]["message"]
    client.get(f"/orders/{order_number}/payment-return?key={key}")
    assert status_of(shop, order_number) == (OrderStatus.PENDING_PAYMENT, 0)


def test_after_a_card_declined_as_it_is_taken_another_card_pays_the_same_intent(client, shop, sdk):
    number, key = shop.place_card_order()
    pay_in_sandbox(client, sdk, number, key, {**CARD, "number": "4000000000000002"})
    assert pay_in_sandbox(client, sdk, number, key).json["status"] == "succeeded"
    client.get(f"/orders/{number}/payment-return?key={key}")
    assert status_of(shop, number) == (OrderStatus.CONFIRMED, 150_000)


def test_the_sandbox_confirmation_refuses_bad_input(client, shop):
    number, key = shop.place_card_order()
    url = f"/orders/{number}/pay/sandbox-card?key={key}"
    assert client.post(url, json={"token": "tok_x"}).status_code == 400  # no CSRF token
    html = client.get(f"/orders/{number}/pay?key={key}").get_data(as_text=True)
    csrf = re.search(r'data-csrf-token="([^"]+)"', html).group(1)
    bad = client.post(url, json={"token": "pm_card_visa"}, headers={"X-CSRFToken": csrf})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "bad_token"
    stranger = client.post(f"/orders/{number}/pay/sandbox-card", json={"token": "tok_x"},
                           headers={"X-CSRFToken": csrf})
    assert stranger.status_code == 404


def test_the_sandbox_confirmation_does_not_exist_with_real_stripe(make_app):
    client = make_app(STRIPE_API_BASE=None).test_client()
    response = client.post("/orders/DH-000001/pay/sandbox-card", json={"token": "tok_x"},
                           headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 404


def test_the_payment_server_down_shows_a_retry_and_keeps_the_order(client, shop):
    number, key = shop.place_card_order()
    with shop.app.app_context():
        fresh_number = place(db.session.get(SalesPoint, shop.point_id),
                             db.session.get(Product, shop.product_id)).number
        fresh_key = shop.order(fresh_number).access_key
    shop.app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"
    page = client.get(f"/orders/{fresh_number}/pay?key={fresh_key}")
    assert page.status_code == 503
    assert f'href="/orders/{fresh_number}/pay?key={fresh_key}"' in page.get_data(as_text=True)
    assert status_of(shop, fresh_number) == (OrderStatus.PENDING_PAYMENT, 0)
    # An order whose intent exists already still shows its page: nothing needs the server until paying.
    assert client.get(f"/orders/{number}/pay?key={key}").status_code == 200


def test_with_real_stripe_the_pay_page_policy_allows_stripe_js_its_api_and_frames(make_app):
    from shop.payments.views import _payment_csp

    app = make_app(STRIPE_API_BASE=None, STRIPE_JS_URL="https://js.stripe.com/v3/")
    with app.test_request_context("/orders/DH-000001/pay"):
        policy = dict(part.strip().split(" ", 1) for part in _payment_csp().split(";"))
    assert policy["script-src"].split() == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
    assert "https://api.stripe.com" in policy["connect-src"] and "https://hooks.stripe.com" in policy["frame-src"]
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"  # the rest is the site's policy
