"""Stock use cases. They flush, never commit. Every change of on_hand is a conditional atomic UPDATE plus exactly
one ledger row in the same transaction, so concurrent transactions can never drive stock below zero (nor below
what is reserved) on SQLite or PostgreSQL. Several rows are always touched in id order (no deadlocks)."""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from shop.catalog.models import Product
from shop.certification.models import CertificateStatus
from shop.certification.queries import certificate_history, current_basis, current_certificate
from shop.core import audit_trail
from shop.core.clock import format_date, today
from shop.core.errors import Conflict, DomainError, NotFound
from shop.core.models import utcnow
from shop.core.state import compare_and_set, insert_ignoring_duplicates
from shop.core.text import nfc
from shop.extensions import db
from shop.inventory.models import (
    AdjustmentReason,
    CounterReturn,
    CounterReturnLine,
    CounterSale,
    CounterSaleLine,
    DocumentCounter,
    Lot,
    MovementKind,
    PaymentMethod,
    StockLevel,
    StockMovement,
    Transfer,
    TransferLine,
    TransferStatus,
)
from shop.sales_points.models import PointProduct, PointStatus, SalesPoint
from shop.traceability.models import TraceEventType
from shop.traceability.services import lot_for_receipt, record_custody_event

MAX_ATTEMPTS = 5  # a sale re-plans its lots when a concurrent transaction took the stock it had planned on


# ---------------------------------------------------------------------------------------------------- checks

def _check_quantity(value, field: str = "quantity") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise DomainError(str(_l("The quantity must be a whole number greater than zero.")), field=field,
                          code="invalid_quantity")
    return value


def _check_actor(actor) -> None:
    if getattr(actor, "id", None) is None:
        raise DomainError(str(_l("Every stock movement needs the person who made it.")), field="actor",
                          code="actor_required")


def basis_problem(product: Product, day: date) -> str | None:
    """Why the product may not be stocked or sold on `day`, or None when it has a qualifying basis: a valid
    certificate of 3 stars or more (P-01) or a basis of P-02…P-04 recorded by the trade department."""
    if current_certificate(product.id, day) is not None or current_basis(product.id, day) is not None:
        return None
    history = certificate_history(product.id)
    latest = history[0] if history else None
    if latest is not None and latest.status_on(day) == CertificateStatus.WITHDRAWN:
        return str(_l("The OCOP certificate of this product was withdrawn on %(day)s.",
                      day=format_date(latest.withdrawn_on)))
    if latest is not None and latest.status_on(day) == CertificateStatus.EXPIRED:
        return str(_l("The OCOP certificate of this product expired on %(day)s.", day=format_date(latest.valid_until)))
    return str(_l("This product has no valid OCOP certificate of 3 stars or more."))


def _check_basis(product: Product, day: date) -> None:
    problem = basis_problem(product, day)
    if problem:
        raise DomainError(problem, field="product", code="no_qualifying_basis")


# ------------------------------------------------------------------------------------------- atomic updates

@dataclass(frozen=True)
class _Change:
    level_id: int
    delta: int
    expected_on_hand: int | None = None  # a count applies only to the quantity it was counted against


def _apply(changes: Iterable[_Change]) -> bool:
    """Apply every change or none: conditional UPDATEs in level id order; if one finds too little stock (or stock
    that moved since it was counted), undo the ones already made and return False."""
    done: list[_Change] = []
    for change in sorted(changes, key=lambda c: c.level_id):
        statement = (sa.update(StockLevel).where(StockLevel.id == change.level_id)
                     .values(on_hand=StockLevel.on_hand + change.delta)
                     .execution_options(synchronize_session=False))
        if change.delta < 0:
            statement = statement.where(StockLevel.on_hand - StockLevel.reserved + change.delta >= 0)
        if change.expected_on_hand is not None:
            statement = statement.where(StockLevel.on_hand == change.expected_on_hand)
        if db.session.execute(statement).rowcount != 1:
            for applied in done:  # rows we updated are locked by this transaction: the undo cannot fail
                db.session.execute(sa.update(StockLevel).where(StockLevel.id == applied.level_id)
                                   .values(on_hand=StockLevel.on_hand - applied.delta)
                                   .execution_options(synchronize_session=False))
            _refresh(c.level_id for c in done)
            return False
        done.append(change)
    _refresh(c.level_id for c in done)
    return True


def _refresh(level_ids: Iterable[int]) -> None:
    for level_id in set(level_ids):
        level = db.session.identity_map.get(db.session.identity_key(StockLevel, level_id))
        if level is not None:
            db.session.expire(level, ["on_hand", "reserved"])


def _level_for(point_id: int, product_id: int, lot_id: int, create: bool) -> StockLevel | None:
    where = (StockLevel.point_id == point_id, StockLevel.product_id == product_id, StockLevel.lot_id == lot_id)
    level = db.session.scalar(sa.select(StockLevel).where(*where))
    if level is None and create:
        insert_ignoring_duplicates(StockLevel, {"point_id": point_id, "product_id": product_id, "lot_id": lot_id,
                                                 "on_hand": 0, "reserved": 0})
        level = db.session.scalar(sa.select(StockLevel).where(*where))
    return level


def _carry(point_id: int, product_id: int) -> None:
    """Goods on a shelf put the product in the point's assortment (what the storefront lists for the point)."""
    insert_ignoring_duplicates(PointProduct, {"point_id": point_id, "product_id": product_id})


def _lot_problem(lot: Lot, day: date) -> str | None:
    if lot.is_recalled:
        return str(_l("Lot %(code)s has been recalled.", code=lot.lot_code))
    if lot.is_expired_on(day):
        return str(_l("This lot has already expired."))
    return None


def _check_point_takes_goods(point: SalesPoint, field: str = "point") -> None:
    if point.status in (PointStatus.CLOSED, PointStatus.SUSPENDED):
        raise DomainError(str(_l("Sales point %(code)s is closed or suspended and cannot receive goods.",
                                 code=point.code)), field=field, code="point_not_open")


def _movement(level: StockLevel, quantity: int, kind: MovementKind, actor, **fields) -> StockMovement:
    movement = StockMovement(point_id=level.point_id, product_id=level.product_id, lot_id=level.lot_id,
                             quantity=quantity, kind=kind, actor_id=actor.id, occurred_at=utcnow(), **fields)
    db.session.add(movement)
    return movement


# -------------------------------------------------------------------------------------------------- receipts

def receive_stock(point: SalesPoint, product: Product, *, lot_code: str, production_date: date,
                  expiry_date: date | None, quantity: int, unit_cost_vnd: int, delivery_note: str,
                  actor) -> StockMovement:
    """Goods received from a producer, recorded against the delivery note."""
    _check_actor(actor)
    day = today()
    _check_point_takes_goods(point)
    _check_quantity(quantity)
    if isinstance(unit_cost_vnd, bool) or not isinstance(unit_cost_vnd, int) or unit_cost_vnd < 0:
        raise DomainError(str(_l("The unit cost must be a whole number of đồng, zero or more.")),
                          field="unit_cost_vnd", code="invalid_unit_cost")
    delivery_note = (nfc(delivery_note) or "").strip()
    if not delivery_note:
        raise DomainError(str(_l("The delivery note number is required.")), field="delivery_note",
                          code="delivery_note_required")
    lot_code = (nfc(lot_code) or "").strip()
    if not lot_code:
        raise DomainError(str(_l("The lot code is required.")), field="lot_code", code="lot_code_required")
    if not isinstance(production_date, date) or production_date > day:
        raise DomainError(str(_l("The production date cannot be in the future.")), field="production_date",
                          code="invalid_production_date")
    if expiry_date is not None and expiry_date < production_date:
        raise DomainError(str(_l("The expiry date is before the production date.")), field="expiry_date",
                          code="expiry_before_production")
    if expiry_date is not None and expiry_date < day:
        raise DomainError(str(_l("This lot has already expired.")), field="expiry_date", code="lot_expired")
    _check_basis(product, day)

    lot = lot_for_receipt(product, lot_code, production_date, expiry_date)
    level = _level_for(point.id, product.id, lot.id, create=True)
    _carry(point.id, product.id)
    _apply([_Change(level.id, quantity)])
    movement = _movement(level, quantity, MovementKind.RECEIPT, actor, unit_cost_vnd=unit_cost_vnd,
                         reference=delivery_note)
    db.session.flush()
    record_custody_event(lot, event_type=TraceEventType.RECEIVED_AT_POINT, point=point, reference=delivery_note,
                         actor=actor, occurred_at=movement.occurred_at)
    audit_trail.record("inventory.stock_received", movement, actor=actor, point_id=point.id, product_id=product.id,
                       lot_code=lot_code, quantity=quantity, unit_cost_vnd=unit_cost_vnd, delivery_note=delivery_note)
    return movement


def pull_recalled_lot(lot: Lot, *, actor) -> list[StockMovement]:
    """The stock side of a recall (recalls.recall marks the lot first, in the same transaction): at every point
    holding the lot the units leave the shelf through one `recall` row, noted with the recall's reason. The rows
    are each point's pull list."""
    _check_actor(actor)
    if not lot.is_recalled:
        raise DomainError(str(_l("Only a recalled lot is pulled from the shelves.")), code="lot_not_recalled")
    reason = lot.recall_reason
    # Held units belong to orders: those are cancelled first (recalls.recall does), which releases them through
    # their allocations. Zeroing `reserved` here would strand the orders' allocations.
    if db.session.scalar(sa.select(sa.func.count()).select_from(StockLevel)
                         .where(StockLevel.lot_id == lot.id, StockLevel.reserved > 0)):
        raise Conflict(str(_l("Orders still hold units of lot %(code)s: cancel them first.", code=lot.lot_code)),
                       code="lot_held_by_orders")
    for _attempt in range(MAX_ATTEMPTS):
        held = db.session.execute(sa.select(StockLevel.id, StockLevel.on_hand)
                                  .where(StockLevel.lot_id == lot.id, StockLevel.on_hand > 0)).all()
        # Each level must still hold what was read: a sale in between makes us read again.
        if _apply([_Change(level_id, -on_hand, expected_on_hand=on_hand) for level_id, on_hand in held]):
            break
    else:
        raise Conflict(str(_l("The stock is changing too fast; please try the recall again.")), code="busy")
    movements = [_movement(db.session.get(StockLevel, level_id), -on_hand, MovementKind.RECALL, actor, note=reason)
                 for level_id, on_hand in held]
    db.session.flush()
    return movements


# ----------------------------------------------------------------------------------------------- adjustments

def adjust_stock(target: StockLevel | tuple, *, delta: int, reason: AdjustmentReason | str, note: str | None = None,
                 actor) -> StockMovement:
    """A correction with a reason. `target` is a StockLevel or (point, product, lot). Never below zero, nor below
    what is reserved for orders."""
    _check_actor(actor)
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise DomainError(str(_l("The change must be a whole number other than zero.")), field="delta",
                          code="invalid_quantity")
    try:
        reason = AdjustmentReason(reason)
    except ValueError:
        raise DomainError(str(_l("Choose the reason for the adjustment.")), field="reason",
                          code="reason_required") from None
    if isinstance(target, StockLevel):
        level = target
    else:
        point, product, lot = target
        if lot.product_id != product.id:
            raise DomainError(str(_l("This lot belongs to another product.")), field="lot", code="lot_mismatch")
        level = _level_for(point.id, product.id, lot.id, create=delta > 0)
        if level is None:
            raise NotFound(str(_l("There is no stock of this lot at this point.")), field="lot")
    if not _apply([_Change(level.id, delta)]):
        raise Conflict(str(_l("Not enough stock: the adjustment would take the stock below zero or below what is "
                              "reserved for orders.")), field="delta", code="insufficient_stock")
    movement = _movement(level, delta, MovementKind.ADJUSTMENT, actor, reason=reason,
                         note=(nfc(note) or "").strip() or None)
    db.session.flush()
    audit_trail.record("inventory.stock_adjusted", movement, actor=actor, point_id=level.point_id,
                       product_id=level.product_id, lot_id=level.lot_id, delta=delta, reason=reason.value)
    return movement


def record_count(point: SalesPoint, counts: dict[tuple[int, int], int], *, actor, note: str | None = None,
                 counted_against: dict[tuple[int, int], int] | None = None) -> list[StockMovement]:
    """A physical count: every difference becomes a count-correction row. All or nothing; refused if the stock
    moved while counting (a sale in the meantime) so the count is never applied to the wrong figure.
    `counted_against` gives, per (product id, lot id), the on-hand quantity printed on the count sheet: the
    count applies only if the stock still holds exactly that."""
    _check_actor(actor)
    checked: list[tuple[Lot, int]] = []
    for (product_id, lot_id), counted in sorted(counts.items()):
        if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
            raise DomainError(str(_l("A counted quantity must be a whole number, zero or more.")), field="counts",
                              code="invalid_quantity")
        lot = db.session.get(Lot, lot_id)
        if lot is None or lot.product_id != product_id:
            raise DomainError(str(_l("This lot belongs to another product.")), field="counts", code="lot_mismatch")
        checked.append((lot, counted))
    planned: list[tuple[StockLevel, int, int]] = []
    for lot, counted in checked:
        level = _level_for(point.id, lot.product_id, lot.id, create=False)
        on_hand, reserved = (0, 0) if level is None else db.session.execute(
            sa.select(StockLevel.on_hand, StockLevel.reserved).where(StockLevel.id == level.id)).one()
        if counted_against is not None and counted_against.get((lot.product_id, lot.id)) != on_hand:
            raise Conflict(str(_l("The stock changed while it was being counted. Please count again.")),
                           field="counts", code="stock_changed")
        if counted < reserved:
            raise DomainError(str(_l("Lot %(code)s: the count is below the quantity reserved for orders.",
                                     code=lot.lot_code)), field="counts", code="below_reserved")
        if counted != on_hand:
            planned.append((lot, counted - on_hand, on_hand))
    # Found goods of a lot this point had no level for: the level starts at zero, the count row brings it up.
    planned = [(_level_for(point.id, lot.product_id, lot.id, create=True), delta, expected)
               for lot, delta, expected in planned]
    if not _apply([_Change(level.id, delta, expected) for level, delta, expected in planned]):
        raise Conflict(str(_l("The stock changed while it was being counted. Please count again.")), field="counts",
                       code="stock_changed")
    movements = [_movement(level, delta, MovementKind.ADJUSTMENT, actor, reason=AdjustmentReason.COUNT_CORRECTION,
                           note=(nfc(note) or "").strip() or None) for level, delta, _ in planned]
    db.session.flush()
    audit_trail.record("inventory.stock_counted", point, actor=actor, lines=len(counts),
                       differences=[[m.lot_id, m.quantity] for m in movements])
    return movements


# ---------------------------------------------------------------------------------------------- counter sales

def sell_at_counter(point: SalesPoint, lines: list[tuple[Product, int]], *, payment_method: PaymentMethod | str,
                    actor) -> CounterSale:
    """A sale at the counter, all or nothing. Lots are taken first-expired-first-out among sellable lots."""
    _check_actor(actor)
    day = today()
    if not point.is_open:
        raise DomainError(str(_l("This sales point is not open.")), field="point", code="point_not_open")
    try:
        payment_method = PaymentMethod(payment_method)
    except ValueError:
        raise DomainError(str(_l("Choose a payment method: cash, card or bank transfer.")), field="payment_method",
                          code="invalid_payment_method") from None
    wanted, products = _wanted_quantities(lines, day, empty=DomainError(
        str(_l("The sale has no lines.")), field="lines", code="empty_sale"))

    for _attempt in range(MAX_ATTEMPTS):
        plan = _plan_fefo(point.id, wanted, products, day)
        if _apply([_Change(level_id, -quantity) for level_id, _lot, quantity in plan]):
            break
    else:
        raise Conflict(str(_l("The stock is changing too fast; please try the sale again.")), code="busy")

    number = f"{point.code}-{_next_number(point.id, 'counter_sale'):06d}"
    sale = CounterSale(number=number, point_id=point.id, payment_method=payment_method, actor_id=actor.id,
                       created_at=utcnow(), total_vnd=0)
    for level_id, lot, quantity in plan:
        product = products[lot.product_id]
        sale.lines.append(CounterSaleLine(product_id=product.id, lot_id=lot.id, product_name=product.name,
                                          lot_code=lot.lot_code, quantity=quantity, unit_price_vnd=product.price_vnd))
        db.session.add(StockMovement(point_id=point.id, product_id=product.id, lot_id=lot.id, quantity=-quantity,
                                     kind=MovementKind.COUNTER_SALE, actor_id=actor.id, occurred_at=sale.created_at,
                                     reference=number))
    sale.total_vnd = sum(line.total_vnd for line in sale.lines)
    db.session.add(sale)
    db.session.flush()
    audit_trail.record("inventory.counter_sale", sale, actor=actor, point_id=point.id, number=number,
                       total_vnd=sale.total_vnd, payment_method=payment_method.value)
    return sale


def return_counter_sale(sale: CounterSale, quantities: dict[int, int], *, reason: str, restock: bool,
                        actor) -> CounterReturn:
    """A customer brings back goods bought at this point: `quantities` maps sale line id → units returned. The
    refund is the price paid; units go back on the shelf (a `return` row) or, when they cannot be sold again,
    come back and are written off as damaged, so the ledger shows both. Never more than was sold."""
    _check_actor(actor)
    reason = (nfc(reason) or "").strip()
    if not reason:
        raise DomainError(str(_l("Give the reason for the return.")), field="reason", code="reason_required")
    lines = {line.id: line for line in sale.lines}
    wanted = {}
    for line_id, quantity in sorted(quantities.items()):
        if line_id not in lines:
            raise DomainError(str(_l("This line is not part of the sale.")), field="lines", code="line_mismatch")
        if quantity:
            wanted[line_id] = _check_quantity(quantity, field="lines")
    if not wanted:
        raise DomainError(str(_l("Give the quantity returned of at least one line.")), field="lines",
                          code="empty_return")
    for line_id, quantity in wanted.items():
        # Conditional: two returns of the same line at once cannot together exceed what was sold.
        done = db.session.execute(
            sa.update(CounterSaleLine).where(CounterSaleLine.id == line_id,
                                             CounterSaleLine.quantity_returned + quantity <= CounterSaleLine.quantity)
            .values(quantity_returned=CounterSaleLine.quantity_returned + quantity)
            .execution_options(synchronize_session=False)).rowcount == 1
        if not done:
            db.session.expire(lines[line_id], ["quantity_returned"])
            raise Conflict(str(_l("%(name)s: more units than were sold (and not yet returned).",
                                  name=lines[line_id].product_name)), field="lines", code="more_than_sold")
        db.session.expire(lines[line_id], ["quantity_returned"])
    number = f"{sale.point.code}-TH-{_next_number(sale.point_id, 'counter_return'):06d}"
    counter_return = CounterReturn(number=number, sale_id=sale.id, point_id=sale.point_id, reason=reason,
                                   restocked=bool(restock), payment_method=sale.payment_method, actor_id=actor.id,
                                   created_at=utcnow(),
                                   refund_vnd=sum(lines[i].unit_price_vnd * q for i, q in wanted.items()))
    changes, rows = [], []
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        counter_return.lines.append(CounterReturnLine(sale_line_id=line_id, quantity=quantity))
        level = _level_for(sale.point_id, line.product_id, line.lot_id, create=True)
        changes.append(_Change(level.id, quantity))
        rows.append((level, quantity))
    _apply(changes)  # only additions: cannot fail
    for level, quantity in rows:
        _movement(level, quantity, MovementKind.RETURN, actor, reference=number, note=reason)
    if not restock:
        if not _apply([_Change(level.id, -quantity) for level, quantity in rows]):
            raise Conflict(str(_l("The stock is changing too fast; please try again.")), code="busy")
        for level, quantity in rows:
            _movement(level, -quantity, MovementKind.ADJUSTMENT, actor, reason=AdjustmentReason.DAMAGED,
                      reference=number, note=reason)
    db.session.add(counter_return)
    db.session.flush()
    audit_trail.record("inventory.counter_return", counter_return, actor=actor, number=number, sale=sale.number,
                       refund_vnd=counter_return.refund_vnd, restocked=bool(restock))
    return counter_return


def _wanted_quantities(lines: list[tuple[Product, int]], day: date, *, empty: DomainError
                       ) -> tuple[dict[int, int], dict[int, Product]]:
    """Quantities per product (a product on two lines counts once), each checked, each product allowed for
    sale today; `empty` is raised when there is no line."""
    wanted: dict[int, int] = {}
    products: dict[int, Product] = {}
    for product, quantity in lines:
        wanted[product.id] = wanted.get(product.id, 0) + _check_quantity(quantity)
        products[product.id] = product
    if not wanted:
        raise empty
    for product_id in sorted(wanted):
        _check_basis(products[product_id], day)
    return wanted, products


def _plan_fefo(point_id: int, wanted: dict[int, int], products: dict[int, Product],
               day: date) -> list[tuple[int, Lot, int]]:
    """(level id, lot, quantity) taking each product from its sellable lots, soonest expiry first; quantities are
    read fresh from the database (not the session), since another transaction may have just sold."""
    plan = []
    for product_id in sorted(wanted):
        rows = db.session.execute(
            sa.select(StockLevel.id, Lot, StockLevel.on_hand - StockLevel.reserved)
            .join(Lot, Lot.id == StockLevel.lot_id)
            .where(StockLevel.point_id == point_id, StockLevel.product_id == product_id,
                   StockLevel.on_hand - StockLevel.reserved > 0, Lot.recalled_at.is_(None),
                   sa.or_(Lot.expiry_date.is_(None), Lot.expiry_date >= day))
            .order_by(Lot.expiry_date.is_(None), Lot.expiry_date, Lot.production_date, Lot.id)).all()
        need = wanted[product_id]
        for level_id, lot, available in rows:
            take = min(need, available)
            plan.append((level_id, lot, take))
            need -= take
            if need == 0:
                break
        if need:
            have = wanted[product_id] - need
            raise Conflict(str(_l("Not enough sellable stock of %(name)s: %(have)s left, %(want)s asked.",
                                  name=products[product_id].name, have=have, want=wanted[product_id])),
                           field="lines", code="insufficient_stock")
    return plan


def _next_number(point_id: int, kind: str) -> int:
    insert_ignoring_duplicates(DocumentCounter, {"point_id": point_id, "kind": kind, "last_number": 0})
    return db.session.execute(
        sa.update(DocumentCounter).where(DocumentCounter.point_id == point_id, DocumentCounter.kind == kind)
        .values(last_number=DocumentCounter.last_number + 1).returning(DocumentCounter.last_number)
        .execution_options(synchronize_session=False)).scalar_one()



# ----------------------------------------------------------------------------------------------- reservations

def _reserve(changes: Iterable[_Change]) -> bool:
    """Like _apply, but moves `reserved` (never above on_hand); all or nothing, in level id order."""
    done: list[_Change] = []
    for change in sorted(changes, key=lambda c: c.level_id):
        statement = (sa.update(StockLevel).where(StockLevel.id == change.level_id)
                     .values(reserved=StockLevel.reserved + change.delta)
                     .execution_options(synchronize_session=False))
        if change.delta > 0:
            statement = statement.where(StockLevel.on_hand - StockLevel.reserved >= change.delta)
        else:
            statement = statement.where(StockLevel.reserved + change.delta >= 0)
        if db.session.execute(statement).rowcount != 1:
            for applied in done:
                db.session.execute(sa.update(StockLevel).where(StockLevel.id == applied.level_id)
                                   .values(reserved=StockLevel.reserved - applied.delta)
                                   .execution_options(synchronize_session=False))
            _refresh(c.level_id for c in done)
            return False
        done.append(change)
    _refresh(c.level_id for c in done)
    return True


def reserve_lines(point: SalesPoint, lines: list[tuple[Product, int]], *, reference: str,
                  actor=None) -> list[tuple[StockLevel, int]]:
    """Hold stock for an order, all lines or none, first-expired-first-out among sellable lots. Reserving moves
    no goods, so it writes no ledger row (fulfilment does) and needs no person: a guest's order holds stock too."""
    day = today()
    wanted, products = _wanted_quantities(lines, day, empty=DomainError(
        str(_l("The order has no lines.")), field="lines", code="empty_order"))
    for _attempt in range(MAX_ATTEMPTS):
        plan = _plan_fefo(point.id, wanted, products, day)
        if _reserve([_Change(level_id, quantity) for level_id, _lot, quantity in plan]):
            break
    else:
        raise Conflict(str(_l("The stock is changing too fast; please try again.")), code="busy")
    db.session.flush()
    audit_trail.record("inventory.stock_reserved", point, actor=actor, reference=reference,
                       lines=[[level_id, quantity] for level_id, _lot, quantity in plan])
    return [(db.session.get(StockLevel, level_id), quantity) for level_id, _lot, quantity in plan]


def reserve_stock(point: SalesPoint, product: Product, quantity: int, *, reference: str,
                  actor=None) -> list[tuple[StockLevel, int]]:
    return reserve_lines(point, [(product, quantity)], reference=reference, actor=actor)


def release_reservation(level: StockLevel, quantity: int, *, reference: str | None = None, actor=None) -> None:
    """Give reserved units back to the shelf (an order cancelled or expired, possibly by a job: no person). No
    ledger row: on_hand does not change."""
    _check_quantity(quantity)
    if not _reserve([_Change(level.id, -quantity)]):
        raise Conflict(str(_l("Fewer units are reserved than you are trying to release.")), field="quantity",
                       code="not_reserved")
    audit_trail.record("inventory.reservation_released", level, actor=actor, reference=reference, quantity=quantity)


def fulfil_reservation(level: StockLevel, quantity: int, *, reference: str, actor) -> StockMovement:
    """Reserved units leave with the order: on_hand and reserved go down together, with one ledger row."""
    _check_actor(actor)
    _check_quantity(quantity)
    done = db.session.execute(
        sa.update(StockLevel).where(StockLevel.id == level.id, StockLevel.reserved >= quantity)
        .values(on_hand=StockLevel.on_hand - quantity, reserved=StockLevel.reserved - quantity)
        .execution_options(synchronize_session=False)).rowcount == 1
    _refresh([level.id])
    if not done:
        raise Conflict(str(_l("Fewer units are reserved than you are trying to fulfil.")), field="quantity",
                       code="not_reserved")
    movement = _movement(level, -quantity, MovementKind.ORDER_FULFILMENT, actor, reference=reference)
    db.session.flush()
    audit_trail.record("inventory.reservation_fulfilled", movement, actor=actor, reference=reference,
                       quantity=quantity)
    return movement


def restock_returned(level: StockLevel, quantity: int, *, reference: str, note: str, actor) -> StockMovement:
    """Units that had left with an order come back to the same shelf (a failed delivery, a refund with the goods
    returned): one `return` row."""
    _check_actor(actor)
    _check_quantity(quantity)
    _apply([_Change(level.id, quantity)])  # an addition: cannot fail
    movement = _movement(level, quantity, MovementKind.RETURN, actor, reference=reference,
                         note=(nfc(note) or "").strip() or None)
    db.session.flush()
    audit_trail.record("inventory.order_units_returned", movement, actor=actor, reference=reference,
                       quantity=quantity)
    return movement


# -------------------------------------------------------------------------------------------------- transfers

def create_transfer(from_point: SalesPoint, to_point: SalesPoint, lines: list[tuple[Product, Lot, int]], *,
                    actor, note: str | None = None) -> Transfer:
    """A draft: nothing moves yet. Whether the origin has the stock is checked when it ships."""
    _check_actor(actor)
    if from_point.id == to_point.id:
        raise DomainError(str(_l("A transfer must go to another sales point.")), field="to_point",
                          code="same_point")
    if not lines:
        raise DomainError(str(_l("The transfer has no lines.")), field="lines", code="empty_transfer")
    _check_point_takes_goods(to_point, field="to_point")
    transfer = Transfer(number=f"{from_point.code}-CK-{_next_number(from_point.id, 'transfer'):06d}",
                        from_point_id=from_point.id, to_point_id=to_point.id, status=TransferStatus.DRAFT,
                        created_by_id=actor.id, created_at=utcnow(), note=(nfc(note) or "").strip() or None)
    for product, lot, quantity in lines:
        _check_quantity(quantity)
        if lot.product_id != product.id:
            raise DomainError(str(_l("This lot belongs to another product.")), field="lines", code="lot_mismatch")
        transfer.lines.append(TransferLine(product_id=product.id, lot_id=lot.id, quantity_shipped=quantity))
    db.session.add(transfer)
    db.session.flush()
    audit_trail.record("inventory.transfer_created", transfer, actor=actor, number=transfer.number)
    return transfer


def ship_transfer(transfer: Transfer, *, actor) -> Transfer:
    """The goods leave the origin (one transfer_out row per line) and are in transit."""
    _check_actor(actor)
    _check_point_takes_goods(transfer.to_point, field="to_point")
    day = today()
    for line in transfer.lines:
        _check_basis(line.product, day)
    planned = []
    for line in transfer.lines:
        level = _level_for(transfer.from_point_id, line.product_id, line.lot_id, create=False)
        if level is None:
            raise Conflict(str(_l("Lot %(code)s: not enough available stock at the origin.", code=line.lot.lot_code)),
                           field="lines", code="insufficient_stock")
        planned.append((level, line))
    # The status moves first, on its current value: of two "ship" at once only one gets here.
    compare_and_set(transfer, Conflict(str(_l("Only a draft transfer can be shipped: this one was already shipped "
                                              "or cancelled.")), field="status", code="not_draft"),
                    expected={"status": TransferStatus.DRAFT}, status=TransferStatus.SHIPPED, shipped_at=utcnow())
    if not _apply([_Change(level.id, -line.quantity_shipped) for level, line in planned]):
        raise Conflict(str(_l("Not enough available stock at the origin for this transfer.")), field="lines",
                       code="insufficient_stock")
    for level, line in planned:
        _movement(level, -line.quantity_shipped, MovementKind.TRANSFER_OUT, actor, reference=transfer.number)
    db.session.flush()
    audit_trail.record("inventory.transfer_shipped", transfer, actor=actor, number=transfer.number)
    return transfer


def receive_transfer(transfer: Transfer, accepted: dict[int, tuple[int, int, str | None]], *,
                     actor) -> Transfer:
    """Accepted units go onto the destination's shelf (transfer_in). Rejected units, with a reason, go back to the
    origin (a return row there): they were never the destination's. Every line must be accounted for exactly."""
    _check_actor(actor)
    decided = []
    for line in transfer.lines:
        if line.id not in accepted:
            raise DomainError(str(_l("Give the accepted and rejected quantities of every line.")),
                              field="accepted", code="line_missing")
        ok, rejected, reason = accepted[line.id]
        for value in (ok, rejected):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DomainError(str(_l("A quantity must be a whole number, zero or more.")), field="accepted",
                                  code="invalid_quantity")
        if ok + rejected != line.quantity_shipped:
            raise DomainError(str(_l("Lot %(code)s: accepted and rejected must add up to the %(shipped)s shipped.",
                                     code=line.lot.lot_code, shipped=line.quantity_shipped)),
                              field="accepted", code="quantity_mismatch")
        reason = (nfc(reason) or "").strip() or None
        if rejected and not reason:
            raise DomainError(str(_l("Give the reason for rejecting units.")), field="rejection_reason",
                              code="reason_required")
        if ok and (problem := basis_problem(line.product, today()) or _lot_problem(line.lot, today())):
            # Lost its basis (or expired, or was recalled) on the way: it must be rejected, not shelved.
            raise DomainError(str(_l("Lot %(code)s cannot be accepted: %(problem)s", code=line.lot.lot_code,
                                     problem=problem)), field="accepted", code="not_acceptable")
        decided.append((line, ok, rejected, reason))
    # Before any stock moves: of a "receive" and a "receive" (or a "cancel") sent at once, one wins, the other
    # changes nothing.
    compare_and_set(transfer, Conflict(str(_l("Only a shipped transfer can be received: this one was already "
                                              "received or cancelled.")), field="status", code="not_shipped"),
                    expected={"status": TransferStatus.SHIPPED}, status=TransferStatus.RECEIVED,
                    received_at=utcnow())
    changes, rows = [], []
    for line, ok, rejected, reason in decided:
        if ok:
            level = _level_for(transfer.to_point_id, line.product_id, line.lot_id, create=True)
            _carry(transfer.to_point_id, line.product_id)
            changes.append(_Change(level.id, ok))
            rows.append((level, ok, MovementKind.TRANSFER_IN, None))
        if rejected:
            level = _level_for(transfer.from_point_id, line.product_id, line.lot_id, create=True)
            changes.append(_Change(level.id, rejected))
            rows.append((level, rejected, MovementKind.RETURN, reason))
        line.quantity_accepted, line.quantity_rejected, line.rejection_reason = ok, rejected, reason
    _apply(changes)  # only additions: cannot fail
    for level, quantity, kind, reason in rows:
        _movement(level, quantity, kind, actor, reference=transfer.number, note=reason)
    db.session.flush()
    for lot in {line.lot.id: line.lot for line, ok, _rejected, _reason in decided if ok}.values():
        record_custody_event(lot, event_type=TraceEventType.TRANSFERRED, point=transfer.to_point,
                             from_point=transfer.from_point, reference=transfer.number, actor=actor,
                             occurred_at=transfer.received_at)
    audit_trail.record("inventory.transfer_received", transfer, actor=actor, number=transfer.number,
                       lines=[[line.id, ok, rejected] for line, ok, rejected, _ in decided])
    return transfer


def cancel_transfer(transfer: Transfer, *, actor) -> Transfer:
    """A draft is simply cancelled; a shipped transfer's goods return to the origin (return rows)."""
    _check_actor(actor)
    was = transfer.status  # decided on as read; the conditional update below refuses it if it has moved since
    refused = Conflict(str(_l("A received or cancelled transfer cannot be cancelled.")), field="status",
                       code="not_cancellable")
    if was not in (TransferStatus.DRAFT, TransferStatus.SHIPPED):
        raise refused
    compare_and_set(transfer, refused, expected={"status": was}, status=TransferStatus.CANCELLED,
                    cancelled_at=utcnow())
    if was == TransferStatus.SHIPPED:
        levels = [(_level_for(transfer.from_point_id, line.product_id, line.lot_id, create=True), line)
                  for line in transfer.lines]
        _apply([_Change(level.id, line.quantity_shipped) for level, line in levels])
        for level, line in levels:
            _movement(level, line.quantity_shipped, MovementKind.RETURN, actor, reference=transfer.number,
                      note="transfer cancelled")
    db.session.flush()
    audit_trail.record("inventory.transfer_cancelled", transfer, actor=actor, number=transfer.number)
    return transfer
