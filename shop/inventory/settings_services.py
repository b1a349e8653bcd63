"""A point's own stock settings: the low-stock threshold of each product it carries. Services flush, never commit."""
from flask_babel import lazy_gettext as _l

from shop.catalog.models import Product
from shop.core import audit_trail
from shop.core.errors import DomainError
from shop.extensions import db
from shop.sales_points.models import PointProduct, SalesPoint


def _check_threshold(threshold: int | None, product: Product) -> None:
    if threshold is None:
        return
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise DomainError(str(_l("The low-stock threshold of %(name)s must be a whole number, zero or more.",
                                 name=product.name)), field="threshold", code="invalid_threshold")


def set_low_stock_threshold(point: SalesPoint, product: Product, threshold: int | None, *, actor) -> PointProduct:
    """Alert when fewer than `threshold` units of `product` are available at `point`; None: the configured
    default; 0: never. Adds the product to the point's assortment when it is not there yet."""
    if actor is None:
        raise DomainError(str(_l("Who makes the change must be known.")), code="actor_required")
    _check_threshold(threshold, product)
    row = db.session.get(PointProduct, (point.id, product.id))
    if row is None:
        row = PointProduct(point_id=point.id, product_id=product.id)
        db.session.add(row)
    previous = row.low_stock_threshold
    row.low_stock_threshold = threshold
    db.session.flush()
    if previous != threshold:
        audit_trail.record("inventory.low_stock_threshold_set", point, actor=actor, product_id=product.id,
                           threshold=threshold, previous=previous)
    return row


def set_low_stock_thresholds(point: SalesPoint, thresholds: dict[Product, int | None], *, actor) -> int:
    """The thresholds form: several products at once, all or nothing. Returns how many thresholds changed."""
    for product, threshold in thresholds.items():
        _check_threshold(threshold, product)
    changed = 0
    for product, threshold in thresholds.items():
        current = db.session.get(PointProduct, (point.id, product.id))
        if current is None or current.low_stock_threshold != threshold:
            set_low_stock_threshold(point, product, threshold, actor=actor)
            changed += 1
    return changed
