"""The catalogue version: bumped inside every transaction that changes listed data (the search hooks call
`note_flush` after each flush), read once per request by the listing snapshot and the page cache."""
import sqlalchemy as sa

from shop.catalog.models import Product, ProductImage
from shop.certification.models import Certificate
from shop.core.models import utcnow
from shop.extensions import db
from shop.producers.models import Producer
from shop.sales_points.models import PointProduct, SalesPoint
from shop.search.models import CatalogVersion

WATCHED = (Product, ProductImage, Producer, Certificate, PointProduct, SalesPoint)
_BUMPED = "catalog_version_bumped"


def current_version() -> int:
    return db.session.scalar(sa.select(CatalogVersion.version).where(CatalogVersion.id == 1)) or 0


def bump_catalog_version(connection=None) -> None:
    """For writers that bypass the ORM (bulk seeding): call it in their transaction."""
    connection = connection or db.session.connection()
    values = {"version": CatalogVersion.version + 1, "changed_at": utcnow()}
    result = connection.execute(sa.update(CatalogVersion).where(CatalogVersion.id == 1).values(**values))
    if result.rowcount == 0:  # only on a database built with create_all (tests); migrations insert the row
        connection.execute(sa.insert(CatalogVersion).values(id=1, version=1, changed_at=utcnow()))


def note_flush(session) -> None:
    """Bump once per transaction when a flush wrote listed data. On PostgreSQL the row lock this takes
    lasts until commit, which only serialises catalogue edits (rare), never orders or stock."""
    if session.info.get(_BUMPED):
        return
    if any(isinstance(obj, WATCHED) for obj in (*session.new, *session.dirty, *session.deleted)):
        bump_catalog_version(session.connection())
        session.info[_BUMPED] = True


def transaction_ended(session) -> None:
    session.info.pop(_BUMPED, None)
