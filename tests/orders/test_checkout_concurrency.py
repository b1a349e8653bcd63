"""No unit sold twice. Sixteen guests, each in their own browser session, check out the last five units of a
product for pickup at the same instant as the point's manager sells one at the counter, against a real server
(gunicorn, 2 worker processes × 4 threads) on a file SQLite database, or on PostgreSQL when TEST_DATABASE_URL is
set. Also: an order whose buyer vanished before paying holds its stock only until its hold runs out."""
import re
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from shop.catalog.models import Product
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory.models import CounterSale, StockLevel
from shop.inventory.queries import available_quantity, verify_ledger
from shop.orders import services as orders
from shop.orders.models import AllocationState, Order, OrderAllocation, OrderLine, OrderStatus
from shop.sales_points.queries import get_by_code
from tests.conftest import CSRF_RE
from tests.factories import make_point, make_point_manager, make_product
from tests.inventory.conftest import receive
from tests.live_server import form_token, gunicorn, logged_in, run_together
from tests.orders.conftest import CONTACT

MANAGERS = ("counter-a@example.vn", "counter-b@example.vn")
BUYERS = 16
UNITS = 5  # on the shelf: 2 of a lot expiring sooner, 3 of a later one
CODE = "DN-XL-01"
ORDER_PAGE_RE = re.compile(r"^/orders/(DH-\d{6})\?key=")
# The point has too few units left (checkout's own check) or the reservation found none (the inventory's).
OUT_OF_STOCK_RE = re.compile(r"Not enough|no longer has every product", re.IGNORECASE)


@pytest.fixture
def counter_point(shared_app):
    """DN-XL-01 (open) with its managers and the last 5 units of one product; the ids the test needs.
    The gunicorn `server` fixture starts after it, on the same database."""
    with shared_app.app_context():
        point = make_point(CODE, name="Điểm OCOP Xuân Lộc")
        manager, _second = (make_point_manager(point, email=email) for email in MANAGERS)
        product = make_product(name="Hạt điều rang muối", price_vnd=120_000)
        receive(point, product, manager, lot_code="SOON", quantity=2, expires_in_days=30)
        receive(point, product, manager, lot_code="LATE", quantity=3, expires_in_days=200)
        db.session.commit()
        ids = {"point": point.id, "product": product.id, "slug": product.slug}
        db.session.remove()
        db.engine.dispose()  # the server processes are the only users of the database while they run
    return ids


@pytest.fixture
def server(shared_app, counter_point, tmp_path):
    """gunicorn on the same database, started once `counter_point` has filled it."""
    with gunicorn(shared_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path) as base:
        yield base


def _guest_ready_to_pay(base: str, product: dict) -> tuple[requests.Session, dict]:
    """A guest who opened the product page, put one unit in the cart and filled the checkout form for pickup
    at the point, paying there: (their session, the form they are about to send)."""
    guest = requests.Session()
    guest.get(base + "/lang/en", timeout=30)  # the refusal messages in English
    token = form_token(guest, f"{base}/products/{product['slug']}")
    added = guest.post(base + "/cart/add", data={"csrf_token": token, "product_id": str(product["product"]),
                                                 "quantity": "1"}, allow_redirects=False, timeout=30)
    assert added.status_code == 303, f"/cart/add answered {added.status_code}"
    page = guest.get(base + "/checkout", timeout=30)
    assert page.status_code == 200 and f'value="{CODE}"' in page.text, "the point is offered for pickup"
    form = {"csrf_token": CSRF_RE.search(page.text).group(1), "name": CONTACT.name, "phone": "0912 345 678",
            "email": CONTACT.email, "fulfilment": "pickup", "pickup_point": CODE, "payment_method": "pay_at_pickup"}
    return guest, form


def _order_numbers(answers: list) -> set[str]:
    return {ORDER_PAGE_RE.match(r.headers["Location"]).group(1) for r in answers if r.status_code == 303}


def test_sixteen_guests_and_the_counter_share_the_last_five_units(shared_app, counter_point, server):
    checkout_url, counter_url = f"{server}/checkout", f"{server}/manage/points/{CODE}/counter"
    buyers = [_guest_ready_to_pay(server, counter_point) for _ in range(BUYERS)]
    clerk = logged_in(server, MANAGERS[0])
    sale = {"csrf_token": form_token(clerk, counter_url), "payment_method": "cash",
            "product_id": str(counter_point["product"]), "quantity": "1"}

    def place(guest, form):
        return lambda: guest.post(checkout_url, data=form, allow_redirects=False, timeout=60)

    jobs = [place(guest, form) for guest, form in buyers]
    jobs.append(lambda: clerk.post(counter_url, data=sale, allow_redirects=False, timeout=60))
    *answers, counter = run_together(jobs)

    crashes = [r for r in [*answers, counter] if isinstance(r, Exception)]
    assert not crashes, crashes
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) <= {303, 400}, statuses  # no 500 (a locked database), no lost request
    assert counter.status_code in (303, 400), counter.status_code
    ordered, sold_at_counter = statuses.count(303), int(counter.status_code == 303)
    assert ordered + sold_at_counter == UNITS
    for refused in (r for r in answers if r.status_code == 400):
        assert OUT_OF_STOCK_RE.search(refused.text), "the loser is told there is not enough stock"
        assert 'action="/checkout"' in refused.text, "on the checkout page, their details still filled in"
        assert CONTACT.email in refused.text
    if not sold_at_counter:
        assert "Not enough" in counter.text
    numbers = _order_numbers(answers)
    assert len(numbers) == ordered, "one order per winner"

    (winner, form), won = next(pair for pair in zip(buyers, answers, strict=True) if pair[1].status_code == 303)
    page = winner.get(server + won.headers["Location"], timeout=30)
    assert page.status_code == 200 and ORDER_PAGE_RE.match(won.headers["Location"]).group(1) in page.text
    again = winner.post(checkout_url, data=form, allow_redirects=False, timeout=30)
    assert again.status_code == 400, "the order emptied the cart: sending the form again orders nothing"

    with shared_app.app_context():
        _assert_books(counter_point, numbers, sold_at_counter)
        db.session.remove()


def _assert_books(ids: dict, numbers: set[str], sold_at_counter: int) -> None:
    """Every winner's order holds its unit, the counter sale took its own, nothing is negative or held twice."""
    levels = db.session.scalars(sa.select(StockLevel).where(StockLevel.point_id == ids["point"])).all()
    assert all(level.on_hand >= 0 and 0 <= level.reserved <= level.on_hand for level in levels)
    assert sum(level.on_hand for level in levels) == UNITS - sold_at_counter
    assert sum(level.reserved for level in levels) == len(numbers)
    held = dict(db.session.execute(
        sa.select(OrderAllocation.stock_level_id, sa.func.sum(OrderAllocation.quantity))
        .where(OrderAllocation.state == AllocationState.HELD).group_by(OrderAllocation.stock_level_id)).all())
    assert {level.id: level.reserved for level in levels if level.reserved} == held
    placed = db.session.scalars(sa.select(Order)).all()
    assert {order.number for order in placed} == numbers
    for order in placed:
        assert order.status == OrderStatus.CONFIRMED and order.point_id == ids["point"]
        assert [(line.quantity, sum(a.quantity for a in line.allocations)) for line in order.lines] == [(1, 1)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CounterSale)) == sold_at_counter
    assert available_quantity(ids["point"], ids["product"], today()) == 0
    assert verify_ledger() == []


# ------------------------------------------------------------------------------ a buyer who never pays

def _pending_card_order(point, product, quantity: int) -> str:
    """A card order placed and committed; then the buyer's request dies (crash, closed tab) before paying."""
    order = orders.create_order(point, [(product, quantity)], fulfilment="pickup", payment_method="card",
                                contact=CONTACT)
    db.session.commit()
    number = order.number
    db.session.remove()
    return number


def _other_buyer_orders(point, product, quantity: int) -> Order:
    order = orders.create_order(point, [(product, quantity)], fulfilment="pickup", payment_method="pay_at_pickup",
                                contact=CONTACT)
    db.session.commit()
    return order


def test_an_order_abandoned_before_paying_holds_the_stock_only_until_its_hold_runs_out(point, product):
    product_id = product.id
    number = _pending_card_order(point, product, 5)
    # What the next request (or the expiry job, another process) sees: only what was committed.
    point, product = get_by_code("DN-TT-01"), db.session.get(Product, product_id)
    assert available_quantity(point.id, product.id, today()) == 0
    with pytest.raises(DomainError) as refused:
        _other_buyer_orders(point, product, 1)
    assert refused.value.code == "insufficient_stock"
    db.session.rollback()

    assert orders.expire_overdue() == [], "within its 30 minutes the unpaid order keeps its units"
    db.session.commit()
    order = db.session.scalar(sa.select(Order).where(Order.number == number))
    assert order.status == OrderStatus.PENDING_PAYMENT and order.hold_until > utcnow()

    order.hold_until = utcnow() - timedelta(minutes=1)  # the 30 minutes have passed
    db.session.commit()
    assert [o.number for o in orders.expire_overdue()] == [number]  # what `flask orders expire` runs
    db.session.commit()
    db.session.expire_all()

    assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "unpaid"
    assert {a.state for line in order.lines for a in line.allocations} == {AllocationState.RELEASED}
    assert available_quantity(point.id, product.id, today()) == 5, "the storefront shows them again"
    assert db.session.scalar(sa.select(sa.func.sum(StockLevel.reserved))) == 0
    assert _other_buyer_orders(point, product, 5).status == OrderStatus.CONFIRMED, "and another buyer gets them"
    assert orders.expire_overdue() == [], "an expired order is not expired twice"
    assert verify_ledger() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderLine)) == 2
