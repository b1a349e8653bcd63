"""Checkout with a card, against localstripe over HTTP: the order waits for its payment with its intent created;
when the payment service cannot be reached the checkout says so and nothing is created or held."""
import socket

import sqlalchemy as sa

from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.models import CardPayment
from tests.checkout.pages import PICKUP, add, available, build_site, orders, page
from tests.conftest import post_form
from tests.payments.conftest import localstripe, stripe_config  # noqa: F401 (the session's localstripe)

CARD = {**PICKUP, "payment_method": "card"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once the probe closes: nothing listens there


def test_a_card_order_waits_for_its_payment_on_the_pay_page(make_app, localstripe):  # noqa: F811
    app = make_app(**stripe_config(localstripe))
    site, client = build_site(app), app.test_client()
    add(client, site)
    response = post_form(client, "/checkout", CARD)
    assert response.status_code == 303
    [order] = orders(app)
    assert response.headers["Location"] == f"/orders/{order.number}/pay?key={order.access_key}"
    assert order.status == OrderStatus.PENDING_PAYMENT and order.hold_until is not None
    assert available(app, site) == 3
    with app.app_context():
        payment = db.session.scalar(sa.select(CardPayment))
        assert payment.order_id == order.id and payment.amount_vnd == 240_000


def test_the_payment_service_down_places_nothing_and_holds_nothing(make_app):
    app = make_app(**stripe_config(f"http://127.0.0.1:{closed_port()}"))
    site, client = build_site(app), app.test_client()
    add(client, site)
    response = post_form(client, "/checkout?lang=en", CARD)
    assert response.status_code == 400
    assert "payment service is unavailable" in page(response).select_one("#payment_method-error").get_text()
    assert orders(app) == [] and available(app, site) == 5
    assert page(client.get("/cart")).select(".cart-table")  # the cart is kept for the retry
