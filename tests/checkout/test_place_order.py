"""place_order re-checks the whole cart at checkout and holds stock in the same transaction; every refusal
leaves nothing created and nothing held once the caller rolls back."""
from dataclasses import replace

import pytest
import sqlalchemy as sa

from shop.catalog.services import unpublish_product
from shop.certification.queries import current_certificate
from shop.certification.services import withdraw_certificate
from shop.checkout import services
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from shop.inventory.queries import available_quantity
from shop.orders.models import Order, OrderStatus
from shop.sales_points.services import change_point_status
from tests.checkout.conftest import ADDRESS, CONTACT
from tests.factories import make_product, make_stock


def place(app, lines, **kw):
    fields = {"fulfilment": "pickup", "payment_method": "pay_at_pickup", "contact": CONTACT,
              "pickup_point_code": "DN-TT-01", "config": app.config}
    fields.update(kw)
    return services.place_order(lines, **fields)


def refused(app, lines, **kw) -> DomainError:
    with pytest.raises(DomainError) as refusal:
        place(app, lines, **kw)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    return refusal.value


def available(point, product) -> int:
    return available_quantity(point.id, product.id, today())


def test_pickup_paid_at_the_point_is_confirmed_with_stock_held_and_contact_normalised(app, shop):
    order = place(app, {shop["cashews"].id: 2, shop["honey"].id: 1})
    db.session.commit()
    assert order.status == OrderStatus.CONFIRMED and order.point.code == "DN-TT-01"
    assert (order.subtotal_vnd, order.shipping_fee_vnd, order.total_vnd) == (330_000, 0, 330_000)
    assert (order.phone, order.email) == ("+84912345678", "hoa@example.vn")
    assert available(shop["centre"], shop["cashews"]) == 3 and available(shop["centre"], shop["honey"]) == 9


def test_delivery_cash_on_delivery_comes_from_the_centre_with_the_zone_fee(app, shop):
    order = place(app, {shop["honey"].id: 2}, fulfilment="delivery", payment_method="cash_on_delivery",
                  address=ADDRESS, pickup_point_code=None)
    assert order.status == OrderStatus.CONFIRMED and order.point.code == "DN-TT-01"
    assert (order.shipping_fee_vnd, order.total_vnd) == (20_000, 200_000)
    assert (order.province_code, order.ward_code) == (75, 26221)


def test_delivery_is_free_from_the_threshold(app, shop):
    order = place(app, {shop["honey"].id: 6}, fulfilment="delivery", payment_method="cash_on_delivery",
                  address=replace(ADDRESS, province_code=1, ward_code=4), pickup_point_code=None)
    assert order.subtotal_vnd == 540_000 and order.shipping_fee_vnd == 0


def test_a_customer_order_empties_the_stored_cart(app, shop):
    from shop.accounts.models import Role
    from tests.factories import make_user

    customer = make_user(Role.CUSTOMER)
    services.add_to_stored_cart(customer, shop["honey"], 1, 20)
    order = place(app, services.stored_cart(customer), customer=customer)
    assert order.customer_id == customer.id and services.stored_cart(customer) == {}


@pytest.mark.parametrize("quantity, code", [(0, "quantity_not_positive"), (-1, "quantity_not_positive"),
                                            ("abc", "invalid_quantity"), (21, "quantity_over_limit")])
def test_bad_quantities_are_refused(app, shop, quantity, code):
    assert refused(app, {shop["honey"].id: quantity}).code == code


def test_an_empty_cart_is_refused(app, shop):
    assert refused(app, {}).code == "empty_order"


def test_a_product_unpublished_since_it_was_put_in_the_cart_is_refused(app, shop):
    unpublish_product(shop["honey"])
    error = refused(app, {shop["cashews"].id: 1, shop["honey"].id: 1})
    assert error.code == "not_published" and "Mật ong hoa cà phê" in error.message
    assert available(shop["centre"], shop["cashews"]) == 5


def test_a_certificate_withdrawn_between_cart_and_checkout_is_refused_naming_the_product(app, shop):
    cart = services.add_line({}, shop["honey"], 1, max_quantity=20)
    withdraw_certificate(current_certificate(shop["honey"].id, today()), decision_no="9/QĐ-UBND", reason="Vi phạm")
    db.session.commit()
    error = refused(app, cart)
    assert error.code == "no_qualifying_basis" and "Mật ong hoa cà phê" in error.message


def test_pickup_at_a_closed_point_is_refused(app, shop):
    change_point_status(shop["point"], "suspended", reason="Sửa chữa", actor=shop["staff"])
    db.session.commit()
    error = refused(app, {shop["cashews"].id: 1}, pickup_point_code="DN-XL-01")
    assert (error.field, error.code) == ("pickup_point", "point_not_open")


def test_pickup_at_a_point_without_every_line_is_refused(app, shop):
    error = refused(app, {shop["cashews"].id: 1, shop["honey"].id: 1}, pickup_point_code="DN-XL-01")
    assert (error.field, error.code) == ("pickup_point", "insufficient_stock")
    assert refused(app, {shop["cashews"].id: 1}, pickup_point_code=None).field == "pickup_point"


def test_not_enough_stock_for_delivery_comes_from_the_order_service(app, shop):
    error = refused(app, {shop["cashews"].id: 6}, fulfilment="delivery", payment_method="cash_on_delivery",
                    address=ADDRESS, pickup_point_code=None)
    assert error.code == "insufficient_stock"
    assert available(shop["centre"], shop["cashews"]) == 5


@pytest.mark.parametrize("phone", ["12345", "", "0912", "+1 202 555 0143", "not a phone"])
def test_an_invalid_phone_is_refused_on_the_phone_field(app, shop, phone):
    error = refused(app, {shop["honey"].id: 1}, contact=replace(CONTACT, phone=phone))
    assert (error.field, error.code) == ("phone", "invalid_phone")


@pytest.mark.parametrize("field, contact", [("email", replace(CONTACT, email="hoa@")),
                                            ("email", replace(CONTACT, email="")),
                                            ("name", replace(CONTACT, name="  "))])
def test_contact_details_are_required(app, shop, field, contact):
    assert refused(app, {shop["honey"].id: 1}, contact=contact).field == field


@pytest.mark.parametrize("address, field", [(None, "province_code"), (replace(ADDRESS, ward_code=4), "ward_code"),
                                            (replace(ADDRESS, street=" "), "street")])
def test_a_delivery_needs_a_ward_of_the_province_and_a_street(app, shop, address, field):
    error = refused(app, {shop["honey"].id: 1}, fulfilment="delivery", payment_method="cash_on_delivery",
                    address=address, pickup_point_code=None)
    assert error.field == field


@pytest.mark.parametrize("fulfilment, method, field", [("pickup", "cash_on_delivery", "payment_method"),
                                                       ("drone", "card", "fulfilment"),
                                                       ("pickup", "bitcoin", "payment_method")])
def test_unknown_or_mismatched_choices_are_refused(app, shop, fulfilment, method, field):
    error = refused(app, {shop["honey"].id: 1}, fulfilment=fulfilment, payment_method=method, address=ADDRESS)
    assert error.field == field


def test_alcohol_needs_the_age_confirmation(app, shop):
    wine = make_product(name="Rượu sim", is_alcohol=True, price_vnd=200_000)
    make_stock(shop["centre"], wine, shop["staff"], lot_code="W1", quantity=3)
    db.session.commit()
    error = refused(app, {wine.id: 1})
    assert (error.field, error.code) == ("age_confirmed", "age_not_confirmed") and "Rượu sim" in error.message
    assert place(app, {wine.id: 1}, age_confirmed=True).age_confirmed is True


def test_alcohol_is_refused_when_online_sales_are_switched_off(app, shop):
    wine = make_product(name="Rượu sim", is_alcohol=True)
    make_stock(shop["centre"], wine, shop["staff"], lot_code="W1", quantity=3)
    db.session.commit()
    app.config["ALCOHOL_ONLINE_SALES"] = False
    assert refused(app, {wine.id: 1}, age_confirmed=True).code == "alcohol_not_sold_online"

