import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from shop.accounts.models import User
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


def registry(*, tier: PointTier | None = None, status: PointStatus | None = None,
             former_district: str | None = None) -> list[SalesPoint]:
    """Every point for the department's registry (all statuses), the provincial centre first."""
    query = sa.select(SalesPoint).options(selectinload(SalesPoint.location_type_rows))
    if tier:
        query = query.where(SalesPoint.tier == tier)
    if status:
        query = query.where(SalesPoint.status == status)
    if former_district:
        query = query.where(SalesPoint.former_district == former_district)
    return list(db.session.scalars(query.order_by(SalesPoint.tier != PointTier.CENTRE, SalesPoint.code)))


def count_by_status() -> dict[PointStatus, int]:
    rows = db.session.execute(sa.select(SalesPoint.status, sa.func.count()).group_by(SalesPoint.status))
    counts = {status: 0 for status in PointStatus}
    counts.update({PointStatus(status): n for status, n in rows})
    return counts


def managers_of(point_id: int) -> list:
    return list(db.session.scalars(
        sa.select(User).join(PointManager, PointManager.user_id == User.id)
        .where(PointManager.point_id == point_id).order_by(User.email)))


def users_by_ids(ids) -> dict[int, User]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
