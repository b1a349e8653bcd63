"""Who may see and change which sales point. One guard for every back-office route of a point, so a route
cannot forget the check, and a tampered URL (another point's code) is refused like any other."""
import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user

from shop.accounts.models import Role
from shop.extensions import db
from shop.sales_points.models import PointManager, PointTier, SalesPoint
from shop.sales_points.queries import get_by_code

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def manages(user, point: SalesPoint) -> bool:
    return db.session.get(PointManager, (user.id, point.id)) is not None


def can_read(user, point: SalesPoint) -> bool:
    """Admins and trade officers read every point; a point manager reads their own points."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role in (Role.ADMIN, Role.TRADE_OFFICER) or (user.role == Role.POINT_MANAGER and manages(user, point))


def can_change(user, point: SalesPoint) -> bool:
    """Admins change every point; a point manager changes their own points; trade officers only read."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role == Role.ADMIN or (user.role == Role.POINT_MANAGER and manages(user, point))


def points_in_scope(user) -> list[SalesPoint]:
    """The points the user's back office shows, the provincial centre first."""
    query = sa.select(SalesPoint).order_by(SalesPoint.tier != PointTier.CENTRE, SalesPoint.code)
    if user.role == Role.POINT_MANAGER:
        query = query.join(PointManager, PointManager.point_id == SalesPoint.id).where(PointManager.user_id == user.id)
    elif user.role not in (Role.ADMIN, Role.TRADE_OFFICER):
        return []
    return list(db.session.scalars(query))


def point_area_guard():
    """before_request of every point back-office blueprint: logged in as a point manager, trade officer or admin;
    trade officers read only (no POST); a `<code>` in the URL must be a point the user may read (GET) or change
    (any other method). 404 for an unknown code, 403 for a point out of scope."""
    if not current_user.is_authenticated:
        from shop.extensions import login_manager

        return login_manager.unauthorized()
    if current_user.role not in (Role.ADMIN, Role.POINT_MANAGER, Role.TRADE_OFFICER):
        abort(403)
    writing = request.method not in READ_METHODS
    if writing and current_user.role == Role.TRADE_OFFICER:
        abort(403)
    code = (request.view_args or {}).get("code")
    if code is not None:
        point = get_by_code(code)
        if point is None:
            abort(404)
        if not (can_change if writing else can_read)(current_user, point):
            abort(403)
    return None


def point_from_url(code: str) -> SalesPoint:
    """The point of a URL already checked by point_area_guard (views call this; the guard did the checking)."""
    point = get_by_code(code)
    if point is None:
        abort(404)
    return point
