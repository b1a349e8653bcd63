"""Real concurrent HTTP requests against a running server (gunicorn, 2 worker processes × 4 threads) on a file
SQLite database, or on PostgreSQL when TEST_DATABASE_URL is set: two managers of the same point at twelve
counters selling the last five units while a write-off takes one of them. Exactly as many requests succeed as
there are units, every loser is told there is not enough stock, the stock never goes negative and the ledger
still balances."""

import pytest
import sqlalchemy as sa

from shop.extensions import db
from shop.inventory.models import AdjustmentReason, CounterSale, MovementKind, StockLevel, StockMovement
from shop.inventory.queries import verify_ledger
from tests.factories import make_point, make_point_manager, make_product
from tests.inventory.conftest import receive
from tests.live_server import form_token, gunicorn, logged_in, run_together

MANAGERS = ("counter-a@example.vn", "counter-b@example.vn")
SELLERS = 12
UNITS = 5  # on the shelf: 2 of a lot expiring sooner, 3 of a later one


@pytest.fixture
def counter_point(shared_app):
    """DN-XL-01 with two managers and 5 units of one product; the ids the test needs."""
    with shared_app.app_context():
        point = make_point("DN-XL-01", name="Điểm OCOP Xuân Lộc")
        first, second = (make_point_manager(point, email=email) for email in MANAGERS)
        product = make_product(name="Hạt điều rang muối", price_vnd=120_000)
        receive(point, product, first, lot_code="SOON", quantity=2, expires_in_days=30)
        receive(point, product, second, lot_code="LATE", quantity=3, expires_in_days=200)
        db.session.commit()
        level = db.session.scalar(sa.select(StockLevel).where(StockLevel.point_id == point.id)
                                  .order_by(StockLevel.id.desc()))
        ids = {"point": point.id, "product": product.id, "level": level.id}
        db.session.remove()
        db.engine.dispose()  # the server processes are the only users of the database while they run
    return ids


@pytest.fixture
def server(shared_app, counter_point, tmp_path):
    with gunicorn(shared_app.config["SQLALCHEMY_DATABASE_URI"], tmp_path) as base:
        yield base


def test_twelve_counters_and_a_write_off_share_the_last_five_units(shared_app, counter_point, server):
    code = "DN-XL-01"
    counter_url = f"{server}/manage/points/{code}/counter"
    adjustment_url = f"{server}/manage/points/{code}/adjustments/new"
    sellers = [logged_in(server, MANAGERS[n % 2]) for n in range(SELLERS)]
    sale_forms = [{"csrf_token": form_token(seller, counter_url), "payment_method": "cash",
                   "product_id": str(counter_point["product"]), "quantity": "1"} for seller in sellers]
    clerk = logged_in(server, MANAGERS[1])
    write_off = {"csrf_token": form_token(clerk, adjustment_url), "level": str(counter_point["level"]), "delta": "-1",
                 "reason": AdjustmentReason.DAMAGED.value, "note": "Rơi vỡ khi trưng bày"}

    def sell(seller, form):
        return lambda: seller.post(counter_url, data=form, allow_redirects=False, timeout=60)

    jobs = [sell(seller, form) for seller, form in zip(sellers, sale_forms, strict=True)]
    jobs.append(lambda: clerk.post(adjustment_url, data=write_off, allow_redirects=False, timeout=60))
    *sales, adjustment = run_together(jobs)

    crashes = [r for r in [*sales, adjustment] if isinstance(r, Exception)]
    assert not crashes, crashes
    statuses = sorted(r.status_code for r in sales)
    assert set(statuses) <= {303, 400}, statuses  # no 500 (a locked database), no lost request
    assert adjustment.status_code in (302, 303, 400), adjustment.status_code
    sold = statuses.count(303)
    written_off = 1 if adjustment.status_code in (302, 303) else 0
    assert sold + written_off == UNITS
    for refused in (r for r in sales if r.status_code == 400):
        assert "Not enough" in refused.text
    if not written_off:
        assert "Not enough stock" in adjustment.text
    receipts = {r.headers["Location"].rsplit("/", 1)[-1] for r in sales if r.status_code == 303}
    assert receipts == {f"{code}-{n:06d}" for n in range(1, sold + 1)}, "one number per sale, none skipped"

    with shared_app.app_context():
        levels = db.session.scalars(sa.select(StockLevel).where(StockLevel.point_id == counter_point["point"]))
        assert [(level.on_hand, level.reserved) for level in levels] == [(0, 0), (0, 0)]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CounterSale)) == sold
        outgoing = db.session.execute(sa.select(StockMovement.kind, sa.func.sum(StockMovement.quantity))
                                      .where(StockMovement.quantity < 0).group_by(StockMovement.kind)).all()
        expected = {MovementKind.COUNTER_SALE: -sold}
        if written_off:
            expected[MovementKind.ADJUSTMENT] = -1
        assert dict(outgoing) == expected
        assert verify_ledger() == []
        db.session.remove()
