"""Holds cannot be hoarded: a buyer (their account, else their phone or email) may have only so many unpaid orders
holding stock, and only so many units of one product in them; checkout is throttled per address and per contact.
Over a cap, checkout is refused with a message and nothing is created or held."""
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.accounts.models import Role
from shop.checkout import services
from shop.checkout.limits import check_hold_caps, open_orders_of
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.core.models import utcnow
from shop.extensions import db
from shop.inventory.queries import available_quantity
from shop.orders.models import Order, OrderStatus
from tests.checkout.conftest import CONTACT
from tests.checkout.pages import PICKUP, add, build_site, orders
from tests.conftest import post_form
from tests.factories import make_user

CHECKED = services.checked_contact(CONTACT)  # as checkout stores it: +84912345678, hoa@example.vn


def place(app, lines, contact=CONTACT, **kw):
    order = services.place_order(lines, fulfilment="pickup", payment_method="pay_at_pickup", contact=contact,
                                 pickup_point_code="DN-TT-01", config=app.config, **kw)
    db.session.commit()
    return order


def refused(app, lines, contact=CONTACT, **kw) -> DomainError:
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Order))
    with pytest.raises(DomainError) as refusal:
        services.place_order(lines, fulfilment="pickup", payment_method="pay_at_pickup", contact=contact,
                             pickup_point_code="DN-TT-01", config=app.config, **kw)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == before, "nothing created"
    return refusal.value


def honey_left(shop) -> int:
    return available_quantity(shop["centre"].id, shop["honey"].id, today())


def test_a_guest_holds_at_most_three_open_orders_matched_by_phone_or_email(app, shop):
    assert app.config["MAX_OPEN_ORDERS_PER_CONTACT"] == 3
    honey = {shop["honey"].id: 1}
    for _ in range(3):
        place(app, honey)
    error = refused(app, honey)
    assert error.code == "too_many_open_orders" and "3 đơn hàng" in error.message  # in Vietnamese, the default language
    assert honey_left(shop) == 7, "the refused order holds nothing"
    # The same phone with another email, or the same email with another phone, is the same buyer.
    assert refused(app, honey, replace(CONTACT, email="other@example.vn")).code == "too_many_open_orders"
    assert refused(app, honey, replace(CONTACT, phone="+84912345678",
                                       email="x@example.vn")).code == "too_many_open_orders"
    assert refused(app, honey, replace(CONTACT, phone="0987 654 321")).code == "too_many_open_orders"
    # Someone else is not affected.
    place(app, honey, replace(CONTACT, phone="0987 654 321", email="lan@example.vn"))


def test_paid_cancelled_and_overdue_orders_do_not_count(app, shop):
    first, second, third = (place(app, {shop["honey"].id: 1}) for _ in range(3))
    with pytest.raises(DomainError):
        check_hold_caps(CHECKED, [(shop["honey"], 1)], config={**app.config, "MAX_OPEN_ORDERS_PER_CONTACT": 2})
    for order, values in ((first, {"status": OrderStatus.CANCELLED}), (second, {"paid_vnd": second.total_vnd}),
                          (third, {"hold_until": utcnow() - timedelta(minutes=1)})):
        db.session.execute(sa.update(Order).where(Order.id == order.id).values(**values))
    db.session.commit()
    assert db.session.scalars(open_orders_of(CHECKED)).all() == []
    check_hold_caps(CHECKED, [(shop["honey"], 1)], config={**app.config, "MAX_OPEN_ORDERS_PER_CONTACT": 1})
    place(app, {shop["honey"].id: 1})


def test_a_customer_is_counted_by_account_whatever_contact_they_type(app, shop):
    customer = make_user(Role.CUSTOMER, email="khach@example.vn")
    db.session.commit()
    for n in range(3):
        place(app, {shop["honey"].id: 1}, replace(CONTACT, phone=f"0912 000 00{n}", email=f"k{n}@example.vn"),
              customer=customer)
    error = refused(app, {shop["honey"].id: 1}, replace(CONTACT, phone="0987 654 321", email="new@example.vn"),
                    customer=customer)
    assert error.code == "too_many_open_orders"
    # Another account (or a guest) with the customer's last contact details still may order.
    other = make_user(Role.CUSTOMER, email="lan@example.vn")
    db.session.commit()
    place(app, {shop["honey"].id: 1}, replace(CONTACT, phone="0912 000 002", email="k2@example.vn"), customer=other)


def test_units_of_one_product_are_capped_across_open_orders(app, shop):
    app.config.update(MAX_HELD_UNITS_PER_PRODUCT=4)
    place(app, {shop["honey"].id: 3})
    error = refused(app, {shop["honey"].id: 2, shop["cashews"].id: 1})
    assert error.code == "too_many_units_held"
    assert "tối đa 4 sản phẩm Mật ong hoa cà phê" in error.message and "lên 5" in error.message
    assert honey_left(shop) == 7
    place(app, {shop["honey"].id: 1, shop["cashews"].id: 4})  # exactly 4 of each
    assert refused(app, {shop["cashews"].id: 1}).code == "too_many_units_held"


def test_zero_turns_the_caps_off(app, shop):
    app.config.update(MAX_OPEN_ORDERS_PER_CONTACT=0, MAX_HELD_UNITS_PER_PRODUCT=0)
    for _ in range(5):
        place(app, {shop["honey"].id: 2})
    assert honey_left(shop) == 0


# ------------------------------------------------------------------------------------------------ the pages

@pytest.fixture
def site(app):
    return build_site(app)


def checkout(client, site, data=PICKUP, **kwargs):
    add(client, site, quantity="1")
    return post_form(client, "/checkout", data, **kwargs)


def test_the_fourth_open_order_is_refused_on_the_checkout_page(app, client, site):
    client.get("/lang/en")
    assert [checkout(client, site).status_code for _ in range(3)] == [303, 303, 303]
    response = checkout(client, site)
    assert response.status_code == 400
    assert "You already have 3 orders waiting to be paid for or collected" in response.get_data(as_text=True)
    assert len(orders(app)) == 3


def test_checkout_is_throttled_per_client_address(make_app):
    app = make_app(CHECKOUT_RATE_LIMIT="2 per minute", MAX_OPEN_ORDERS_PER_CONTACT=0)
    site, client = build_site(app), app.test_client()
    client.get("/lang/en")
    contacts = [{**PICKUP, "phone": f"0912 000 00{n}", "email": f"k{n}@example.vn"} for n in range(4)]
    assert [checkout(client, site, contacts[n]).status_code for n in range(2)] == [303, 303]
    throttled = checkout(client, site, contacts[2])
    assert throttled.status_code == 429 and "Too many attempts" in throttled.get_data(as_text=True)
    assert checkout(client, site, contacts[3], environ_overrides={"REMOTE_ADDR": "203.0.113.9"}).status_code == 303
    assert len(orders(app)) == 3


@pytest.mark.parametrize("same", ["phone", "email"])
def test_checkout_is_throttled_per_phone_and_per_email_from_any_address(make_app, same):
    app = make_app(CHECKOUT_CONTACT_RATE_LIMIT="2 per minute", MAX_OPEN_ORDERS_PER_CONTACT=0)
    site, client = build_site(app), app.test_client()
    # The same phone or email however it is typed; the other field differs every time.
    phones = ["0912 345 678", "+84912345678", "0912345678"] if same == "phone" else ["0912 000 001", "0912 000 002",
                                                                                        "0912 000 003"]
    emails = ["Binh@Example.vn", "binh@example.vn ", "BINH@example.vn"] if same == "email" else [
        "a@example.vn", "b@example.vn", "c@example.vn"]
    answers = [checkout(client, site, {**PICKUP, "phone": phone, "email": email},
                        environ_overrides={"REMOTE_ADDR": f"203.0.113.{n}"}).status_code
               for n, (phone, email) in enumerate(zip(phones, emails, strict=True))]
    assert answers == [303, 303, 429]


def test_listing_the_communes_of_a_province_is_not_counted(make_app):
    app = make_app(CHECKOUT_RATE_LIMIT="1 per minute")
    site, client = build_site(app), app.test_client()
    add(client, site, quantity="1")
    for _ in range(3):
        assert post_form(client, "/checkout", {**PICKUP, "submit": "", "refresh": "1", "province_code": "79"}
                         ).status_code == 200
    assert post_form(client, "/checkout", PICKUP).status_code == 303
