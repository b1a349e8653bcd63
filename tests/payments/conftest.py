"""Payments tests talk over real HTTP to localstripe, started once per test session on a free port.

(tests.live_server.localstripe: its on-disk store is switched off, so a developer's sandbox is left alone)."""
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
import stripe

from shop.catalog.models import Product
from shop.extensions import db
from shop.orders import services as orders
from shop.orders.models import Order
from shop.payments import services as payments
from shop.sales_points.models import SalesPoint
from tests import live_server
from tests.factories import make_point, make_point_manager, make_product, make_stock
from tests.orders.conftest import CONTACT, point, product, staff  # noqa: F401 (shared fixtures)

WEBHOOK_SECRET = "whsec_test_payments"


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    """The base URL of a running localstripe (the Stripe API and its Stripe.js)."""
    with live_server.localstripe(tmp_path_factory.mktemp("localstripe")) as base:
        yield base


def stripe_config(base: str) -> dict:
    return {"STRIPE_API_BASE": base, "STRIPE_JS_URL": f"{base}/js.stripe.com/v3/",
            "STRIPE_SECRET_KEY": "sk_test_payments", "STRIPE_PUBLISHABLE_KEY": "pk_test_payments",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture
def app(make_app, localstripe):
    return make_app(**stripe_config(localstripe))


@pytest.fixture
def sdk(localstripe):
    """The stripe SDK pointed at localstripe, to play the customer's side (cards, confirmation)."""
    http = stripe.RequestsClient(timeout=10)
    yield stripe.StripeClient("sk_test_payments", base_addresses={"api": localstripe}, http_client=http)
    http.close()


def place(at, goods, quantity=1, **fields):
    """An order of `quantity` units of product `goods` at point `at` (card pickup unless `fields` say otherwise)."""
    values = {"fulfilment": "pickup", "payment_method": "card", "contact": CONTACT}
    values.update(fields)
    order = orders.create_order(at, [(goods, quantity)], **values)
    db.session.commit()
    return order


@pytest.fixture
def card_order(point, product):  # noqa: F811 (the fixtures imported above)
    """A pickup order of one unit (120 000 ₫) waiting for a card payment."""
    return place(point, product)


def pay_with_card(sdk, intent_id: str, number: str = "4242424242424242") -> str:
    """What the buyer's browser does with real Stripe.js: a card on the intent, then confirm. The new status, or
    "declined"."""
    method = sdk.v1.payment_methods.create(params={"type": "card", "card": {
        "number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    sdk.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    try:
        return sdk.v1.payment_intents.confirm(intent_id).status
    except stripe.CardError:
        return "declined"


@dataclass(frozen=True)
class Shop:
    """Ids of what HTTP tests work on (built in their own app context: requests push theirs)."""

    app: object
    point_id: int
    product_id: int
    staff_id: int

    def order(self, number: str) -> Order:
        return db.session.scalar(sa.select(Order).where(Order.number == number))

    def place_card_order(self, quantity: int = 1) -> tuple[str, str]:
        """A card pickup order with its intent: (number, access key)."""
        with self.app.app_context():
            order = place(db.session.get(SalesPoint, self.point_id), db.session.get(Product, self.product_id),
                          quantity)
            payments.start_card_payment(order)
            db.session.commit()
            return order.number, order.access_key


def build_shop(app) -> Shop:
    """A centre with 4 units of a 150 000 ₫ product and its manager."""
    with app.app_context():
        staff = make_point_manager(email="staff@example.vn")
        point = make_point("DN-TT-01", tier="centre")
        product = make_product(name="Mật ong rừng", price_vnd=150_000)
        make_stock(point, product, staff, lot_code="M1", quantity=4)
        db.session.commit()
        return Shop(app, point.id, product.id, staff.id)


@pytest.fixture
def shop(app):
    return build_shop(app)
