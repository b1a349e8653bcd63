import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from shop.extensions import db
from shop.producers.models import Producer, ProducerMember


def get_by_slug(slug: str) -> Producer | None:
    return db.session.scalar(sa.select(Producer).where(Producer.slug == slug))


def producer_of(user) -> Producer | None:
    member = db.session.get(ProducerMember, user.id)
    return member.producer if member else None


def list_producers(*, legal_form: str | None = None, former_district: str | None = None, page: int = 1,
                   per_page: int | None = None) -> tuple[list[Producer], int]:
    """A page of producers by name, and how many there are in all."""
    query = sa.select(Producer)
    if legal_form:
        query = query.where(Producer.legal_form == legal_form)
    if former_district:
        query = query.where(Producer.former_district == former_district)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    query = query.order_by(Producer.name, Producer.id).options(selectinload(Producer.images))
    if per_page:
        query = query.limit(per_page).offset((page - 1) * per_page)
    return list(db.session.scalars(query)), total
