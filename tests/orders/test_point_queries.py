"""The sales point's reading of its orders: the pick list, per product first expired first out."""
from shop.extensions import db
from shop.orders import services
from shop.orders.models import AllocationState
from shop.orders.queries import order_at_point, pick_list
from tests.factories import make_point, make_product, make_stock
from tests.orders.conftest import ADDRESS, CONTACT


def test_the_pick_list_sorts_by_product_then_expiry_with_undated_lots_last(point, product, staff):
    honey = make_product(name="Mật ong rừng", price_vnd=90_000)
    make_stock(point, honey, staff, lot_code="HONEY-UNDATED", quantity=1, expires_in_days=None)
    make_stock(point, honey, staff, lot_code="HONEY-DATED", quantity=1, expires_in_days=400)
    db.session.commit()
    order = services.create_order(point, [(product, 4), (honey, 2)], fulfilment="pickup",
                                  payment_method="pay_at_pickup", contact=CONTACT)
    db.session.commit()
    rows = pick_list(order.id)
    assert [(row.product_name, row.lot_code, row.quantity) for row in rows] == [
        ("Hạt điều rang muối", "SOON", 2), ("Hạt điều rang muối", "LATE", 2),
        ("Mật ong rừng", "HONEY-DATED", 1), ("Mật ong rừng", "HONEY-UNDATED", 1)]
    assert all(row.to_pick for row in rows)
    assert rows[-1].expiry_date is None


def test_units_that_left_stay_on_the_list_and_released_units_do_not(point, product, staff):
    shipped = services.create_order(point, [(product, 1)], fulfilment="delivery", payment_method="cash_on_delivery",
                                    contact=CONTACT, address=ADDRESS)
    services.ship(shipped, tracking_note="VNPost EB123", actor=staff)
    cancelled = services.create_order(point, [(product, 1)], fulfilment="pickup", payment_method="pay_at_pickup",
                                      contact=CONTACT)
    services.cancel(cancelled, reason="Khách đổi ý", actor=staff)
    db.session.commit()
    [row] = pick_list(shipped.id)
    assert (row.lot_code, row.state, row.to_pick) == ("SOON", AllocationState.FULFILLED, False)
    assert pick_list(cancelled.id) == []


def test_an_order_is_found_only_at_its_own_point(point, product, staff):
    order = services.create_order(point, [(product, 1)], fulfilment="pickup", payment_method="pay_at_pickup",
                                  contact=CONTACT)
    other = make_point("DN-BH-01")
    db.session.commit()
    assert order_at_point(point.id, order.number) is order
    assert order_at_point(other.id, order.number) is None
