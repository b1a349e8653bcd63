"""The invariants of the books, each one set-wise query (GROUP BY, no loop over rows) returning its breaches, so
the whole check stays fast on a million ledger rows. Empty lists mean the books are right:

- ledger: every stock level's on_hand is the sum of its ledger rows (and no ledger row lacks its level);
- reserved: every level's reserved is the sum of the order allocations still holding it (state HELD);
- transfer: a received transfer's lines say accepted + rejected = shipped, nothing is accepted before it is
  received, and the ledger rows carrying the transfer's number agree (out = shipped once shipped, in = accepted,
  returned = rejected, or everything when cancelled after shipping; never more back than shipped);
- refunds: the refunds of an order add up to its refunded_vnd, which is at most its paid_vnd;
- cash: cash collected for an order is at most its total, and paid_vnd is what the cash or the card brought;
- order status: each order line's allocations cover its quantity exactly; an order that holds stock (pending
  payment, confirmed, ready for pickup) has nothing fulfilled, every other one holds nothing, and a cancelled one
  has nothing left with the customer. Refunded units brought back on the shelf are split off their allocation as
  released (payments.services._restock), so released units are fine in any status. The fulfilled units are what
  the ledger says left with the order (its order_fulfilment rows less its return rows)."""
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from shop.extensions import db
from shop.inventory.models import (
    Lot,
    MovementKind,
    StockLevel,
    StockMovement,
    Transfer,
    TransferLine,
    TransferStatus,
)
from shop.orders.models import (
    HOLDING,
    AllocationState,
    Order,
    OrderAllocation,
    OrderLine,
    OrderPaymentMethod,
    OrderStatus,
)
from shop.payments.models import CardPayment, CashCollection, Refund
from shop.sales_points.models import SalesPoint

CASH_METHODS = (OrderPaymentMethod.CASH_ON_DELIVERY, OrderPaymentMethod.PAY_AT_PICKUP)


@dataclass(frozen=True)
class Breach:
    invariant: str                      # "ledger", "reserved", "transfer", "refunds", "cash", "order status"
    message: str                        # one line for a person, with the ids
    ids: dict = field(default_factory=dict, compare=False)  # the ids involved, for tools and tests

    def __str__(self) -> str:
        return f"{self.invariant}: {self.message}"


def _sum_if(condition, value):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


def _level_label(level_id, point_code, product_id, lot_code) -> str:
    where = f"(point {point_code}, product {product_id}, lot {lot_code})"
    return f"stock level {level_id} {where}" if level_id is not None else f"no stock level {where}"


# ------------------------------------------------------------------------------------------------ stock

def ledger_breaches() -> list[Breach]:
    """on_hand differs from the sum of the ledger, or ledger rows exist for a level that does not."""
    sums = (sa.select(StockMovement.point_id, StockMovement.product_id, StockMovement.lot_id,
                      sa.func.sum(StockMovement.quantity).label("total"))
            .group_by(StockMovement.point_id, StockMovement.product_id, StockMovement.lot_id).cte("sums"))  # read once
    matches = ((sums.c.point_id == StockLevel.point_id) & (sums.c.product_id == StockLevel.product_id)
               & (sums.c.lot_id == StockLevel.lot_id))
    total = sa.func.coalesce(sums.c.total, 0)
    wrong = (sa.select(StockLevel.id.label("level_id"), StockLevel.point_id, StockLevel.product_id,
                       StockLevel.lot_id, StockLevel.on_hand, total.label("total"))
             .outerjoin(sums, matches).where(StockLevel.on_hand != total))
    orphans = (sa.select(sa.null().label("level_id"), sums.c.point_id, sums.c.product_id, sums.c.lot_id,
                         sa.null().label("on_hand"), sums.c.total)
               .outerjoin(StockLevel, matches).where(StockLevel.id.is_(None)))
    found = sa.union_all(wrong, orphans).subquery("found")
    rows = db.session.execute(
        sa.select(found, SalesPoint.code, Lot.lot_code)
        .join(SalesPoint, SalesPoint.id == found.c.point_id).join(Lot, Lot.id == found.c.lot_id)
        .order_by(found.c.point_id, found.c.product_id, found.c.lot_id))
    breaches = []
    for row in rows:
        label = _level_label(row.level_id, row.code, row.product_id, row.lot_code)
        shown = "has no level" if row.on_hand is None else f"on hand {row.on_hand}"
        breaches.append(Breach("ledger", f"{label} {shown}, ledger says {row.total}", {
            "stock_level_id": row.level_id, "point_id": row.point_id, "product_id": row.product_id,
            "lot_id": row.lot_id}))
    return breaches


def reserved_breaches() -> list[Breach]:
    """reserved differs from the units of the allocations still held on the level."""
    held = (sa.select(OrderAllocation.stock_level_id, sa.func.sum(OrderAllocation.quantity).label("total"))
            .where(OrderAllocation.state == AllocationState.HELD)
            .group_by(OrderAllocation.stock_level_id).subquery("held"))
    total = sa.func.coalesce(held.c.total, 0)
    rows = db.session.execute(
        sa.select(StockLevel.id, StockLevel.point_id, StockLevel.product_id, StockLevel.lot_id, StockLevel.reserved,
                  total.label("held"), SalesPoint.code, Lot.lot_code)
        .outerjoin(held, held.c.stock_level_id == StockLevel.id)
        .join(SalesPoint, SalesPoint.id == StockLevel.point_id).join(Lot, Lot.id == StockLevel.lot_id)
        .where(StockLevel.reserved != total).order_by(StockLevel.id))
    return [Breach("reserved", f"{_level_label(row.id, row.code, row.product_id, row.lot_code)} reserved "
                               f"{row.reserved}, allocations hold {row.held}",
                   {"stock_level_id": row.id, "point_id": row.point_id, "product_id": row.product_id,
                    "lot_id": row.lot_id})
            for row in rows]


def transfer_breaches() -> list[Breach]:
    """Per transfer and lot: the lines' accepted/rejected against shipped and the status, and the ledger rows
    with the transfer's number against the lines."""
    received = Transfer.status == TransferStatus.RECEIVED
    accepted, rejected = TransferLine.quantity_accepted, TransferLine.quantity_rejected
    wrong_line = sa.or_(
        received & sa.or_(accepted.is_(None), rejected.is_(None),
                          accepted + rejected != TransferLine.quantity_shipped),
        ~received & (sa.func.coalesce(accepted, 0) + sa.func.coalesce(rejected, 0) > 0))
    lines = (sa.select(TransferLine.transfer_id, TransferLine.product_id, TransferLine.lot_id,
                       sa.func.sum(TransferLine.quantity_shipped).label("shipped"),
                       sa.func.sum(sa.func.coalesce(accepted, 0)).label("accepted"),
                       sa.func.sum(sa.func.coalesce(rejected, 0)).label("rejected"),
                       _sum_if(wrong_line, 1).label("wrong_lines"))
             .join(Transfer, Transfer.id == TransferLine.transfer_id)
             .group_by(TransferLine.transfer_id, TransferLine.product_id, TransferLine.lot_id).subquery("lines"))
    kind = StockMovement.kind
    ledger = (sa.select(StockMovement.reference, StockMovement.lot_id,
                        _sum_if(kind == MovementKind.TRANSFER_OUT, -StockMovement.quantity).label("moved_out"),
                        _sum_if(kind == MovementKind.TRANSFER_IN, StockMovement.quantity).label("moved_in"),
                        _sum_if(kind == MovementKind.RETURN, StockMovement.quantity).label("returned"))
              .where(kind.in_([MovementKind.TRANSFER_OUT, MovementKind.TRANSFER_IN, MovementKind.RETURN]),
                     StockMovement.reference.is_not(None))
              .group_by(StockMovement.reference, StockMovement.lot_id).subquery("ledger"))
    was_shipped = sa.or_(Transfer.status.in_([TransferStatus.SHIPPED, TransferStatus.RECEIVED]),
                         (Transfer.status == TransferStatus.CANCELLED) & Transfer.shipped_at.is_not(None))
    cancelled_in_transit = (Transfer.status == TransferStatus.CANCELLED) & Transfer.shipped_at.is_not(None)
    expected_out = sa.case((was_shipped, lines.c.shipped), else_=0)
    expected_in = sa.case((received, lines.c.accepted), else_=0)
    expected_back = sa.case((received, lines.c.rejected), (cancelled_in_transit, lines.c.shipped), else_=0)
    moved_out, moved_in, returned = (sa.func.coalesce(ledger.c.moved_out, 0), sa.func.coalesce(ledger.c.moved_in, 0),
                                     sa.func.coalesce(ledger.c.returned, 0))
    origin, destination = aliased(SalesPoint), aliased(SalesPoint)
    rows = db.session.execute(
        sa.select(Transfer.id, Transfer.number, Transfer.status, origin.code.label("origin"),
                  destination.code.label("destination"), lines.c.product_id, lines.c.lot_id, Lot.lot_code,
                  lines.c.shipped, lines.c.accepted, lines.c.rejected, lines.c.wrong_lines,
                  moved_out.label("moved_out"), moved_in.label("moved_in"), returned.label("returned"),
                  expected_out.label("expected_out"), expected_in.label("expected_in"),
                  expected_back.label("expected_back"))
        .join(lines, lines.c.transfer_id == Transfer.id)
        .outerjoin(ledger, (ledger.c.reference == Transfer.number) & (ledger.c.lot_id == lines.c.lot_id))
        .join(Lot, Lot.id == lines.c.lot_id)
        .join(origin, origin.id == Transfer.from_point_id).join(destination, destination.id == Transfer.to_point_id)
        .where(sa.or_(lines.c.wrong_lines > 0, moved_out != expected_out, moved_in != expected_in,
                      returned != expected_back, moved_in + returned > lines.c.shipped))
        .order_by(Transfer.id, lines.c.lot_id))
    breaches = []
    for row in rows:
        problems = []
        if row.wrong_lines and row.status == TransferStatus.RECEIVED:
            problems.append("accepted + rejected is not what was shipped")
        elif row.wrong_lines:
            problems.append(f"units accepted or rejected while {row.status}")
        if row.moved_in + row.returned > row.shipped:
            problems.append(f"received and returned {row.moved_in + row.returned}, more than the {row.shipped} "
                            "shipped")
        for name, actual, expected in (("out", row.moved_out, row.expected_out), ("in", row.moved_in, row.expected_in),
                                       ("returned", row.returned, row.expected_back)):
            if actual != expected:
                problems.append(f"ledger {name} {actual}, expected {expected}")
        breaches.append(Breach("transfer", (
            f"transfer {row.id} ({row.number}, {row.origin} to {row.destination}, {row.status}) lot {row.lot_code} "
            f"(product {row.product_id}): shipped {row.shipped}, accepted {row.accepted}, rejected {row.rejected}; "
            f"ledger out {row.moved_out}, in {row.moved_in}, returned {row.returned}: " + "; ".join(problems)),
            {"transfer_id": row.id, "lot_id": row.lot_id, "product_id": row.product_id}))
    return breaches


# ------------------------------------------------------------------------------------------------ money

def refund_breaches() -> list[Breach]:
    """The refunds of an order do not add up to its refunded_vnd, or more was refunded than paid."""
    sums = (sa.select(Refund.order_id, sa.func.sum(Refund.amount_vnd).label("total"), sa.func.count().label("count"))
            .group_by(Refund.order_id).subquery("refunds"))
    total = sa.func.coalesce(sums.c.total, 0)
    rows = db.session.execute(
        sa.select(Order.id, Order.number, Order.status, Order.paid_vnd, Order.refunded_vnd, total.label("total"),
                  sa.func.coalesce(sums.c.count, 0).label("count"))
        .outerjoin(sums, sums.c.order_id == Order.id)
        .where(sa.or_(Order.refunded_vnd != total, Order.refunded_vnd > Order.paid_vnd)).order_by(Order.id))
    return [Breach("refunds", f"order {row.id} ({row.number}, {row.status}) refunded_vnd {row.refunded_vnd}, its "
                              f"{row.count} refund(s) add up to {row.total}, paid {row.paid_vnd}",
                   {"order_id": row.id})
            for row in rows]


def cash_breaches() -> list[Breach]:
    """More cash recorded than the order's total, or paid_vnd not what the cash (or the card) brought."""
    cash = (sa.select(CashCollection.order_id, sa.func.sum(CashCollection.amount_vnd).label("total"))
            .group_by(CashCollection.order_id).subquery("cash"))
    collected = sa.func.coalesce(cash.c.total, 0)
    card_paid = sa.and_(CardPayment.id.is_not(None), CardPayment.status == "succeeded",
                        Order.paid_vnd == CardPayment.amount_vnd)
    by_cash = Order.payment_method.in_(CASH_METHODS)
    wrong_paid = sa.or_(by_cash & (Order.paid_vnd != collected),
                        ~by_cash & sa.or_(collected > 0, (Order.paid_vnd != 0) & ~card_paid))
    rows = db.session.execute(
        sa.select(Order.id, Order.number, Order.payment_method, Order.total_vnd, Order.paid_vnd,
                  collected.label("collected"), CardPayment.amount_vnd.label("card"))
        .outerjoin(cash, cash.c.order_id == Order.id).outerjoin(CardPayment, CardPayment.order_id == Order.id)
        .where(sa.or_(collected > Order.total_vnd, wrong_paid)).order_by(Order.id))
    breaches = []
    for row in rows:
        card = f", card payment {row.card}" if row.card is not None else ""
        breaches.append(Breach("cash", f"order {row.id} ({row.number}, {row.payment_method}) cash recorded "
                                       f"{row.collected} for a total of {row.total_vnd}{card}, paid_vnd {row.paid_vnd}",
                               {"order_id": row.id}))
    return breaches


# ------------------------------------------------------------------------------------------------ orders

def order_status_breaches() -> list[Breach]:
    """An order's status disagrees with its allocations (see the module's docstring)."""
    state = OrderAllocation.state
    per_line = (sa.select(OrderAllocation.line_id,
                          _sum_if(state == AllocationState.HELD, OrderAllocation.quantity).label("held"),
                          _sum_if(state == AllocationState.FULFILLED, OrderAllocation.quantity).label("fulfilled"),
                          _sum_if(state == AllocationState.RELEASED, OrderAllocation.quantity).label("released"))
                .group_by(OrderAllocation.line_id).subquery("per_line"))
    held, fulfilled, released = (sa.func.coalesce(per_line.c.held, 0), sa.func.coalesce(per_line.c.fulfilled, 0),
                                 sa.func.coalesce(per_line.c.released, 0))
    per_order = (sa.select(OrderLine.order_id, sa.func.sum(OrderLine.quantity).label("ordered"),
                           sa.func.sum(held).label("held"), sa.func.sum(fulfilled).label("fulfilled"),
                           sa.func.sum(released).label("released"),
                           _sum_if(held + fulfilled + released != OrderLine.quantity, 1).label("uncovered"))
                 .outerjoin(per_line, per_line.c.line_id == OrderLine.id)
                 .group_by(OrderLine.order_id).subquery("per_order"))
    # Units out with the customer by the ledger: order_fulfilment rows minus the return rows of the order's number.
    ledger = (sa.select(StockMovement.reference, (-sa.func.sum(StockMovement.quantity)).label("out"))
              .where(StockMovement.kind.in_([MovementKind.ORDER_FULFILMENT, MovementKind.RETURN]),
                     StockMovement.reference.is_not(None))
              .group_by(StockMovement.reference).subquery("ledger"))
    out = sa.func.coalesce(ledger.c.out, 0)
    holding = Order.status.in_(sorted(HOLDING))
    rows = db.session.execute(
        sa.select(Order.id, Order.number, Order.status, per_order.c.ordered, per_order.c.held, per_order.c.fulfilled,
                  per_order.c.released, per_order.c.uncovered, out.label("out"))
        .join(per_order, per_order.c.order_id == Order.id).outerjoin(ledger, ledger.c.reference == Order.number)
        .where(sa.or_(per_order.c.uncovered > 0, holding & (per_order.c.fulfilled > 0),
                      ~holding & (per_order.c.held > 0),
                      (Order.status == OrderStatus.CANCELLED) & (per_order.c.fulfilled > 0),
                      out != per_order.c.fulfilled))
        .order_by(Order.id))
    breaches = []
    for row in rows:
        problems = []
        if row.status in HOLDING and row.fulfilled:
            problems.append(f"{row.fulfilled} unit(s) already left the shelf")
        if row.status not in HOLDING and row.held:
            problems.append(f"it still holds {row.held} unit(s)")
        if row.status == OrderStatus.CANCELLED and row.fulfilled:
            problems.append(f"{row.fulfilled} unit(s) left with it and never came back")
        if row.uncovered:
            problems.append(f"{row.uncovered} line(s) whose allocations do not add up to the quantity ordered")
        if row.out != row.fulfilled:
            problems.append(f"the ledger has {row.out} unit(s) out with it")
        breaches.append(Breach("order status", (
            f"order {row.id} ({row.number}) is {row.status} but " + " and ".join(problems)
            + f" (allocations: held {row.held}, fulfilled {row.fulfilled}, released {row.released} of "
            f"{row.ordered} ordered)"), {"order_id": row.id}))
    return breaches


# ------------------------------------------------------------------------------------------------ all of them

CHECKS: list[tuple[str, Callable[[], list[Breach]]]] = [
    ("ledger", ledger_breaches),
    ("reserved", reserved_breaches),
    ("transfer", transfer_breaches),
    ("refunds", refund_breaches),
    ("cash", cash_breaches),
    ("order status", order_status_breaches),
]


def verify_books() -> list[Breach]:
    """Every breach of every invariant, in the order of CHECKS. Empty when the books are right."""
    return [breach for _name, check in CHECKS for breach in check()]
