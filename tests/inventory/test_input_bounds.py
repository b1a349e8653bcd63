"""Absurd numbers and over-long text in the stock forms are form messages, never a database error (a 500)."""
import sqlalchemy as sa

from shop.extensions import db
from shop.inventory.models import CounterSale, Lot, StockMovement
from tests.conftest import post_form
from tests.inventory.test_stock_views import page_of, receipt


def movements(desk) -> int:
    with desk.app.app_context():
        return db.session.scalar(sa.select(sa.func.count(StockMovement.id)))


def messages(response) -> str:
    return page_of(response).get_text(" ")


def test_a_receipt_of_ten_to_the_thirty_units_is_a_message(desk):
    before = movements(desk)
    response = post_form(desk.client, desk.url("/receipts/new?lang=en"), receipt(desk, quantity=str(10 ** 30)))
    assert response.status_code == 400
    assert "This number is too large." in messages(response)
    response = post_form(desk.client, desk.url("/receipts/new?lang=en"), receipt(desk, quantity="1000001"))
    assert response.status_code == 400
    assert "Enter a whole number from 1 to 1000000." in messages(response)
    assert movements(desk) == before


def test_a_receipt_with_a_lot_code_longer_than_its_column_is_a_message(desk):
    before = movements(desk)
    limit = Lot.__table__.c.lot_code.type.length
    response = post_form(desk.client, desk.url("/receipts/new?lang=en"), receipt(desk, lot_code="L" * 5000))
    assert response.status_code == 400
    assert f"At most {limit} characters." in messages(response)
    assert movements(desk) == before


def test_an_adjustment_beyond_the_bounds_is_a_message(desk):
    from tests.inventory.test_stock_views import level_id

    before = movements(desk)
    response = post_form(desk.client, desk.url("/adjustments/new?lang=en"),
                         {"level": level_id(desk, "L-LATE"), "delta": "-" + "9" * 40, "reason": "damaged"})
    assert response.status_code == 400
    assert "This number is too large." in messages(response)
    assert movements(desk) == before


def test_a_counter_sale_of_ten_to_the_thirty_units_is_a_message(desk):
    for quantity in (str(10 ** 30), "9" * 5000, "²"):
        response = post_form(desk.client, desk.url("/counter?lang=en"),
                             {"product_id": [str(desk.product_id)], "quantity": [quantity], "payment_method": "cash"})
        assert response.status_code == 400, quantity[:20]
        assert "Enter a whole number from 1 to" in messages(response)
    with desk.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CounterSale.id))) == 0
