"""The cart: guests' carts as plain data, customers' carts as rows merged at login, the per-product limit, the
shipping table and the points that can serve a cart."""
from datetime import timedelta

import pytest

from shop.accounts.models import Role
from shop.catalog.services import unpublish_product
from shop.checkout import services
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from tests.factories import make_product, make_stock, make_user

LIMIT = 20


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as refused:
        call()
    return refused.value


def test_a_guest_adds_products_and_quantities_add_up(shop):
    cart = services.add_line({}, shop["cashews"], "2", max_quantity=LIMIT)
    cart = services.add_line(cart, shop["cashews"], 3, max_quantity=LIMIT)
    cart = services.add_line(cart, shop["honey"], 1, max_quantity=LIMIT)
    assert cart == {shop["cashews"].id: 5, shop["honey"].id: 1}
    assert services.remove_line(cart, shop["honey"].id) == {shop["cashews"].id: 5}
    assert services.set_line(cart, shop["honey"].id, "4", max_quantity=LIMIT)[shop["honey"].id] == 4


@pytest.mark.parametrize("quantity, code", [(0, "quantity_not_positive"), (-1, "quantity_not_positive"),
                                            ("abc", "invalid_quantity"), ("", "invalid_quantity"),
                                            (21, "quantity_over_limit"), ("10**9", "invalid_quantity")])
def test_bad_quantities_are_refused_on_the_quantity_field(shop, quantity, code):
    error = refusal(lambda: services.add_line({}, shop["cashews"], quantity, max_quantity=LIMIT))
    assert (error.field, error.code) == ("quantity", code)


def test_adding_past_the_limit_is_refused_and_says_what_the_cart_holds(shop):
    cart = services.add_line({}, shop["cashews"], 15, max_quantity=LIMIT)
    error = refusal(lambda: services.add_line(cart, shop["cashews"], 6, max_quantity=LIMIT))
    assert error.code == "quantity_over_limit" and "15" in error.message


def test_an_unpublished_or_unqualified_product_cannot_be_added(shop):
    unpublish_product(shop["honey"])
    uncertified = make_product(name="Bánh pía", stars=None)
    assert refusal(lambda: services.add_line({}, shop["honey"], 1, max_quantity=LIMIT)).code == "not_published"
    error = refusal(lambda: services.add_line({}, uncertified, 1, max_quantity=LIMIT))
    assert error.code == "no_qualifying_basis" and "Bánh pía" in error.message


def test_alcohol_cannot_be_added_when_online_alcohol_sales_are_off(shop):
    wine = make_product(name="Rượu sim", is_alcohol=True)
    assert services.add_line({}, wine, 1, max_quantity=LIMIT, alcohol_online=True) == {wine.id: 1}
    error = refusal(lambda: services.add_line({}, wine, 1, max_quantity=LIMIT, alcohol_online=False))
    assert error.code == "alcohol_not_sold_online"


def test_a_customer_cart_is_stored_updated_and_emptied(shop):
    customer = make_user(Role.CUSTOMER)
    services.add_to_stored_cart(customer, shop["cashews"], 2, LIMIT)
    services.add_to_stored_cart(customer, shop["cashews"], "1", LIMIT)
    services.add_to_stored_cart(customer, shop["honey"], 1, LIMIT)
    db.session.commit()
    assert services.stored_cart(customer) == {shop["cashews"].id: 3, shop["honey"].id: 1}
    services.update_stored_cart(customer, shop["honey"].id, 7, LIMIT)
    assert refusal(lambda: services.update_stored_cart(customer, shop["honey"].id, 0, LIMIT)).field == "quantity"
    services.remove_from_stored_cart(customer, shop["cashews"].id)
    assert services.stored_cart(customer) == {shop["honey"].id: 7}
    error = refusal(lambda: services.add_to_stored_cart(customer, shop["honey"], 14, LIMIT))
    assert error.code == "quantity_over_limit" and services.stored_cart(customer) == {shop["honey"].id: 7}


def test_the_guest_cart_merges_at_login_summed_and_capped(shop):
    customer = make_user(Role.CUSTOMER)
    services.add_to_stored_cart(customer, shop["cashews"], 15, LIMIT)
    session_cart = {str(shop["cashews"].id): 10, str(shop["honey"].id): 2, "999999": 1, "junk": "x"}
    merged = services.merge_session_cart(customer, session_cart, LIMIT)
    db.session.commit()
    assert merged == {shop["cashews"].id: 20, shop["honey"].id: 2}


def test_the_cart_view_prices_from_the_catalogue_and_flags_what_cannot_be_ordered(shop):
    view = services.cart_view({shop["cashews"].id: 2, shop["honey"].id: 1})
    assert view.subtotal_vnd == 2 * 120_000 + 90_000 and view.orderable and view.count == 3
    unpublish_product(shop["honey"])
    view = services.cart_view({shop["cashews"].id: 2, shop["honey"].id: 1, 424242: 1})
    assert [line.problem is None for line in view.lines] == [True, False]
    assert view.subtotal_vnd == 240_000 and not view.orderable


ZONES, FEES = {"home": [75], "near": [79, 68, 80]}, {"home": 20_000, "near": 35_000, "far": 50_000}


@pytest.mark.parametrize("province, subtotal, fee", [(75, 100_000, 20_000), (79, 100_000, 35_000),
                                                     (1, 100_000, 50_000), (1, 499_999, 50_000),
                                                     (1, 500_000, 0), (75, 800_000, 0)])
def test_the_shipping_fee_follows_the_zone_table_and_is_free_from_the_threshold(province, subtotal, fee):
    assert services.shipping_fee(province, subtotal, ZONES, FEES, 500_000) == fee


def test_pickup_is_offered_only_where_every_line_is_available(shop):
    day = today()

    def codes(lines):
        return [p.code for p in services.pickup_points_for(lines, day)]

    assert codes({shop["cashews"].id: 2}) == ["DN-TT-01", "DN-XL-01"]
    assert codes({shop["cashews"].id: 3}) == ["DN-TT-01"]
    assert codes({shop["cashews"].id: 1, shop["honey"].id: 1}) == ["DN-TT-01"]
    assert codes({shop["cashews"].id: 6}) == []
    assert codes({}) == []


def test_pickup_counts_neither_reserved_nor_expired_units(shop):
    from shop.inventory.services import reserve_stock

    reserve_stock(shop["point"], shop["cashews"], 1, reference="DH-TEST")
    make_stock(shop["point"], shop["honey"], shop["staff"], lot_code="SOON", quantity=5, expires_in_days=5)
    db.session.commit()
    day = today()
    assert [p.code for p in services.pickup_points_for({shop["cashews"].id: 2}, day)] == ["DN-TT-01"]
    assert [p.code for p in services.pickup_points_for({shop["honey"].id: 1}, day)] == ["DN-TT-01", "DN-XL-01"]
    later = day + timedelta(days=10)  # the point's honey has expired by then
    assert [p.code for p in services.pickup_points_for({shop["honey"].id: 1}, later)] == ["DN-TT-01"]


def test_deliveries_come_from_the_centre_unless_configured(shop):
    assert services.delivery_point(None).code == "DN-TT-01"
    assert services.delivery_point("dn-xl-01").code == "DN-XL-01"
    assert services.delivery_point("DN-NONE-99") is None
