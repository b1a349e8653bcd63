from datetime import timedelta

import pytest

from shop.accounts.models import Role
from shop.core.clock import today
from shop.inventory.services import receive_stock
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
