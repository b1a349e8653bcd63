"""What a point's manager should act on: products running low, lots near or past their expiry date, and
certificates of products on the shelf that will soon lapse (the product may then no longer be sold at an OCOP
point). Read-only; the dashboard, the alerts page and `flask inventory alerts` all use these functions.

Every check is one set-based query over a list of points, so the daily job over all points costs the same
handful of queries as one point's dashboard."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import load_only

from shop.catalog.models import Product
from shop.certification.models import MIN_CERTIFIED_STARS, Certificate
from shop.certification.queries import current_certificates, qualified_clause
from shop.extensions import db
from shop.inventory.models import Lot, StockLevel
from shop.inventory.queries import sellable_levels_clause
from shop.sales_points.models import PointProduct, SalesPoint
from shop.sales_points.queries import list_open_points

# Products per `current_certificates` call: keeps the IN list far below every database's parameter limit.
CERTIFICATE_BATCH = 500


@dataclass(frozen=True)
class AlertSettings:
    low_stock_threshold: int = 5   # default when the point has not set its own for a product
    expiry_days: int = 30          # lots expiring within this many days
    certificate_days: int = 90     # certificates lapsing within this many days

    @classmethod
    def from_config(cls, config: Mapping, **overrides) -> "AlertSettings":
        values = {"low_stock_threshold": config["LOW_STOCK_THRESHOLD"], "expiry_days": config["EXPIRY_ALERT_DAYS"],
                  "certificate_days": config["CERTIFICATE_ALERT_DAYS"]}
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)


@dataclass(frozen=True)
class LowStock:
    point_id: int
    product_id: int
    product_name: str
    available: int
    threshold: int
    own_threshold: bool  # the point set this threshold (False: the configured default)


@dataclass(frozen=True)
class ExpiringLot:
    point_id: int
    product_id: int
    product_name: str
    lot_code: str
    expiry_date: date
    on_hand: int
    days_left: int  # negative: expired that many days ago; 0: last day it may be sold

    @property
    def expired(self) -> bool:
        return self.days_left < 0


@dataclass(frozen=True)
class ExpiringCertificate:
    point_id: int
    product_id: int
    product_name: str
    stars: int
    decision_no: str
    valid_until: date
    days_left: int


@dataclass(frozen=True)
class UnsellableStock:
    """Units on the shelf of a product that lost its qualifying basis (certificate lapsed or withdrawn, basis
    revoked): they cannot be sold and must go back to the producer or be written off."""

    point_id: int
    product_id: int
    product_name: str
    on_hand: int


@dataclass
class PointAlerts:
    low_stock: list[LowStock] = field(default_factory=list)
    expiring_lots: list[ExpiringLot] = field(default_factory=list)
    expiring_certificates: list[ExpiringCertificate] = field(default_factory=list)
    unsellable: list[UnsellableStock] = field(default_factory=list)

    @property
    def count(self) -> int:
        return (len(self.low_stock) + len(self.expiring_lots) + len(self.expiring_certificates)
                + len(self.unsellable))

    @property
    def expired_lots(self) -> list[ExpiringLot]:
        return [lot for lot in self.expiring_lots if lot.expired]

    def __bool__(self) -> bool:
        return self.count > 0


# --- the checks, each over a list of points ----------------------------------------------------------------

def _available_subquery(point_ids: list[int], day: date) -> sa.Subquery:
    """(point_id, product_id, available): units of sellable lots (not expired, not recalled) less reservations."""
    return (sa.select(StockLevel.point_id, StockLevel.product_id,
                      sa.func.sum(StockLevel.on_hand - StockLevel.reserved).label("available"))
            .join(Lot, Lot.id == StockLevel.lot_id)
            .where(StockLevel.point_id.in_(point_ids), sellable_levels_clause(day))
            .group_by(StockLevel.point_id, StockLevel.product_id).subquery("available_levels"))


def _low_stock_rows(point_ids: list[int], day: date, default_threshold: int) -> list[LowStock]:
    """Products of the points' assortment whose available units (sellable lots, minus reservations) are below
    the point's threshold for the product, or the default. A threshold of 0 turns the alert off. Products without
    a qualifying basis are left out: they cannot be restocked, and their stock is not available anyway."""
    levels = _available_subquery(point_ids, day)
    available = sa.func.coalesce(levels.c.available, 0)
    threshold = sa.func.coalesce(PointProduct.low_stock_threshold, default_threshold)
    rows = db.session.execute(
        sa.select(PointProduct.point_id, Product.id, Product.name, available, threshold,
                  PointProduct.low_stock_threshold.is_not(None))
        .join(Product, Product.id == PointProduct.product_id)
        .outerjoin(levels, sa.and_(levels.c.point_id == PointProduct.point_id,
                                   levels.c.product_id == PointProduct.product_id))
        .where(PointProduct.point_id.in_(point_ids), available < threshold,
               qualified_clause(PointProduct.product_id, day))
        .order_by(PointProduct.point_id, available, Product.name, Product.id))
    return [LowStock(point_id, product_id, name, int(units), int(limit), bool(own))
            for point_id, product_id, name, units, limit, own in rows]


def _expiring_lot_rows(point_ids: list[int], day: date, within_days: int) -> list[ExpiringLot]:
    """Lots with units on the shelf whose expiry date is at most `within_days` away, or already past."""
    rows = db.session.execute(
        sa.select(StockLevel.point_id, Product.id, Product.name, Lot.lot_code, Lot.expiry_date, StockLevel.on_hand)
        .join(Lot, Lot.id == StockLevel.lot_id)
        .join(Product, Product.id == StockLevel.product_id)
        .where(StockLevel.point_id.in_(point_ids), StockLevel.on_hand > 0, Lot.expiry_date.is_not(None),
               Lot.expiry_date <= day + timedelta(days=within_days))
        .order_by(StockLevel.point_id, Lot.expiry_date, Product.name, Lot.lot_code))
    return [ExpiringLot(point_id, product_id, name, lot_code, expiry, on_hand, (expiry - day).days)
            for point_id, product_id, name, lot_code, expiry, on_hand in rows]


def _expiring_certificate_rows(point_ids: list[int], day: date, within_days: int) -> list[ExpiringCertificate]:
    """Products with units on a point's shelf whose current certificate is valid for at most `within_days` more
    days. (A product that has already lost its certificate has no current one; the stock pages show that.)
    Only products with *some* valid certificate ending in the window can have a current one that does, so the
    query narrows to those before current_certificates picks the certificate that counts."""
    last_day = day + timedelta(days=within_days)
    lapsing = (sa.select(Certificate.product_id)
               .where(Certificate.valid_on_clause(day), Certificate.stars >= MIN_CERTIFIED_STARS,
                      Certificate.valid_until <= last_day))
    on_shelf = db.session.execute(
        sa.select(StockLevel.point_id, Product.id, Product.name)
        .join(Product, Product.id == StockLevel.product_id)
        .where(StockLevel.product_id.in_(lapsing), StockLevel.point_id.in_(point_ids), StockLevel.on_hand > 0)
        .group_by(StockLevel.point_id, Product.id, Product.name)
        .order_by(StockLevel.point_id, Product.name, Product.id)).all()
    product_ids = sorted({product_id for _, product_id, _ in on_shelf})
    certificates = {}
    for start in range(0, len(product_ids), CERTIFICATE_BATCH):
        certificates.update(current_certificates(product_ids[start:start + CERTIFICATE_BATCH], day))
    alerts = []
    for point_id, product_id, name in on_shelf:
        certificate = certificates.get(product_id)
        if certificate is not None and certificate.valid_until <= last_day:
            alerts.append(ExpiringCertificate(point_id, product_id, name, certificate.stars, certificate.decision_no,
                                              certificate.valid_until, (certificate.valid_until - day).days))
    return sorted(alerts, key=lambda alert: (alert.point_id, alert.valid_until, alert.product_name))


def _unsellable_rows(point_ids: list[int], day: date) -> list[UnsellableStock]:
    rows = db.session.execute(
        sa.select(StockLevel.point_id, Product.id, Product.name, sa.func.sum(StockLevel.on_hand))
        .join(Product, Product.id == StockLevel.product_id)
        .where(StockLevel.point_id.in_(point_ids), StockLevel.on_hand > 0,
               sa.not_(qualified_clause(StockLevel.product_id, day)))
        .group_by(StockLevel.point_id, Product.id, Product.name)
        .order_by(StockLevel.point_id, Product.name, Product.id))
    return [UnsellableStock(point_id, product_id, name, int(units)) for point_id, product_id, name, units in rows]


# --- one point ------------------------------------------------------------------------------------------------

def low_stock(point_id: int, day: date, default_threshold: int) -> list[LowStock]:
    return _low_stock_rows([point_id], day, default_threshold)


def expiring_lots(point_id: int, day: date, within_days: int) -> list[ExpiringLot]:
    return _expiring_lot_rows([point_id], day, within_days)


def expiring_certificates(point_id: int, day: date, within_days: int = 90) -> list[ExpiringCertificate]:
    return _expiring_certificate_rows([point_id], day, within_days)


def alerts_for_point(point: SalesPoint, day: date, settings: AlertSettings) -> PointAlerts:
    return all_alerts(day, settings, points=[point])[0][1]


@dataclass(frozen=True)
class ThresholdRow:
    product: Product
    threshold: int | None  # None: the configured default applies
    available: int


def thresholds_of(point_id: int, day: date) -> list[ThresholdRow]:
    """Every product of the point's assortment with its own threshold (if any) and its available units."""
    levels = _available_subquery([point_id], day)
    rows = db.session.execute(
        sa.select(Product, PointProduct.low_stock_threshold, sa.func.coalesce(levels.c.available, 0))
        .select_from(PointProduct).join(Product, Product.id == PointProduct.product_id)
        .options(load_only(Product.id, Product.name, Product.slug))  # a form of ~200 rows: not the descriptions
        .outerjoin(levels, levels.c.product_id == PointProduct.product_id)
        .where(PointProduct.point_id == point_id)
        .order_by(Product.name, Product.id))
    return [ThresholdRow(product, threshold, int(available)) for product, threshold, available in rows]


# --- many points ----------------------------------------------------------------------------------------------

def all_alerts(day: date, settings: AlertSettings,
               points: Iterable[SalesPoint] | None = None) -> list[tuple[SalesPoint, PointAlerts]]:
    """(point, its alerts) for each of `points` (default: every open point), in their order, points without
    alerts included. Four queries (plus one per 500 products for certificates), however many points."""
    points = list_open_points() if points is None else list(points)
    by_point = {point.id: PointAlerts() for point in points}
    ids = list(by_point)
    if ids:
        for alert in _low_stock_rows(ids, day, settings.low_stock_threshold):
            by_point[alert.point_id].low_stock.append(alert)
        for alert in _expiring_lot_rows(ids, day, settings.expiry_days):
            by_point[alert.point_id].expiring_lots.append(alert)
        for alert in _expiring_certificate_rows(ids, day, settings.certificate_days):
            by_point[alert.point_id].expiring_certificates.append(alert)
        for alert in _unsellable_rows(ids, day):
            by_point[alert.point_id].unsellable.append(alert)
    return [(point, by_point[point.id]) for point in points]
