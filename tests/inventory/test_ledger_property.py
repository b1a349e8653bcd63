"""Many random operations, refused ones included: the levels always equal the sum of the ledger."""
import random

import sqlalchemy as sa

from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory import queries
from shop.inventory.models import AdjustmentReason, Lot, StockLevel, StockMovement
from shop.inventory.services import adjust_stock, record_count, sell_at_counter
from tests.factories import make_point, make_product
from tests.inventory.conftest import receive


def test_three_hundred_random_operations_keep_the_ledger_and_the_levels_equal(point, manager):
    rng = random.Random(20261124)
    points = [point, make_point("DN-LK-01")]
    products = [make_product(price_vnd=10_000 * (i + 1)) for i in range(3)]
    outcomes = {"done": 0, "refused": 0}
    for step in range(300):
        where, product = rng.choice(points), rng.choice(products)
        operation = rng.choice(["receive", "receive", "adjust", "sell", "sell", "sell", "count"])
        try:
            if operation == "receive":
                receive(where, product, manager, lot_code=f"L{rng.randint(1, 4)}", quantity=rng.choice([0, 1, 5, 12]),
                        expires_in_days=30 * int(rng.choice("1234")) if rng.random() < 0.9 else -1,
                        delivery_note=f"PGH-{step}")
            elif operation == "sell":
                lines = [(p, rng.choice([1, 2, 3, 7])) for p in rng.sample(products, rng.randint(1, 2))]
                sell_at_counter(where, lines, payment_method=rng.choice(["cash", "card"]), actor=manager)
            else:
                levels = list(db.session.scalars(sa.select(StockLevel).where(StockLevel.point_id == where.id)))
                if not levels:
                    continue
                level = rng.choice(levels)
                if operation == "adjust":
                    adjust_stock(level, delta=rng.choice([-6, -2, -1, 1, 3]), reason=rng.choice(list(AdjustmentReason)),
                                 actor=manager)
                else:
                    record_count(where, {(level.product_id, level.lot_id): rng.randint(0, 15)}, actor=manager)
            outcomes["done"] += 1
        except DomainError:
            outcomes["refused"] += 1
        if step % 50 == 49:
            db.session.commit()
            assert queries.verify_ledger() == []
    db.session.commit()
    assert outcomes["done"] > 100 and outcomes["refused"] > 20, outcomes  # both paths were exercised
    assert queries.verify_ledger() == []
    sums = {(row.point_id, row.lot_id): row.total for row in db.session.execute(
        sa.select(StockMovement.point_id, StockMovement.lot_id, sa.func.sum(StockMovement.quantity).label("total"))
        .group_by(StockMovement.point_id, StockMovement.lot_id))}
    levels = {(level.point_id, level.lot_id): level.on_hand for level in db.session.scalars(sa.select(StockLevel))}
    assert {key: value for key, value in levels.items() if value or key in sums} == sums
    assert all(value >= 0 for value in levels.values())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lot)) >= 6
