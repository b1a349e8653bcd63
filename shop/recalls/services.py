"""The recall of a lot, in one transaction: the orders still holding its units are cancelled (their customers are
emailed by the orders domain), its stock leaves every point through `recall` ledger rows (each point's pull list),
the lot carries who recalled it, when and why (this domain alone writes that), and its journal gets an
automatic `recalled` event. Flushes only."""
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from shop.accounts.models import Role
from shop.core import audit_trail
from shop.core.database import open_transaction
from shop.core.errors import Conflict, DomainError, NotAllowed
from shop.core.models import utcnow
from shop.core.state import compare_and_set
from shop.core.text import nfc
from shop.extensions import db
from shop.inventory import services as inventory
from shop.inventory.models import StockLevel, StockMovement
from shop.orders import services as orders
from shop.orders.models import AllocationState, Order, OrderAllocation, OrderLine
from shop.producers.queries import producer_of
from shop.traceability.models import Lot, TraceEventType
from shop.traceability.services import record_custody_event

DEPARTMENT_ROLES = frozenset({Role.ADMIN, Role.TRADE_OFFICER})


@dataclass(frozen=True)
class RecallOutcome:
    lot: Lot
    pulled: list[StockMovement]      # one `recall` ledger row per point that held units
    cancelled: list[Order]           # orders that were holding units of the lot


def may_recall(actor, lot: Lot) -> bool:
    """The trade department (officers, admins) recalls any lot; a producer account only its producer's lots."""
    role = getattr(actor, "role", None)
    if role in DEPARTMENT_ROLES:
        return True
    if role == Role.PRODUCER:
        producer = producer_of(actor)
        return producer is not None and producer.id == lot.product.producer_id
    return False


def _orders_holding(lot: Lot) -> list[Order]:
    holding = (sa.select(OrderLine.order_id)
               .join(OrderAllocation, OrderAllocation.line_id == OrderLine.id)
               .join(StockLevel, StockLevel.id == OrderAllocation.stock_level_id)
               .where(StockLevel.lot_id == lot.id, OrderAllocation.state == AllocationState.HELD))
    return list(db.session.scalars(sa.select(Order).where(Order.id.in_(holding)).order_by(Order.id)
                                   .with_for_update()))


def recall(lot: Lot, *, reason: str, actor) -> RecallOutcome:
    """Recall `lot` with a reason. Refused: no reason, a lot already recalled, an actor who may not recall it."""
    if getattr(actor, "id", None) is None or not may_recall(actor, lot):
        raise NotAllowed(str(_l("You may not recall this lot.")), code="not_allowed")
    reason = (nfc(reason) or "").strip()
    if not reason:
        raise DomainError(str(_l("A recall needs a reason.")), field="reason", code="reason_required")
    # Lock the lot (re-read: a recall committed meanwhile is seen) and its stock levels, so that no checkout can
    # put a new hold on the lot between the orders read below and the stock leaving the shelves. SQLite has no row
    # locks: there the write transaction starts before the reads.
    open_transaction()
    db.session.scalar(sa.select(Lot).where(Lot.id == lot.id).with_for_update()
                      .execution_options(populate_existing=True))
    db.session.execute(sa.select(StockLevel.id).where(StockLevel.lot_id == lot.id).order_by(StockLevel.id)
                       .with_for_update())
    # Once, on the lot's current state: two recalls sent at once take the units off the shelves once.
    compare_and_set(lot, Conflict(str(_l("This lot is already recalled.")), field="reason", code="already_recalled"),
                    expected={"recalled_at": None}, recalled_at=utcnow(), recall_reason=reason,
                    recalled_by_id=actor.id)

    # 1. No order may keep a hold on recalled stock: cancelling releases the hold and emails the customer.
    cancel_reason = str(_l("Lot %(code)s of %(product)s was recalled: %(reason)s", code=lot.lot_code,
                           product=lot.product.name, reason=reason))
    cancelled = _orders_holding(lot)
    for order in cancelled:
        orders.cancel(order, reason=cancel_reason, actor=actor)

    # 2. Off every shelf, through `recall` ledger rows, and the lot's journal gets its automatic `recalled` event
    #    (what the trace page shows).
    pulled = inventory.pull_recalled_lot(lot, actor=actor)
    record_custody_event(lot, event_type=TraceEventType.RECALLED, point=None, reference=None, actor=actor,
                         occurred_at=lot.recalled_at, note=reason)
    audit_trail.record("recalls.lot_recalled", lot, actor=actor, lot_code=lot.lot_code, product_id=lot.product_id,
                       reason=reason, orders=[order.number for order in cancelled],
                       points=[movement.point_id for movement in pulled])
    return RecallOutcome(lot=lot, pulled=pulled, cancelled=cancelled)
