"""Reads for the cart and checkout: the products of a cart with their right to be sold today, the points that
could serve it. Every read is one set-based query, in SQL that SQLite and PostgreSQL both run."""
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from shop.catalog.models import Product
from shop.certification.queries import qualified_clause
from shop.checkout.models import CartLine
from shop.extensions import db
from shop.inventory.models import Lot, StockLevel
from shop.inventory.queries import sellable_levels_clause
from shop.sales_points.models import PointStatus, PointTier, SalesPoint
from shop.sales_points.queries import get_by_code


@dataclass(frozen=True)
class CartProduct:
    product: Product
    qualified: bool  # a qualifying basis today (a 3★+ certificate or a basis of P-02…P-04)


def cart_products(product_ids, day: date) -> dict[int, CartProduct]:
    """The products of a cart (with their producer) and whether each may be sold today; unknown ids are left out."""
    ids = sorted({int(product_id) for product_id in product_ids})
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Product, qualified_clause(Product.id, day))
        .where(Product.id.in_(ids)).options(joinedload(Product.producer)))
    return {product.id: CartProduct(product, bool(qualified)) for product, qualified in rows}


def stored_cart(user) -> dict[int, int]:
    """A customer's stored cart as {product_id: quantity}, in the order the lines were added."""
    rows = db.session.execute(
        sa.select(CartLine.product_id, CartLine.quantity).where(CartLine.user_id == user.id)
        .order_by(CartLine.added_at, CartLine.product_id))
    return {product_id: quantity for product_id, quantity in rows}


def stored_line(user, product_id: int) -> CartLine | None:
    return db.session.get(CartLine, (user.id, product_id))


def _points_order():
    return (SalesPoint.tier != PointTier.CENTRE, SalesPoint.code)


def pickup_points_for(lines: Mapping[int, int], day: date) -> list[SalesPoint]:
    """Open points where EVERY line is available in the quantity wanted today (sellable lots, on hand − reserved,
    products with a qualifying basis), the provincial centre first. One query: per point and product the
    available units, kept where they cover the line, then the points covering as many products as the cart."""
    wanted = {int(product_id): int(quantity) for product_id, quantity in lines.items()}
    if not wanted:
        return []
    available = (
        sa.select(StockLevel.point_id.label("point_id"), StockLevel.product_id.label("product_id"),
                  sa.func.sum(StockLevel.on_hand - StockLevel.reserved).label("available"))
        .join(Lot, Lot.id == StockLevel.lot_id)
        .where(StockLevel.product_id.in_(wanted), sellable_levels_clause(day),
               qualified_clause(StockLevel.product_id, day))
        .group_by(StockLevel.point_id, StockLevel.product_id)
        .subquery("available"))
    covered = sa.or_(*(sa.and_(available.c.product_id == product_id, available.c.available >= quantity)
                       for product_id, quantity in wanted.items()))
    serving = (sa.select(available.c.point_id).where(covered).group_by(available.c.point_id)
               .having(sa.func.count() == len(wanted)))
    return list(db.session.scalars(
        sa.select(SalesPoint).where(SalesPoint.status == PointStatus.OPEN, SalesPoint.id.in_(serving))
        .order_by(*_points_order())))


def delivery_point(config_code: str | None) -> SalesPoint | None:
    """The point that serves deliveries: the configured one (DELIVERY_POINT_CODE) when it is open, else the open
    provincial centre. None when no such point is open (delivery is then unavailable)."""
    if config_code:
        point = get_by_code(config_code)
        return point if point is not None and point.is_open else None
    return db.session.scalar(
        sa.select(SalesPoint).where(SalesPoint.status == PointStatus.OPEN, SalesPoint.tier == PointTier.CENTRE)
        .order_by(SalesPoint.code).limit(1))
