import sqlalchemy as sa

from shop.extensions import db
from shop.sales_points.models import PointManager, PointProduct, PointStatus, PointTier, SalesPoint


def get_by_code(code: str) -> SalesPoint | None:
    return db.session.scalar(sa.select(SalesPoint).where(SalesPoint.code == code.upper()))


def list_open_points(limit: int | None = None) -> list[SalesPoint]:
    """Open points, the provincial centre first."""
    return list(db.session.scalars(
        sa.select(SalesPoint).where(SalesPoint.status == PointStatus.OPEN)
        .order_by(SalesPoint.tier != PointTier.CENTRE, SalesPoint.code).limit(limit)))


def open_points_carrying(product_id: int) -> list[SalesPoint]:
    return list(db.session.scalars(
        sa.select(SalesPoint).join(PointProduct, PointProduct.point_id == SalesPoint.id)
        .where(PointProduct.product_id == product_id, SalesPoint.status == PointStatus.OPEN)
        .order_by(SalesPoint.tier != PointTier.CENTRE, SalesPoint.code)))


def product_ids_at(point_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(PointProduct.product_id).where(PointProduct.point_id == point_id)))


def managed_by(user) -> list[SalesPoint]:
    return list(db.session.scalars(
        sa.select(SalesPoint).join(PointManager, PointManager.point_id == SalesPoint.id)
        .where(PointManager.user_id == user.id).order_by(SalesPoint.code)))
