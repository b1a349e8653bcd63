from tests.factories import make_point, make_product
from shop.search.browse import browse_products
from shop.search.filters import ProductFilters
from shop.core.clock import today


def test_listing_counts_only_certified_products(app_ctx):
    make_product(name="Cà phê Robusta", stars=4)
    make_product(name="Hạt điều rang muối", stars=5)
    make_product(name="Chưa chứng nhận", stars=None)
    make_point()
    page = browse_products(ProductFilters(), today())
    assert page.total == 2
    assert {c.product.name for c in page.items} == {"Cà phê Robusta", "Hạt điều rang muối"}
    stars = {f.key: f.count for f in page.facets["stars"]}
    assert stars == {"3": 2, "4": 2, "5": 1}
