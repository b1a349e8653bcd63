"""Search tests: a small catalogue committed through the services, so the index follows it as in production."""
import pytest
import sqlalchemy as sa

from shop.catalog.models import Product
from shop.core.clock import today
from shop.extensions import db
from shop.search import index
from shop.search.filters import ProductFilters
from tests.factories import make_producer, make_product


def find(q: str, day=None, **filters) -> index.SearchHits:
    return index.search_products(ProductFilters(q=q, **filters), day or today())


def names(ids: list[int]) -> list[str]:
    by_id = dict(db.session.execute(sa.select(Product.id, Product.name).where(Product.id.in_(ids))).all())
    return [by_id[i] for i in ids]


def found(q: str, day=None, **filters) -> list[str]:
    """Names of the products found, best first (all of them: one page of 100)."""
    return names(find(q, day, per_page=100, **filters).ids)


@pytest.fixture
def catalogue(app_ctx):
    """Two producers, certified products of several groups, stars and prices, and products that must never
    be found: a draft, one without a certificate, one with 2★ only."""
    coop = make_producer("HTX Cà phê Đồng Nai", former_district="xuan-loc")
    farm = make_producer("Cơ sở Mật ong Phú Hòa", former_district="dinh-quan")
    products = {
        "robusta": make_product(coop, "Cà phê bột Robusta", stars=3, price_vnd=150_000, subgroup_code="1.6"),
        "unmarked": make_product(coop, "Ca phe sua da", stars=5, price_vnd=95_000, subgroup_code="1.6"),
        "honey": make_product(farm, "Mật ong hoa cà phê", stars=4, price_vnd=250_000, subgroup_code="1.2b"),
        "cashew": make_product(farm, "Hạt điều rang muối", stars=3, price_vnd=90_000, subgroup_code="1.3c"),
        "wine": make_product(farm, "Rượu nếp than", stars=4, price_vnd=600_000, group_code="2",
                             subgroup_code="2.1", is_alcohol=True),
        "draft": make_product(coop, "Cà phê chưa bán", publish=False),
        "uncertified": make_product(coop, "Cà phê chưa chứng nhận", stars=None),
        "two_stars": make_product(coop, "Cà phê hai sao", stars=2),
    }
    db.session.commit()
    products["coop"], products["farm"] = coop, farm
    return products
