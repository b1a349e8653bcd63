"""What a visitor may buy where: availability told as a band (in stock / few left / out of stock), never as
a number, plus the exact figures by lot for the people allowed to see them.

Available units follow the rule of `queries.available_quantity`: on hand − reserved of sellable lots (not
expired, not recalled), only for products with a qualifying basis on the day. Every read here is one
set-based query (sums grouped in SQL, no query per point or product), in SQL that SQLite and PostgreSQL
both run.
"""
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from shop.catalog.models import Product, ProductStatus
from shop.certification.queries import certified_stars_subquery, qualified_products_subquery
from shop.extensions import db
from shop.inventory.models import Lot, StockLevel
from shop.inventory.queries import sellable_levels_clause
from shop.sales_points.models import PointProduct, PointStatus, PointTier, SalesPoint


class Band(StrEnum):
    IN_STOCK = "in_stock"
    FEW_LEFT = "few_left"
    OUT_OF_STOCK = "out_of_stock"


def band_for(available: int, few_left_threshold: int) -> Band:
    """"Few left" includes the threshold itself: with a threshold of 5, five units are few."""
    if available <= 0:
        return Band.OUT_OF_STOCK
    return Band.FEW_LEFT if available <= few_left_threshold else Band.IN_STOCK


@dataclass(frozen=True)
class PointAvailability:
    point: SalesPoint
    available: int
    band: Band


@dataclass(frozen=True)
class ProductAvailability:
    product: Product
    stars: int | None  # None: sold on another qualifying basis (P-02…P-04), not a certificate
    available: int
    band: Band


@dataclass(frozen=True)
class LotStock:
    lot: Lot
    on_hand: int
    reserved: int
    available: int  # 0 for an expired or recalled lot: it is on the shelf but may not be sold
    sellable: bool


def _available_units(group_by, *conditions) -> sa.Subquery:
    """(key, available) summed over the sellable lots of the levels matching `conditions`."""
    return (sa.select(group_by.label("grouped_id"),
                      sa.func.sum(StockLevel.on_hand - StockLevel.reserved).label("available"))
            .join(Lot, Lot.id == StockLevel.lot_id)
            .where(*conditions)
            .group_by(group_by)
            .subquery("available_units"))


def _qualified_ids(day: date):
    qualified = qualified_products_subquery(day)
    return sa.select(qualified.c.product_id)


def availability_of_product(product_id: int, day: date, few_left_threshold: int) -> list[PointAvailability]:
    """Every open point that carries the product, with its band, the provincial centre first. Empty when the
    product has no qualifying basis (the points may not sell it)."""
    units = _available_units(StockLevel.point_id, StockLevel.product_id == product_id, sellable_levels_clause(day))
    rows = db.session.execute(
        sa.select(SalesPoint, sa.func.coalesce(units.c.available, 0))
        .join(PointProduct, PointProduct.point_id == SalesPoint.id)
        .outerjoin(units, units.c.grouped_id == SalesPoint.id)
        .where(PointProduct.product_id == product_id, SalesPoint.status == PointStatus.OPEN,
               PointProduct.product_id.in_(_qualified_ids(day)))
        .order_by(SalesPoint.tier != PointTier.CENTRE, SalesPoint.code))
    return [PointAvailability(point, max(0, available), band_for(available, few_left_threshold))
            for point, available in rows]


def _products_at_point(point_id: int, day: date):
    """The condition for the point's storefront assortment: carried there, published, with a basis."""
    return sa.and_(PointProduct.point_id == point_id, Product.status == ProductStatus.PUBLISHED,
                   Product.id.in_(_qualified_ids(day)))


def count_products_at_point(point_id: int, day: date) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(PointProduct)
        .join(Product, Product.id == PointProduct.product_id)
        .where(_products_at_point(point_id, day))) or 0


def availability_at_point(point_id: int, day: date, few_left_threshold: int, *, limit: int | None = None,
                          offset: int = 0) -> list[ProductAvailability]:
    """The products a visitor may buy at the point (sold out ones too, with their band), by name."""
    units = _available_units(StockLevel.product_id, StockLevel.point_id == point_id, sellable_levels_clause(day))
    certified = certified_stars_subquery(day)
    rows = db.session.execute(
        sa.select(Product, sa.func.coalesce(units.c.available, 0), certified.c.stars)
        .join(PointProduct, PointProduct.product_id == Product.id)
        .outerjoin(units, units.c.grouped_id == Product.id)
        .outerjoin(certified, certified.c.product_id == Product.id)
        .where(_products_at_point(point_id, day))
        # The storefront shows each product as a card: its producer and cover come in the same round trip.
        .options(joinedload(Product.producer), selectinload(Product.images))
        .order_by(Product.name, Product.id).limit(limit).offset(offset))
    return [ProductAvailability(product, stars, max(0, available), band_for(available, few_left_threshold))
            for product, available, stars in rows]


def lots_at_point(point_id: int, product_ids: list[int], day: date) -> dict[int, list[LotStock]]:
    """The exact stock by lot of some products at the point (lots with units on hand), soonest expiry first.
    Expired and recalled lots are listed, with nothing available, because someone must pull them."""
    if not product_ids:
        return {}
    sellable = sellable_levels_clause(day)
    rows = db.session.execute(
        sa.select(StockLevel.product_id, Lot, StockLevel.on_hand, StockLevel.reserved, sellable)
        .join(Lot, Lot.id == StockLevel.lot_id)
        .where(StockLevel.point_id == point_id, StockLevel.product_id.in_(product_ids), StockLevel.on_hand > 0)
        .order_by(StockLevel.product_id, Lot.expiry_date.is_(None), Lot.expiry_date, Lot.lot_code))
    lots: dict[int, list[LotStock]] = {product_id: [] for product_id in product_ids}
    for product_id, lot, on_hand, reserved, is_sellable in rows:
        lots[product_id].append(LotStock(lot=lot, on_hand=on_hand, reserved=reserved, sellable=bool(is_sellable),
                                         available=on_hand - reserved if is_sellable else 0))
    return lots
