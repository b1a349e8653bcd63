"""Sales point use cases (registry basics; the department's full registry comes with the inventory work)."""
from datetime import time

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from shop.catalog.models import Product
from shop.core import admin_units, audit_trail
from shop.core.errors import Conflict, DomainError
from shop.core.text import nfc
from shop.extensions import db
from shop.sales_points.models import PointManager, PointProduct, PointStatus, PointTier, SalesPoint


def create_point(*, code: str, name: str, tier: PointTier | str = PointTier.POINT,
                 status: PointStatus | str = PointStatus.OPEN, province_code: int, ward_code: int | None = None,
                 former_district: str | None = None, street: str | None = None, latitude: float | None = None,
                 longitude: float | None = None, opens_at: time | None = None, closes_at: time | None = None,
                 phone: str | None = None, actor=None) -> SalesPoint:
    code = (code or "").strip().upper()
    if not code:
        raise DomainError(str(_l("The point code is required.")), field="code")
    if db.session.scalar(sa.select(SalesPoint.id).where(SalesPoint.code == code)) is not None:
        raise Conflict(str(_l("A sales point with this code already exists.")), field="code")
    if not admin_units.province_name(province_code):
        raise DomainError(str(_l("Unknown province.")), field="province_code")
    if ward_code and not admin_units.ward_in_province(ward_code, province_code):
        raise DomainError(str(_l("This commune or ward is not in the chosen province.")), field="ward_code")
    point = SalesPoint(code=code, name=nfc(name), tier=PointTier(tier), status=PointStatus(status),
                       province_code=province_code, ward_code=ward_code, former_district=former_district,
                       street=nfc(street), latitude=latitude, longitude=longitude, opens_at=opens_at,
                       closes_at=closes_at, phone=phone)
    db.session.add(point)
    db.session.flush()
    audit_trail.record("sales_points.point_created", point, actor=actor, code=code)
    return point


def carry_product(point: SalesPoint, product: Product, actor=None) -> PointProduct:
    existing = db.session.get(PointProduct, (point.id, product.id))
    if existing:
        return existing
    link = PointProduct(point=point, product=product)
    db.session.add(link)
    db.session.flush()
    audit_trail.record("sales_points.product_carried", point, actor=actor, product_id=product.id)
    return link


def assign_manager(point: SalesPoint, user, actor=None) -> PointManager:
    existing = db.session.get(PointManager, (user.id, point.id))
    if existing:
        return existing
    link = PointManager(user_id=user.id, point=point)
    db.session.add(link)
    db.session.flush()
    audit_trail.record("sales_points.manager_assigned", point, actor=actor, user_id=user.id)
    return link
