"""The catalogue version: bumped inside every transaction that changes listed data, read once per request."""
import sqlalchemy as sa
from sqlalchemy import event

from shop.catalog.models import Product, ProductImage
from shop.certification.models import Certificate
from shop.core.models import utcnow
from shop.extensions import db
from shop.producers.models import Producer
from shop.sales_points.models import PointProduct, SalesPoint
from shop.search.models import CatalogVersion

WATCHED = (Product, ProductImage, Producer, Certificate, PointProduct, SalesPoint)
_BUMPED = "catalog_version_bumped"
_connected = False


def init_app(app) -> None:
    global _connected
    if not _connected:
        event.listen(db.session, "after_flush", _bump_if_listed_data_changed)
        event.listen(db.session, "after_commit", _reset)
        event.listen(db.session, "after_soft_rollback", _reset_after_rollback)
        _connected = True


def current_version() -> int:
    return db.session.scalar(sa.select(CatalogVersion.version).where(CatalogVersion.id == 1)) or 0


def bump_catalog_version(connection=None) -> None:
    """For writers that bypass the ORM (bulk seeding): call it in their transaction."""
    connection = connection or db.session.connection()
    values = {"version": CatalogVersion.version + 1, "changed_at": utcnow()}
    result = connection.execute(sa.update(CatalogVersion).where(CatalogVersion.id == 1).values(**values))
    if result.rowcount == 0:  # only on a database built with create_all (tests); migrations insert the row
        connection.execute(sa.insert(CatalogVersion).values(id=1, version=1, changed_at=utcnow()))


def _bump_if_listed_data_changed(session, flush_context) -> None:
    if session.info.get(_BUMPED):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, WATCHED):
            # Once per transaction; the row lock it takes on PostgreSQL lasts until commit, which only
            # serialises catalogue edits (rare), never orders or stock.
            bump_catalog_version(session.connection())
            session.info[_BUMPED] = True
            return


def _reset(session) -> None:
    session.info.pop(_BUMPED, None)


def _reset_after_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_BUMPED, None)
