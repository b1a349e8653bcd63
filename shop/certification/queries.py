"""Reads about certificates. "Certified" always means: a certificate of 3★ or more valid on the given day."""
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from shop.certification.models import MIN_CERTIFIED_STARS, Certificate, QualifyingBasis
from shop.extensions import db


def certified_stars_subquery(day: date) -> sa.Subquery:
    """(product_id, stars) of every product certified on `day` (the highest valid star level)."""
    return (
        sa.select(Certificate.product_id.label("product_id"), sa.func.max(Certificate.stars).label("stars"))
        .where(Certificate.valid_on_clause(day), Certificate.stars >= MIN_CERTIFIED_STARS)
        .group_by(Certificate.product_id)
        .subquery("certified")
    )


def current_certificates(product_ids: Iterable[int], day: date) -> dict[int, Certificate]:
    """The certificate that makes each product certified today (highest stars, then most recent decision)."""
    ids = list(product_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(Certificate)
        .where(Certificate.product_id.in_(ids), Certificate.valid_on_clause(day),
               Certificate.stars >= MIN_CERTIFIED_STARS)
        .order_by(Certificate.product_id, Certificate.stars.desc(), Certificate.decision_date.desc())
    )
    best: dict[int, Certificate] = {}
    for certificate in rows:
        best.setdefault(certificate.product_id, certificate)
    return best


def current_certificate(product_id: int, day: date) -> Certificate | None:
    return current_certificates([product_id], day).get(product_id)


def certificate_history(product_id: int) -> list[Certificate]:
    return list(db.session.scalars(
        sa.select(Certificate).where(Certificate.product_id == product_id)
        .order_by(Certificate.decision_date.desc(), Certificate.id.desc())))


def is_certified(product_id: int, day: date) -> bool:
    return current_certificate(product_id, day) is not None


def qualified_products_subquery(day: date) -> sa.Subquery:
    """(product_id) of every product with a qualifying basis on `day` for sale at OCOP points: a valid 3★+
    certificate (P-01) or a valid basis of P-02…P-04 recorded by the trade department."""
    certified = (sa.select(Certificate.product_id.label("product_id"))
                 .where(Certificate.valid_on_clause(day), Certificate.stars >= MIN_CERTIFIED_STARS))
    other = sa.select(QualifyingBasis.product_id.label("product_id")).where(QualifyingBasis.valid_on_clause(day))
    return sa.union(certified, other).subquery("qualified")


def current_basis(product_id: int, day: date) -> QualifyingBasis | None:
    """A valid non-certificate basis (P-02…P-04) of the product on `day`, the most recently recorded first."""
    return db.session.scalar(
        sa.select(QualifyingBasis).where(QualifyingBasis.product_id == product_id, QualifyingBasis.valid_on_clause(day))
        .order_by(QualifyingBasis.recorded_at.desc(), QualifyingBasis.id.desc()).limit(1))


def bases_of(product_id: int) -> list[QualifyingBasis]:
    return list(db.session.scalars(
        sa.select(QualifyingBasis).where(QualifyingBasis.product_id == product_id)
        .order_by(QualifyingBasis.recorded_at.desc(), QualifyingBasis.id.desc())))
