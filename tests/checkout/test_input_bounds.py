"""Text longer than its column and absurd quantities are form messages at checkout, never a database error."""
import pytest

from shop.orders.models import Order
from tests.checkout.pages import PICKUP, add, build_site, orders, page
from tests.conftest import post_form


@pytest.fixture
def site(app):
    return build_site(app)


@pytest.mark.parametrize("field, column", [("name", "contact_name"), ("email", "email"), ("phone", "phone")])
def test_a_text_longer_than_its_column_is_refused_with_a_message(app, client, site, field, column):
    add(client, site)
    limit = Order.__table__.c[column].type.length
    response = post_form(client, "/checkout", {**PICKUP, field: "a" * 5000})
    assert response.status_code == 400
    assert f"Tối đa {limit} ký tự." in page(response).get_text(" ")
    assert orders(app) == []


def test_a_delivery_street_longer_than_its_column_is_refused(app, client, site):
    add(client, site)
    response = post_form(client, "/checkout?lang=en", {**PICKUP, "fulfilment": "delivery", "province_code": "75",
                                                       "ward_code": "26221", "street": "Đường " * 1000,
                                                       "payment_method": "cash_on_delivery"})
    assert response.status_code == 400
    assert "At most 200 characters." in page(response).get_text(" ")
    assert orders(app) == []


def test_a_name_exactly_at_the_limit_is_accepted(app, client, site):
    add(client, site)
    limit = Order.__table__.c.contact_name.type.length
    name = "Trần Thị " + "a" * (limit - len("Trần Thị "))
    response = post_form(client, "/checkout", {**PICKUP, "name": name})
    assert response.status_code == 303
    assert [order.contact_name for order in orders(app)] == [name]
