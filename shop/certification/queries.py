"""Reads about certificates. "Certified" always means: a certificate of 3★ or more valid on the given day."""
from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from shop.catalog.models import Product, ProductStatus
from shop.certification.models import MIN_CERTIFIED_STARS, Certificate, QualifyingBasis
from shop.core.audit_trail import AuditEntry
from shop.core.text import slugify
from shop.extensions import db
from shop.producers.models import Producer


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


def qualified_clause(product_id, day: date):
    """The rule of qualified_products_subquery for one product column, as correlated EXISTS: each probe uses the
    product_id indexes, where joining the subquery would first build the union over the whole catalogue (tens of
    milliseconds at 20,000 products)."""
    return sa.or_(
        sa.exists().where(Certificate.product_id == product_id, Certificate.valid_on_clause(day),
                          Certificate.stars >= MIN_CERTIFIED_STARS),
        sa.exists().where(QualifyingBasis.product_id == product_id, QualifyingBasis.valid_on_clause(day)))


def current_basis(product_id: int, day: date) -> QualifyingBasis | None:
    """A valid non-certificate basis (P-02…P-04) of the product on `day`, the most recently recorded first."""
    return db.session.scalar(
        sa.select(QualifyingBasis).where(QualifyingBasis.product_id == product_id, QualifyingBasis.valid_on_clause(day))
        .order_by(QualifyingBasis.recorded_at.desc(), QualifyingBasis.id.desc()).limit(1))


def bases_of(product_id: int) -> list[QualifyingBasis]:
    return list(db.session.scalars(
        sa.select(QualifyingBasis).where(QualifyingBasis.product_id == product_id)
        .order_by(QualifyingBasis.recorded_at.desc(), QualifyingBasis.id.desc())))


# --- the trade department's register of bases (P-02…P-04) ---------------------------------------------------

BASIS_STATUSES = ("valid", "not_yet_valid", "expired", "revoked")


def basis_status(basis: QualifyingBasis, day: date) -> str:
    """One of BASIS_STATUSES; a revocation wins over every date."""
    if basis.revoked_on is not None and basis.revoked_on <= day:
        return "revoked"
    if basis.valid_from > day:
        return "not_yet_valid"
    if basis.valid_until is not None and basis.valid_until < day:
        return "expired"
    return "valid"


def _basis_status_clause(status: str, day: date):
    not_revoked = sa.or_(QualifyingBasis.revoked_on.is_(None), QualifyingBasis.revoked_on > day)
    return {
        "valid": QualifyingBasis.valid_on_clause(day),
        "not_yet_valid": sa.and_(not_revoked, QualifyingBasis.valid_from > day),
        "expired": sa.and_(not_revoked, QualifyingBasis.valid_from <= day, QualifyingBasis.valid_until < day),
        "revoked": QualifyingBasis.revoked_on <= day,
    }[status]


def basis_register(day: date, status: str | None = None, limit: int = 500) -> list[QualifyingBasis]:
    """Recorded bases, the newest first, with their products and producers loaded; `status` filters."""
    query = (sa.select(QualifyingBasis)
             .options(selectinload(QualifyingBasis.product).selectinload(Product.producer))
             .order_by(QualifyingBasis.recorded_at.desc(), QualifyingBasis.id.desc()).limit(limit))
    if status in BASIS_STATUSES:
        query = query.where(_basis_status_clause(status, day))
    return list(db.session.scalars(query))


def get_basis(basis_id: int) -> QualifyingBasis | None:
    return db.session.get(QualifyingBasis, basis_id)


def basis_candidates(day: date, search: str = "", include_id: int | None = None,
                     limit: int = 200) -> list[tuple[Product, int | None]]:
    """Published products for a new basis with the stars that certify each today (None: not certified), the
    uncertified first since they are the ones a basis helps. `search` matches the name without diacritics;
    `include_id` keeps an already chosen product among them whatever the search."""
    certified = certified_stars_subquery(day)
    # The chosen product first, so that the limit never drops it.
    order = ([Product.id != include_id] if include_id else []) + [certified.c.stars.is_not(None), Product.name,
                                                                  Product.id]
    query = (sa.select(Product, certified.c.stars)
             .outerjoin(certified, certified.c.product_id == Product.id)
             .where(Product.status == ProductStatus.PUBLISHED).options(selectinload(Product.producer))
             .order_by(*order).limit(limit))
    words = slugify(search or "")
    if words:
        # The slug is the folded name, so "hat dieu" finds "Hạt điều" on SQLite and PostgreSQL alike.
        matches = Product.slug.contains(words, autoescape=True)
        query = query.where(sa.or_(matches, Product.id == include_id) if include_id else matches)
    return [(product, stars) for product, stars in db.session.execute(query)]


# --- the certificates registry (/department/certificates) ---------------------------------------------------

EXPIRING_DAYS = 90
REGISTRY_STATUSES = ("valid", "expiring", "expired", "withdrawn", "superseded")


def registry_status(certificate: Certificate, day: date) -> str:
    """One of REGISTRY_STATUSES (or "not_yet_valid"): "expiring" is a valid certificate ending within 90 days."""
    status = certificate.status_on(day).value
    if status == "valid" and (certificate.valid_until - day).days <= EXPIRING_DAYS:
        return "expiring"
    return status


def _registry_status_clause(status: str, day: date):
    not_withdrawn = sa.or_(Certificate.withdrawn_on.is_(None), Certificate.withdrawn_on > day)
    not_superseded = sa.or_(Certificate.superseded_on.is_(None), Certificate.superseded_on > day)
    return {
        "valid": Certificate.valid_on_clause(day),
        "expiring": sa.and_(Certificate.valid_on_clause(day),
                            Certificate.valid_until <= day + timedelta(days=EXPIRING_DAYS)),
        "expired": sa.and_(not_withdrawn, not_superseded, Certificate.valid_until < day),
        "withdrawn": Certificate.withdrawn_on <= day,
        "superseded": sa.and_(not_withdrawn, Certificate.superseded_on <= day),
    }[status]


def registry_query(day: date, *, status: str | None = None, stars: int | None = None, level: str | None = None,
                   year: int | None = None, search: str = "") -> sa.Select:
    """Certificates with their products and producers, the latest decisions first; every filter optional.
    `search` matches product or producer names without diacritics (through their slugs)."""
    query = (sa.select(Certificate).join(Product, Product.id == Certificate.product_id)
             .join(Producer, Producer.id == Product.producer_id)
             .options(selectinload(Certificate.product).selectinload(Product.producer))
             .order_by(Certificate.decision_date.desc(), Certificate.id.desc()))
    if status in REGISTRY_STATUSES:
        query = query.where(_registry_status_clause(status, day))
    if stars:
        query = query.where(Certificate.stars == stars)
    if level:
        query = query.where(Certificate.level == level)
    if year:
        query = query.where(Certificate.decision_date >= date(year, 1, 1),
                            Certificate.decision_date <= date(year, 12, 31))
    words = slugify(search or "")
    if words:
        query = query.where(sa.or_(Product.slug.contains(words, autoescape=True),
                                   Producer.slug.contains(words, autoescape=True)))
    return query


def registry_years() -> list[int]:
    """The years of recorded decisions, the latest first (for the year filter)."""
    dates = db.session.scalars(sa.select(Certificate.decision_date).distinct())
    return sorted({day.year for day in dates}, reverse=True)


def expiring_certificates(day: date, within_days: int = EXPIRING_DAYS) -> list[Certificate]:
    """Certificates valid today whose validity ends within `within_days`, the soonest first."""
    return list(db.session.scalars(
        sa.select(Certificate).where(Certificate.valid_on_clause(day),
                                     Certificate.valid_until <= day + timedelta(days=within_days))
        .options(selectinload(Certificate.product).selectinload(Product.producer))
        .order_by(Certificate.valid_until, Certificate.id)))


def get_certificate(certificate_id: int) -> Certificate | None:
    return db.session.get(Certificate, certificate_id)


def certificate_decisions(certificate_ids: Iterable[int]) -> dict[int, list[dict]]:
    """The downgrade decisions of the audit trail (the reason has no column of its own), by certificate id."""
    ids = list(certificate_ids)
    if not ids:
        return {}
    found: dict[int, list[dict]] = {}
    for entry in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.subject_type == "Certificate", AuditEntry.subject_id.in_(ids),
                                        AuditEntry.action == "certification.certificate_downgraded")
            .order_by(AuditEntry.occurred_at, AuditEntry.id)):
        found.setdefault(entry.subject_id, []).append(entry.data)
    return found


def certificate_candidates(search: str = "", include_id: int | None = None, limit: int = 300) -> list[Product]:
    """Products of every producer (drafts too: a product may be certified before it is listed), matched by
    product or producer name without diacritics; `include_id` keeps the chosen one whatever the search."""
    query = (sa.select(Product).join(Producer, Producer.id == Product.producer_id)
             .options(selectinload(Product.producer))
             .order_by(*([Product.id != include_id] if include_id else []), Product.name, Product.id).limit(limit))
    words = slugify(search or "")
    if words:
        matches = sa.or_(Product.slug.contains(words, autoescape=True), Producer.slug.contains(words, autoescape=True))
        query = query.where(sa.or_(matches, Product.id == include_id) if include_id else matches)
    return list(db.session.scalars(query))
