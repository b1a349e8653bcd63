import sqlalchemy as sa

from shop.extensions import db
from shop.producers.models import Producer, ProducerMember


def get_by_slug(slug: str) -> Producer | None:
    return db.session.scalar(sa.select(Producer).where(Producer.slug == slug))


def producer_of(user) -> Producer | None:
    member = db.session.get(ProducerMember, user.id)
    return member.producer if member else None


def list_producers(*, legal_form: str | None = None, former_district: str | None = None) -> list[Producer]:
    query = sa.select(Producer).order_by(Producer.name)
    if legal_form:
        query = query.where(Producer.legal_form == legal_form)
    if former_district:
        query = query.where(Producer.former_district == former_district)
    return list(db.session.scalars(query))
