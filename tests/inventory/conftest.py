import threading
from datetime import timedelta

import pytest

from shop.accounts.models import Role
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory.services import receive_stock
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_point, make_product, make_user


@pytest.fixture
def manager(app_ctx):
    return make_user(Role.POINT_MANAGER)


@pytest.fixture
def point(app_ctx):
    return make_point("DN-XL-01")


@pytest.fixture
def product(app_ctx):
    return make_product(name="Hạt điều rang muối", price_vnd=120_000)


def receive(point, product, actor, *, lot_code="L1", quantity=10, produced_days_ago=10, expires_in_days=180,
            **kw):
    fields = {"lot_code": lot_code, "production_date": today() - timedelta(days=produced_days_ago),
              "expiry_date": None if expires_in_days is None else today() + timedelta(days=expires_in_days),
              "quantity": quantity, "unit_cost_vnd": 80_000, "delivery_note": "PGH-001", "actor": actor}
    fields.update(kw)
    return receive_stock(point, product, **fields)


@pytest.fixture
def shared_app(make_app, tmp_path):
    if TEST_DATABASE_URL:
        return make_app()
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/c.sqlite")
    with app.app_context():
        db.create_all()
    return app


def run_in_threads(app, count: int, work) -> tuple[list, list]:
    """Start `count` threads at once; each runs work(n) in its own app context and commits. Returns
    (results, refusals); any other exception fails the test."""
    barrier = threading.Barrier(count)
    results, refusals, crashes = [], [], []

    def target(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                result = work(n)
                db.session.commit()
                results.append(result)
            except DomainError as error:
                db.session.rollback()
                refusals.append(error.code)
            except Exception as error:  # noqa: BLE001 - reported below, with the others
                db.session.rollback()
                crashes.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not crashes, crashes
    return results, refusals
