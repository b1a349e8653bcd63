"""Reads about stock. "Available" never counts expired lots, recalled lots or products without a qualifying basis."""
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from shop.catalog.models import Product, ProductStatus
from shop.certification.queries import qualified_clause
from shop.core.pagination import Page, clamp_page
from shop.core.text import fold
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
from shop.producers.models import Producer
from shop.sales_points.models import PointStatus, PointTier, SalesPoint


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


# ------------------------------------------------------------------------------------- back-office pages
# Lean reads for these pages: plain column tuples (not ORM objects) for the stock lines, so a point with
# thousands of lots renders fast; every lookup by id or number is filtered by the point of the URL.

@dataclass(frozen=True)
class StockLine:
    level_id: int
    product_id: int
    lot_id: int
    product_name: str
    producer_name: str
    gtin: str | None
    lot_code: str
    production_date: date
    expiry_date: date | None
    on_hand: int
    reserved: int
    recalled: bool
    expired: bool
    expiring: bool  # within EXPIRY_ALERT_DAYS
    qualified: bool  # the product has a qualifying basis today

    @property
    def sellable(self) -> bool:
        return self.qualified and not (self.recalled or self.expired)

    @property
    def available(self) -> int:
        """What can be sold or sent: nothing of an expired or recalled lot or of a product without a basis."""
        return self.on_hand - self.reserved if self.sellable else 0


def _levels_of(point, with_empty: bool, *columns) -> sa.Select:
    """The point's levels joined with product, producer and lot, by product name then soonest expiry; empty
    levels (nothing on hand) only `with_empty`."""
    query = (sa.select(*columns)
             .join(Product, Product.id == StockLevel.product_id).join(Producer, Producer.id == Product.producer_id)
             .join(Lot, Lot.id == StockLevel.lot_id).where(StockLevel.point_id == point.id)
             .order_by(Product.name, Product.id, Lot.expiry_date.is_(None), Lot.expiry_date, Lot.id))
    return query if with_empty else query.where(StockLevel.on_hand > 0)


_LINE_COLUMNS = (StockLevel.id, StockLevel.product_id, StockLevel.lot_id, Product.name, Producer.name, Product.gtin,
                 Lot.lot_code, Lot.production_date, Lot.expiry_date, StockLevel.on_hand, StockLevel.reserved,
                 Lot.recalled_at.is_not(None))


def _matching_level_ids(point, q: str, with_empty: bool) -> list[int]:
    """Ids of the levels whose product, producer, GTIN or lot code contains `q`, ignoring case and accents
    (done in Python: neither SQLite nor PostgreSQL fold Vietnamese the same way without an extension)."""
    wanted = fold(q)
    rows = db.session.execute(_levels_of(point, with_empty, StockLevel.id, Product.id, Product.name, Producer.name,
                                         Product.gtin, Lot.lot_code))
    folded: dict[int, str] = {}  # a product has many lots: fold its texts once
    matching = []
    for level_id, product_id, name, producer, gtin, lot_code in rows:
        if product_id not in folded:
            folded[product_id] = fold(f"{name} {producer} {gtin or ''}")
        if wanted in f"{folded[product_id]} {fold(lot_code)}":
            matching.append(level_id)
    return matching


def _to_lines(rows, day: date, alert_days: int) -> list[StockLine]:
    qualified = _qualified_among({row[1] for row in rows}, day)
    soon = day + timedelta(days=alert_days)
    return [StockLine(level_id, product_id, lot_id, name, producer, gtin, lot_code, produced, expiry, on_hand,
                      reserved, recalled=bool(recalled), expired=expiry is not None and expiry < day,
                      expiring=expiry is not None and day <= expiry <= soon, qualified=product_id in qualified)
            for (level_id, product_id, lot_id, name, producer, gtin, lot_code, produced, expiry, on_hand, reserved,
                 recalled) in rows]


def stock_lines(point, day: date, alert_days: int, *, q: str = "", with_empty: bool = False) -> list[StockLine]:
    """Every stock line of the point (the count sheet, the choices of the adjustment and transfer forms)."""
    query = _levels_of(point, with_empty, *_LINE_COLUMNS)
    if q:
        query = query.where(StockLevel.id.in_(_matching_level_ids(point, q, with_empty)))
    return _to_lines(db.session.execute(query).all(), day, alert_days)


def stock_page(point, day: date, alert_days: int, page: int, per_page: int, *, q: str = "",
               with_empty: bool = False) -> Page:
    """One page of the point's stock lines: only that page is read in full, so a point holding thousands of
    lots stays fast."""
    query = _levels_of(point, with_empty, *_LINE_COLUMNS)
    if q:
        ids = _matching_level_ids(point, q, with_empty)
        total = len(ids)
        page = clamp_page(page, total, per_page)
        query = query.where(StockLevel.id.in_(ids[(page - 1) * per_page:page * per_page]))
    else:
        count = sa.select(sa.func.count(StockLevel.id)).where(StockLevel.point_id == point.id)
        total = db.session.scalar(count if with_empty else count.where(StockLevel.on_hand > 0))
        page = clamp_page(page, total, per_page)
        query = query.limit(per_page).offset((page - 1) * per_page)
    return Page(_to_lines(db.session.execute(query).all(), day, alert_days), total, page, per_page)


def _qualified_among(product_ids: set[int], day: date) -> set[int]:
    """Which of these products have a qualifying basis on `day` (EXISTS probes on the product_id indexes)."""
    if not product_ids:
        return set()
    return set(db.session.scalars(sa.select(Product.id).where(Product.id.in_(product_ids),
                                                              qualified_clause(Product.id, day))))


@dataclass(frozen=True)
class ProductGroup:
    product_name: str
    producer_name: str
    gtin: str | None
    lines: list[StockLine]

    @property
    def on_hand(self) -> int:
        return sum(line.on_hand for line in self.lines)

    @property
    def available(self) -> int:
        return sum(line.available for line in self.lines)


def group_by_product(lines: list[StockLine]) -> list[ProductGroup]:
    groups = []
    for _product_id, group in groupby(lines, key=lambda line: line.product_id):
        group = list(group)
        groups.append(ProductGroup(group[0].product_name, group[0].producer_name, group[0].gtin, group))
    return groups


def receipt_unit_costs(point, lines: list[StockLine]) -> dict[int, int]:
    """lot id → the unit cost of its latest receipt at this point (lots that came by transfer have none)."""
    lot_ids = {line.lot_id for line in lines}
    if not lot_ids:
        return {}
    rows = db.session.execute(
        sa.select(StockMovement.lot_id, StockMovement.unit_cost_vnd)
        .where(StockMovement.point_id == point.id, StockMovement.lot_id.in_(lot_ids),
               StockMovement.kind == MovementKind.RECEIPT, StockMovement.unit_cost_vnd.is_not(None))
        .order_by(StockMovement.id))
    return dict(rows.all())


def ledger_page(point, page: int, per_page: int, *, kinds=None, text: str | None = None, since=None, until=None,
                ids=None) -> Page:
    """The point's ledger rows, newest first, with who made them and the product of each lot."""
    where = [StockMovement.point_id == point.id]
    if kinds:
        where.append(StockMovement.kind.in_(kinds))
    if ids is not None:
        where.append(StockMovement.id.in_(ids))
    if text:
        level_ids = _matching_level_ids(point, text, with_empty=True)
        where.append(StockMovement.lot_id.in_(sa.select(StockLevel.lot_id).where(StockLevel.id.in_(level_ids)))
                     if level_ids else sa.false())
    if since is not None:
        where.append(StockMovement.occurred_at >= since)
    if until is not None:
        where.append(StockMovement.occurred_at < until)
    total = db.session.scalar(sa.select(sa.func.count(StockMovement.id)).where(*where))
    page = clamp_page(page, total, per_page)
    items = db.session.scalars(
        sa.select(StockMovement).where(*where)
        .options(joinedload(StockMovement.lot).joinedload(Lot.product), joinedload(StockMovement.actor))
        .order_by(StockMovement.occurred_at.desc(), StockMovement.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(items), total, page, per_page)


def transfers_page(point, page: int, per_page: int) -> Page:
    """Transfers sent from or to the point, newest first."""
    where = sa.or_(Transfer.from_point_id == point.id, Transfer.to_point_id == point.id)
    total = db.session.scalar(sa.select(sa.func.count(Transfer.id)).where(where))
    page = clamp_page(page, total, per_page)
    items = db.session.scalars(
        sa.select(Transfer).where(where)
        .options(joinedload(Transfer.from_point), joinedload(Transfer.to_point), selectinload(Transfer.lines))
        .order_by(Transfer.created_at.desc(), Transfer.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return Page(list(items), total, page, per_page)


def level_at_point(point, level_id: int) -> StockLevel | None:
    """The level if it belongs to this point (None for another point's: a tampered form or URL)."""
    level = db.session.scalar(
        sa.select(StockLevel).where(StockLevel.id == level_id, StockLevel.point_id == point.id)
        .options(joinedload(StockLevel.product), joinedload(StockLevel.lot)))
    return level


def transfer_at_point(point, number: str, side: str | None = None) -> Transfer | None:
    """The transfer if this point is its origin or destination (or exactly the `side` asked for), else None."""
    ends = {"origin": Transfer.from_point_id == point.id, "destination": Transfer.to_point_id == point.id}
    end = ends[side] if side else sa.or_(*ends.values())
    transfer = db.session.scalar(
        sa.select(Transfer).where(Transfer.number == number, end)
        .options(selectinload(Transfer.lines).joinedload(TransferLine.product),
                 selectinload(Transfer.lines).joinedload(TransferLine.lot)))
    return transfer


def destinations_for(point) -> list[SalesPoint]:
    """Other points that may receive goods (not closed nor suspended), the provincial centre first."""
    return list(db.session.scalars(
        sa.select(SalesPoint).where(SalesPoint.id != point.id,
                                    SalesPoint.status.not_in([PointStatus.CLOSED, PointStatus.SUSPENDED]))
        .order_by(SalesPoint.tier != PointTier.CENTRE, SalesPoint.code)))


def qualified_product_choices(day: date) -> list[tuple[int, str]]:
    """(id, "name (producer)") of the published products a point may receive today."""
    rows = db.session.execute(
        sa.select(Product.id, Product.name, Producer.name).join(Producer, Producer.id == Product.producer_id)
        .where(Product.status == ProductStatus.PUBLISHED, qualified_clause(Product.id, day))
        .order_by(Product.name, Producer.name))
    return [(product_id, f"{name} ({producer})") for product_id, name, producer in rows]


@dataclass(frozen=True)
class SalePlace:
    """An open sales point holding units of a lot now."""

    point: SalesPoint
    on_hand: int


def lot_on_sale_at(lot_id: int) -> list[SalePlace]:
    """Open points with units of the lot on the shelf, the centre first, then by name (the trace pages)."""
    on_hand = sa.func.sum(StockLevel.on_hand)
    rows = db.session.execute(
        sa.select(SalesPoint, on_hand).join(StockLevel, StockLevel.point_id == SalesPoint.id)
        .where(StockLevel.lot_id == lot_id, StockLevel.on_hand > 0, SalesPoint.status == PointStatus.OPEN)
        .group_by(SalesPoint.id)
        .order_by(sa.case((SalesPoint.tier == PointTier.CENTRE, 0), else_=1), SalesPoint.name, SalesPoint.id)).all()
    return [SalePlace(point=point, on_hand=int(quantity)) for point, quantity in rows]
