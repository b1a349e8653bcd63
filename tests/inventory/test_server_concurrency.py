"""Real concurrent HTTP requests against a running server (gunicorn, 2 worker processes × 4 threads) on a file
SQLite database, or on PostgreSQL when TEST_DATABASE_URL is set: two managers of the same point at twelve
counters selling the last five units while a write-off takes one of them. Exactly as many requests succeed as
there are units, every loser is told there is not enough stock, the stock never goes negative and the ledger
still balances."""
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from shop.extensions import db
from shop.inventory.models import AdjustmentReason, CounterSale, MovementKind, StockLevel, StockMovement
from shop.inventory.queries import verify_ledger
from tests.conftest import CSRF_RE
from tests.factories import make_point, make_point_manager, make_product
from tests.inventory.conftest import receive
from tests.live_server import free_port, stop, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
MANAGERS = ("counter-a@example.vn", "counter-b@example.vn")
SELLERS = 12
UNITS = 5  # on the shelf: 2 of a lot expiring sooner, 3 of a later one
SERVER_FACTORY = "shop:create_app({'RATELIMIT_ENABLED': False, 'SEARCH_ENABLED': False})"


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
    """gunicorn serving the shop on the test's database; stopped (and waited for) before the database is
    emptied."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("FLASK_APP", "SHOP_ENV", "TEST_DATABASE_URL")}
    env.update(DATABASE_URL=shared_app.config["SQLALCHEMY_DATABASE_URI"], INSTANCE_PATH=str(tmp_path),
               SECRET_KEY="server-concurrency-test", UPLOAD_DIR=str(tmp_path / "uploads"),
               SEARCH_INDEX_DIR=str(tmp_path / "index"), PYTHONUNBUFFERED="1")
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}",
             "--timeout", "60", "--chdir", str(ROOT), SERVER_FACTORY],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, log_path)
        yield base
    finally:
        stop(process)


def _token(session: requests.Session, url: str) -> str:
    response = session.get(url, timeout=30)
    assert response.status_code == 200, (url, response.status_code)
    match = CSRF_RE.search(response.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def _logged_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    session.get(base + "/lang/en", timeout=30)  # the refusal messages in English
    token = _token(session, base + "/account/login")
    response = session.post(base + "/account/login", data={"csrf_token": token, "email": email,
                                                            "password": "password123"},
                            allow_redirects=False, timeout=30)
    assert response.status_code in (302, 303), f"login of {email}: {response.status_code}"
    return session


def _run_together(jobs: list) -> list:
    """Start every job at the same instant (a barrier), return their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = jobs[index]()
        except Exception as error:  # noqa: BLE001 - a crash is a result the test reports
            results[index] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twelve_counters_and_a_write_off_share_the_last_five_units(shared_app, counter_point, server):
    code = "DN-XL-01"
    counter_url = f"{server}/manage/points/{code}/counter"
    adjustment_url = f"{server}/manage/points/{code}/adjustments/new"
    sellers = [_logged_in(server, MANAGERS[n % 2]) for n in range(SELLERS)]
    sale_forms = [{"csrf_token": _token(seller, counter_url), "payment_method": "cash",
                   "product_id": str(counter_point["product"]), "quantity": "1"} for seller in sellers]
    clerk = _logged_in(server, MANAGERS[1])
    write_off = {"csrf_token": _token(clerk, adjustment_url), "level": str(counter_point["level"]), "delta": "-1",
                 "reason": AdjustmentReason.DAMAGED.value, "note": "Rơi vỡ khi trưng bày"}

    def sell(seller, form):
        return lambda: seller.post(counter_url, data=form, allow_redirects=False, timeout=60)

    jobs = [sell(seller, form) for seller, form in zip(sellers, sale_forms, strict=True)]
    jobs.append(lambda: clerk.post(adjustment_url, data=write_off, allow_redirects=False, timeout=60))
    *sales, adjustment = _run_together(jobs)

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
