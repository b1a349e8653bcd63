"""Checkout with a card, against localstripe over HTTP: the order waits for its payment, its intent created by
the pay page once the order is committed (Stripe is never called while the stock rows are locked); when the
payment service cannot be reached the pay page says so and offers a retry, the stock held for the order until its
hold runs out."""
import socket

import sqlalchemy as sa

from shop.extensions import db
from shop.orders.models import OrderStatus
from shop.payments.models import CardPayment
from tests.checkout.pages import PICKUP, add, available, build_site, orders
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
        assert db.session.scalar(sa.select(sa.func.count(CardPayment.id))) == 0  # not inside the checkout
    assert client.get(response.headers["Location"]).status_code == 200
    assert client.get(response.headers["Location"]).status_code == 200  # a reload: the same intent
    with app.app_context():
        [payment] = db.session.scalars(sa.select(CardPayment)).all()
        assert payment.order_id == order.id and payment.amount_vnd == 240_000


def test_the_payment_service_down_keeps_the_order_for_a_retry_on_its_pay_page(make_app, localstripe):  # noqa: F811
    app = make_app(**stripe_config(f"http://127.0.0.1:{closed_port()}"))
    site, client = build_site(app), app.test_client()
    add(client, site)
    response = post_form(client, "/checkout?lang=en", CARD)
    assert response.status_code == 303
    [order] = orders(app)
    assert order.status == OrderStatus.PENDING_PAYMENT and available(app, site) == 3  # held for 30 minutes
    pay_url = response.headers["Location"]
    down = client.get(pay_url + "&lang=en")
    assert down.status_code == 503 and "cannot be reached" in down.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CardPayment.id))) == 0
    app.config.update(stripe_config(localstripe))  # the service is back: the retry link works
    assert client.get(pay_url).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(CardPayment.amount_vnd)) == 240_000
