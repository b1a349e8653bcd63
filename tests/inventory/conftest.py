import threading

import pytest

from shop.accounts.models import Role
from shop.core.errors import DomainError
from shop.extensions import db
from tests.conftest import login
from tests.factories import make_point, make_point_manager, make_product, make_stock, make_user


@pytest.fixture
def manager(app_ctx):
    return make_user(Role.POINT_MANAGER)


@pytest.fixture
def point(app_ctx):
    return make_point("DN-XL-01")


@pytest.fixture
def product(app_ctx):
    return make_product(name="Hạt điều rang muối", price_vnd=120_000)


receive = make_stock  # the tests of this package say receive(point, product, actor, …)


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


class Desk:
    """A logged-in manager of DN-XL-01 with stock there, and a second point (DN-BH-01) they do not manage."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        with app.app_context():
            centre = make_point("DN-TT-01", tier="centre", name="Trung tâm OCOP tỉnh Đồng Nai")
            point = make_point("DN-XL-01", name="Điểm OCOP Xuân Lộc")
            other = make_point("DN-BH-01", name="Điểm OCOP Biên Hòa")
            manager = make_point_manager(point, email="xuanloc@example.vn")
            product = make_product(name="Hạt điều rang muối", price_vnd=120_000, gtin="8934567890120")
            make_stock(point, product, manager, lot_code="L-SOON", quantity=6, expires_in_days=20)
            make_stock(point, product, manager, lot_code="L-LATE", quantity=10, expires_in_days=200)
            db.session.commit()
            self.centre_id, self.point_id, self.other_id = centre.id, point.id, other.id
            self.product_id, self.manager_id = product.id, manager.id
        self.code, self.other_code, self.centre_code = "DN-XL-01", "DN-BH-01", "DN-TT-01"
        login(client, "xuanloc@example.vn")

    def url(self, path: str = "", code: str | None = None) -> str:
        return f"/manage/points/{code or self.code}{path}"


@pytest.fixture
def desk(app, client) -> Desk:
    return Desk(app, client)
