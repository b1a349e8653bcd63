"""Real threads, each with its own session and transaction, against a file SQLite database (or PostgreSQL when
TEST_DATABASE_URL is set): concurrent sales never oversell, never make stock negative, never lose a movement."""

import sqlalchemy as sa

from shop.accounts.models import Role, User
from shop.catalog.models import Product
from shop.extensions import db
from shop.inventory import queries
from shop.inventory.models import CounterSale, StockLevel, StockMovement
from shop.inventory.services import adjust_stock, sell_at_counter
from shop.sales_points.models import SalesPoint
from tests.factories import make_point, make_product, make_user
from tests.inventory.conftest import receive, run_in_threads


def test_eight_counter_sales_of_one_unit_share_a_stock_of_five(shared_app):
    with shared_app.app_context():
        manager = make_user(Role.POINT_MANAGER)
        point, product = make_point("DN-XL-01"), make_product(price_vnd=50_000)
        receive(point, product, manager, lot_code="A", quantity=2, expires_in_days=30)
        receive(point, product, manager, lot_code="B", quantity=3, expires_in_days=60)
        db.session.commit()
        ids = point.id, product.id, manager.id

    def sell(_n):
        point, product, actor = (db.session.get(SalesPoint, ids[0]), db.session.get(Product, ids[1]),
                                 db.session.get(User, ids[2]))
        return sell_at_counter(point, [(product, 1)], payment_method="cash", actor=actor).number

    numbers, refusals = run_in_threads(shared_app, 8, sell)
    assert len(numbers) == 5 and refusals == ["insufficient_stock"] * 3
    assert sorted(numbers) == [f"DN-XL-01-{n:06d}" for n in range(1, 6)]
    with shared_app.app_context():
        assert db.session.scalar(sa.select(sa.func.sum(StockLevel.on_hand))) == 0
        assert db.session.scalar(sa.select(sa.func.min(StockLevel.on_hand))) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CounterSale)) == 5
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)
                                 .where(StockMovement.quantity < 0)) == 5
        assert queries.verify_ledger() == []


def test_sales_of_two_products_in_opposite_orders_and_write_offs_do_not_deadlock_or_oversell(shared_app):
    with shared_app.app_context():
        manager = make_user(Role.POINT_MANAGER)
        point, first, second = make_point("DN-TT-01"), make_product(), make_product()
        receive(point, first, manager, quantity=6)
        receive(point, second, manager, quantity=6)
        db.session.commit()
        ids = point.id, first.id, second.id, manager.id

    def work(n):
        point, first, second, actor = (db.session.get(SalesPoint, ids[0]), db.session.get(Product, ids[1]),
                                       db.session.get(Product, ids[2]), db.session.get(User, ids[3]))
        if n % 3 == 2:
            level = db.session.scalar(sa.select(StockLevel).where(StockLevel.product_id == first.id))
            return adjust_stock(level, delta=-1, reason="damaged", actor=actor).quantity
        lines = [(first, 1), (second, 1)] if n % 2 else [(second, 1), (first, 1)]
        return sell_at_counter(point, lines, payment_method="card", actor=actor).total_vnd

    results, refusals = run_in_threads(shared_app, 12, work)
    assert set(refusals) <= {"insufficient_stock"}
    with shared_app.app_context():
        levels = {level.product_id: level.on_hand for level in db.session.scalars(sa.select(StockLevel))}
        sales = db.session.scalar(sa.select(sa.func.count()).select_from(CounterSale))
        write_offs = sum(1 for result in results if result == -1)
        assert len(results) == sales + write_offs and len(results) + len(refusals) == 12
        assert levels == {ids[1]: 6 - sales - write_offs, ids[2]: 6 - sales}
        assert min(levels.values()) >= 0
        assert queries.verify_ledger() == []
