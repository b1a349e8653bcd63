"""Reads about stock. "Available" never counts expired lots, recalled lots or products without a qualifying basis."""
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from shop.catalog.models import Product
from shop.certification.queries import qualified_clause
from shop.extensions import db
from shop.inventory.models import Lot, StockLevel, StockMovement, Transfer, TransferLine, TransferStatus
from shop.sales_points.models import SalesPoint


@dataclass(frozen=True)
class StockRow:
    level: StockLevel
    product: Product
    lot: Lot
    on_hand: int
    reserved: int
    available: int
    expiry_date: date | None


def stock_for_point(point: SalesPoint) -> list[StockRow]:
    """Every level of the point with its product and lot, by product name then soonest expiry."""
    levels = db.session.scalars(
        sa.select(StockLevel).join(Product, Product.id == StockLevel.product_id)
        .join(Lot, Lot.id == StockLevel.lot_id)
        .where(StockLevel.point_id == point.id)
        .options(joinedload(StockLevel.product), joinedload(StockLevel.lot))
        .order_by(Product.name, Lot.expiry_date.is_(None), Lot.expiry_date, Lot.id))
    return [StockRow(level=level, product=level.product, lot=level.lot, on_hand=level.on_hand,
                     reserved=level.reserved, available=level.available, expiry_date=level.lot.expiry_date)
            for level in levels]


def sellable_levels_clause(day: date):
    """SQL condition on StockLevel joined with Lot: the lot is neither expired nor recalled on `day`."""
    return sa.and_(Lot.recalled_at.is_(None), sa.or_(Lot.expiry_date.is_(None), Lot.expiry_date >= day))


def available_quantity(point_id: int, product_id: int, day: date) -> int:
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(StockLevel.on_hand - StockLevel.reserved), 0))
        .join(Lot, Lot.id == StockLevel.lot_id)
        .where(StockLevel.point_id == point_id, StockLevel.product_id == product_id, sellable_levels_clause(day),
               qualified_clause(StockLevel.product_id, day)))
    return int(total or 0)


@dataclass(frozen=True)
class LedgerDifference:
    point_id: int
    product_id: int
    lot_id: int
    on_hand: int | None  # None: movements exist but no stock level does
    ledger_total: int


def verify_ledger() -> list[LedgerDifference]:
    """Every place where a level's on_hand is not the sum of its movements. Empty when the books are right."""
    sums = (sa.select(StockMovement.point_id, StockMovement.product_id, StockMovement.lot_id,
                      sa.func.sum(StockMovement.quantity).label("total"))
            .group_by(StockMovement.point_id, StockMovement.product_id, StockMovement.lot_id).subquery("sums"))
    matches = ((sums.c.point_id == StockLevel.point_id) & (sums.c.product_id == StockLevel.product_id)
               & (sums.c.lot_id == StockLevel.lot_id))
    total = sa.func.coalesce(sums.c.total, 0)
    wrong_levels = db.session.execute(
        sa.select(StockLevel.point_id, StockLevel.product_id, StockLevel.lot_id, StockLevel.on_hand, total)
        .outerjoin(sums, matches).where(StockLevel.on_hand != total))
    orphans = db.session.execute(
        sa.select(sums.c.point_id, sums.c.product_id, sums.c.lot_id, sa.null(), sums.c.total)
        .outerjoin(StockLevel, matches).where(StockLevel.id.is_(None)))
    differences = [LedgerDifference(*row) for row in [*wrong_levels, *orphans]]
    return sorted(differences, key=lambda d: (d.point_id, d.product_id, d.lot_id))


def movements_for(point: SalesPoint, limit: int | None = None) -> list[StockMovement]:
    """The point's ledger, newest first."""
    return list(db.session.scalars(
        sa.select(StockMovement).where(StockMovement.point_id == point.id)
        .order_by(StockMovement.occurred_at.desc(), StockMovement.id.desc()).limit(limit)))



def in_transit_for(point: SalesPoint) -> list[TransferLine]:
    """Lines shipped but not yet received or cancelled, sent from or to the point, oldest shipment first."""
    return list(db.session.scalars(
        sa.select(TransferLine).join(Transfer, Transfer.id == TransferLine.transfer_id)
        .where(Transfer.status == TransferStatus.SHIPPED,
               sa.or_(Transfer.from_point_id == point.id, Transfer.to_point_id == point.id))
        .options(joinedload(TransferLine.transfer), joinedload(TransferLine.product), joinedload(TransferLine.lot))
        .order_by(Transfer.shipped_at, Transfer.id, TransferLine.id)))
