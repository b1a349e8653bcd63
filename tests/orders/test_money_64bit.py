"""Totals of money are 64-bit: an order, a payment, a refund or a day's counter takings above 2,147,483,647 đồng
(the end of a 32-bit integer, which PostgreSQL's INTEGER refuses) are stored and read back exactly."""
import sqlalchemy as sa

from shop.accounts.models import Role
from shop.extensions import db
from shop.inventory.models import CounterReturn, CounterSale, PaymentMethod
from shop.orders.models import Fulfilment, Order, OrderPaymentMethod, OrderStatus
from shop.payments.models import CardPayment, CashCollection, Refund, RefundMethod
from tests.factories import make_point, make_user

BIG = 5_000_000_000  # five billion đồng: a large wholesale order, more than 2**31 - 1


def test_money_totals_beyond_32_bits_are_kept_exactly(app_ctx):
    point, actor = make_point("DN-BIG-01"), make_user(Role.POINT_MANAGER)
    order = Order(number="DH-BIG-1", access_key="k" * 32, contact_name="Công ty Lớn", phone="+84912345678",
                  email="mua@example.vn", fulfilment=Fulfilment.PICKUP, point_id=point.id,
                  payment_method=OrderPaymentMethod.CARD, status=OrderStatus.CONFIRMED, subtotal_vnd=BIG,
                  shipping_fee_vnd=0, total_vnd=BIG, paid_vnd=BIG, refunded_vnd=BIG - 1)
    db.session.add(order)
    db.session.flush()
    sale = CounterSale(number="DN-BIG-01-000001", point_id=point.id, total_vnd=BIG, payment_method=PaymentMethod.CASH,
                       actor_id=actor.id)
    db.session.add(sale)
    db.session.flush()
    db.session.add_all([
        CardPayment(order_id=order.id, intent_id="pi_big", client_secret="secret", amount_vnd=BIG, status="succeeded"),
        CashCollection(order_id=order.id, amount_vnd=BIG, collected_by_id=actor.id),
        Refund(order_id=order.id, amount_vnd=BIG - 1, method=RefundMethod.CARD, reason="Trả lại", actor_id=actor.id),
        CounterReturn(number="DN-BIG-01-TH-000001", sale_id=sale.id, point_id=point.id, refund_vnd=BIG,
                      payment_method=PaymentMethod.CASH, reason="Trả lại", restocked=False, actor_id=actor.id),
    ])
    db.session.commit()
    db.session.expire_all()

    assert db.session.execute(sa.select(Order.subtotal_vnd, Order.total_vnd, Order.paid_vnd, Order.refunded_vnd)
                              ).one() == (BIG, BIG, BIG, BIG - 1)
    assert db.session.scalar(sa.select(CounterSale.total_vnd)) == BIG
    assert db.session.scalar(sa.select(CounterReturn.refund_vnd)) == BIG
    assert db.session.scalar(sa.select(CardPayment.amount_vnd)) == BIG
    assert db.session.scalar(sa.select(CashCollection.amount_vnd)) == BIG
    assert db.session.scalar(sa.select(Refund.amount_vnd)) == BIG - 1
    # Sums over such rows stay exact too (the books add them up).
    both = sa.union_all(sa.select(Order.total_vnd.label("amount")), sa.select(CounterSale.total_vnd)).subquery()
    assert db.session.scalar(sa.select(sa.func.sum(both.c.amount))) == 2 * BIG
