"""End to end with localstripe's own webhook delivery: `flask payments sandbox-webhook` registers the app's
webhook, a card payment succeeds at localstripe, and localstripe's signed event reaches a running server and
confirms the order with no return page involved."""
import threading
import time

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from shop.extensions import db
from shop.orders.models import Order, OrderStatus
from shop.payments import services as payments
from shop.payments.cli import sandbox_webhook
from tests.conftest import TEST_DATABASE_URL
from tests.live_server import free_port
from tests.payments.conftest import build_shop, pay_with_card, stripe_config


@pytest.fixture
def served(make_app, localstripe, tmp_path):
    """The app served by a real HTTP server in a thread, over a database other threads can share."""
    app = make_app(**stripe_config(localstripe),
                   SQLALCHEMY_DATABASE_URI=TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'hook.sqlite'}")
    if not TEST_DATABASE_URL:
        with app.app_context():
            db.create_all()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_localstripe_delivers_a_signed_success_that_confirms_the_order(served, sdk):
    app, base = served
    registered = app.test_cli_runner().invoke(sandbox_webhook, ["--url", f"{base}/payments/stripe/webhook"])
    assert registered.exit_code == 0, registered.output
    shop = build_shop(app)
    number, _ = shop.place_card_order()
    with app.app_context():
        intent_id = payments.card_payment_of(shop.order(number)).intent_id
    assert pay_with_card(sdk, intent_id) == "succeeded"  # localstripe posts the event about a second later
    assert _status(app, number) == OrderStatus.PENDING_PAYMENT  # nobody read the intent: only the webhook can
    deadline = time.monotonic() + 15
    while _status(app, number) != OrderStatus.CONFIRMED:
        assert time.monotonic() < deadline, "localstripe's webhook did not confirm the order"
        time.sleep(0.2)
    with app.app_context():
        assert [event.kind for event in shop.order(number).events] == ["placed", "paid"]


def test_the_sandbox_command_says_when_there_is_no_sandbox(make_app):
    result = make_app(STRIPE_API_BASE=None).test_cli_runner().invoke(sandbox_webhook, [])
    assert result.exit_code == 1 and "STRIPE_API_BASE" in result.output


def _status(app, number):
    with app.app_context():
        return db.session.scalar(sa.select(Order.status).where(Order.number == number))
