"""The demo points' stock: what `flask seed demo` puts on the shelves of the provincial centre (DN-TT-01) and of
Xuân Lộc (DN-XL-01), so their managers see a living back office.

Five weeks of history, written in bulk with past timestamps (shop.seeding.ledger): deliveries of several lots
per product (fresh goods weekly, leftovers written off when they expire), some lots expiring within the alert
window, one expired lot still on the shelf at each point (a slow seller, so nobody bought it in time),
non-perishable crafts without expiry, a damaged unit written off, and a month of counter sales. Then, through
the inventory services at the current time, a transfer from the centre to Xuân Lộc that is in transit and a
stock count at Xuân Lộc that found one unit missing. Levels are the sums of the rows written, so
`flask inventory verify` passes. Idempotent: a point that already has ledger rows gets no history, and the
transfer and the count are made only when none exists."""
from datetime import timedelta

import sqlalchemy as sa

from shop.core.clock import today
from shop.extensions import db
from shop.inventory.models import AdjustmentReason, Lot, MovementKind, StockLevel, StockMovement, Transfer
from shop.inventory.services import create_transfer, record_count, ship_transfer
from shop.sales_points.models import PointProduct, SalesPoint
from shop.seeding.history import PointHistory, Profile, ensure_lots, has_ledger, manager_of
from shop.seeding.ledger import LedgerWriter

PROFILES = {"DN-TT-01": Profile(sales_per_day=(9, 16), units_per_delivery=(18, 48)),
            "DN-XL-01": Profile(sales_per_day=(4, 9), units_per_delivery=(10, 28))}
TRANSFER_FROM, TRANSFER_TO = "DN-TT-01", "DN-XL-01"
COUNTED_POINT = "DN-XL-01"


def seed_demo_stock(report, points: dict[str, SalesPoint]) -> None:
    """History for each demo point without ledger rows, then the transfer in transit and the count."""
    history_points = [points[code] for code in PROFILES if not has_ledger(points[code])]
    if history_points:
        writer = LedgerWriter()
        plans = {point.code: PointHistory(point, writer, PROFILES[point.code]) for point in history_points}
        lots = ensure_lots({product for plan in plans.values() for product in plan.products},
                            {plan.slow for plan in plans.values() if plan.slow is not None})
        for plan in plans.values():
            plan.play(lots)
        writer.finish()
        for what, count in (("stock movements", writer.movements_written), ("counter sales", writer.sales_written)):
            if count:
                report.created[what] += count
    _seed_transfer(report, points[TRANSFER_FROM], points[TRANSFER_TO])
    _seed_count(report, points[COUNTED_POINT])


def _sellable_levels(point: SalesPoint, minimum: int) -> list[StockLevel]:
    day = today()
    return list(db.session.scalars(
        sa.select(StockLevel).join(Lot, Lot.id == StockLevel.lot_id)
        .where(StockLevel.point_id == point.id, StockLevel.on_hand - StockLevel.reserved >= minimum,
               Lot.recalled_at.is_(None), Lot.expiry_date.is_not(None), Lot.expiry_date >= day + timedelta(days=60))
        .order_by(StockLevel.product_id, StockLevel.lot_id)))


def _seed_transfer(report, origin: SalesPoint, destination: SalesPoint) -> None:
    """Goods shipped from the centre to Xuân Lộc today, not yet received: both ends see them in transit."""
    exists = db.session.scalar(sa.select(Transfer.id).where(Transfer.from_point_id == origin.id,
                                                           Transfer.to_point_id == destination.id).limit(1))
    if exists is not None or not has_ledger(origin):
        return
    carried = set(db.session.scalars(sa.select(PointProduct.product_id)
                                     .where(PointProduct.point_id == destination.id)))
    lines, seen = [], set()
    for level in _sellable_levels(origin, minimum=8):
        if level.product_id in carried and level.product_id not in seen:
            seen.add(level.product_id)
            lines.append((level.product, level.lot, 6 if len(lines) == 0 else 4))
        if len(lines) == 2:
            break
    if not lines:
        return
    actor = manager_of(origin)
    transfer = create_transfer(origin, destination, lines, actor=actor,
                               note=f"Bổ sung hàng cho {destination.name}")
    ship_transfer(transfer, actor=actor)
    report.created["transfers"] += 1


def _seed_count(report, point: SalesPoint) -> None:
    """A stock count that found one unit fewer than the books: one count-correction row."""
    done = db.session.scalar(sa.select(StockMovement.id).where(
        StockMovement.point_id == point.id, StockMovement.kind == MovementKind.ADJUSTMENT,
        StockMovement.reason == AdjustmentReason.COUNT_CORRECTION).limit(1))
    levels = _sellable_levels(point, minimum=3)
    if done is not None or not levels:
        return
    level = levels[len(levels) // 2]
    record_count(point, {(level.product_id, level.lot_id): level.on_hand - 1}, actor=manager_of(point),
                 note="Kiểm kê cuối tháng: thiếu 1 đơn vị so với sổ")
    report.created["stock counts"] += 1
