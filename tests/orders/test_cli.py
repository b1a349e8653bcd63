"""`flask orders expire` (for a job): overdue orders are cancelled, their stock goes back on the shelf and the
storefront shows it again; each expired order is printed, then the count."""
from datetime import timedelta

import sqlalchemy as sa

from shop.accounts.models import Role
from shop.core.clock import today
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory.queries import available_quantity, verify_ledger
from shop.orders import services
from shop.orders.models import Order, OrderStatus
from tests.factories import make_point, make_product, make_stock, make_user
from tests.orders.conftest import CONTACT


def place_pickup_order(point, product, quantity: int, *, minutes_overdue: int,
                       payment_method: str = "card") -> str:
    """A pickup order (unpaid when by card) whose hold ran out `minutes_overdue` ago (negative: still running)."""
    order = services.create_order(point, [(product, quantity)], fulfilment="pickup", payment_method=payment_method,
                                  contact=CONTACT)
    order.hold_until = utcnow() - timedelta(minutes=minutes_overdue)
    db.session.commit()
    return order.number


def status_of(number: str) -> OrderStatus:
    db.session.expire_all()
    return db.session.scalar(sa.select(Order.status).where(Order.number == number))


def test_expire_cancels_an_overdue_unpaid_card_order_and_releases_its_stock(app, runner, point, product):
    overdue = place_pickup_order(point, product, 3, minutes_overdue=1)
    running = place_pickup_order(point, product, 1, minutes_overdue=-20)
    uncollected = place_pickup_order(point, product, 1, minutes_overdue=60, payment_method="pay_at_pickup")
    assert available_quantity(point.id, product.id, today()) == 0

    result = runner.invoke(args=["orders", "expire"])
    assert result.exit_code == 0, result.output
    assert f"{overdue}  expired: unpaid" in result.output and running not in result.output
    assert f"{uncollected}  expired: not collected" in result.output
    assert "2 order(s) expired." in result.output
    assert status_of(overdue) == OrderStatus.CANCELLED and status_of(running) == OrderStatus.PENDING_PAYMENT
    assert available_quantity(point.id, product.id, today()) == 4
    assert verify_ledger() == []


def test_the_storefront_shows_the_released_stock_again(app, runner):
    with app.app_context():  # set up, then leave the context: requests push their own
        staff = make_user(Role.POINT_MANAGER)
        point, product = make_point("DN-TT-01", tier="centre"), make_product(name="Mật ong rừng", price_vnd=90_000)
        make_stock(point, product, staff, quantity=5)
        place_pickup_order(point, product, 5, minutes_overdue=5)
        product_page = f"/products/{product.slug}"
    storefront = app.test_client()
    assert 'data-band="out_of_stock"' in storefront.get(product_page).get_data(as_text=True)
    assert runner.invoke(args=["orders", "expire"]).exit_code == 0
    assert 'data-band="few_left"' in storefront.get(product_page).get_data(as_text=True)


def test_nothing_overdue_prints_zero_and_succeeds(app, runner, point, product):
    running = place_pickup_order(point, product, 1, minutes_overdue=-5)
    result = runner.invoke(args=["orders", "expire"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "0 order(s) expired."
    assert status_of(running) == OrderStatus.PENDING_PAYMENT
