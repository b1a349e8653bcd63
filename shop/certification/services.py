"""Certificate use cases. They flush; the caller commits."""
from datetime import date

from flask_babel import lazy_gettext as _l

from shop.catalog.models import Product
from shop.certification.models import (
    STAR_BANDS,
    VALIDITY_MONTHS,
    BasisCriterion,
    Certificate,
    IssuingLevel,
    QualifyingBasis,
)
from shop.certification.queries import certificate_history
from shop.core import audit_trail
from shop.core.clock import add_months, today
from shop.core.errors import DomainError
from shop.core.text import nfc
from shop.extensions import db

REFERENCE_MAX = 120


def check_score(stars: int, score: int | None) -> None:
    if not 1 <= stars <= 5:
        raise DomainError(str(_l("Stars must be between 1 and 5.")), field="stars")
    if score is None:
        return
    if not 0 <= score <= 100:
        raise DomainError(str(_l("The score must be between 0 and 100.")), field="score")
    low, high = STAR_BANDS[stars]
    if not low <= score <= high:
        raise DomainError(str(_l("A score of %(score)s does not give %(stars)s stars (%(low)s–%(high)s points).",
                                 score=score, stars=stars, low=low, high=high)), field="score")


def record_certificate(product: Product, *, stars: int, level: IssuingLevel | str, decision_no: str,
                       decision_date: date, score: int | None = None, valid_until: date | None = None,
                       actor=None) -> Certificate:
    """Record a certificate from a recognition decision. A newer certificate supersedes the product's older
    valid ones from its decision date (a re-rating replaces the previous result)."""
    check_score(stars, score)
    level = IssuingLevel(level)
    decision_no = nfc(decision_no) or ""
    if not decision_no:
        raise DomainError(str(_l("The decision number is required.")), field="decision_no")
    if decision_date > today():
        raise DomainError(str(_l("The decision date cannot be in the future.")), field="decision_date")
    if level == IssuingLevel.CENTRAL and stars != 5:
        raise DomainError(str(_l("Only 5-star products are recognised at the central level.")), field="level")
    valid_until = valid_until or add_months(decision_date, VALIDITY_MONTHS)
    if valid_until < decision_date:
        raise DomainError(str(_l("The end of validity is before the decision date.")), field="valid_until")
    certificate = Certificate(product=product, stars=stars, score=score, level=level, decision_no=decision_no,
                              decision_date=decision_date, valid_until=valid_until)
    db.session.add(certificate)
    db.session.flush()
    for older in certificate_history(product.id):
        if (older.id != certificate.id and older.decision_date <= decision_date and older.superseded_on is None
                and older.withdrawn_on is None and older.valid_until >= decision_date):
            older.superseded_on = decision_date
            older.superseded_by_id = certificate.id
    audit_trail.record("certification.certificate_recorded", certificate, actor=actor, stars=stars,
                       decision_no=decision_no, product_id=product.id)
    return certificate


def withdraw_certificate(certificate: Certificate, *, decision_no: str, reason: str, on: date | None = None,
                         actor=None) -> Certificate:
    if certificate.withdrawn_on is not None:
        raise DomainError(str(_l("This certificate is already withdrawn.")))
    decision_no, reason = nfc(decision_no) or "", nfc(reason) or ""
    if not decision_no or not reason:
        raise DomainError(str(_l("A withdrawal needs the decision number and the reason.")), field="reason")
    certificate.withdrawn_on = on or today()
    certificate.withdrawal_decision_no = decision_no
    certificate.withdrawal_reason = reason
    db.session.flush()
    audit_trail.record("certification.certificate_withdrawn", certificate, actor=actor, decision_no=decision_no,
                       reason=reason)
    return certificate


def record_basis(product: Product, *, criterion: BasisCriterion | str, reference: str, justification: str,
                 valid_from: date | None = None, valid_until: date | None = None, actor) -> QualifyingBasis:
    """Record that the product may be sold at OCOP points on a basis of P-02…P-04 (a trade officer's decision)."""
    try:
        criterion = BasisCriterion(criterion)
    except ValueError:
        raise DomainError(str(_l("Choose the criterion (P-02, P-03 or P-04).")), field="criterion",
                          code="invalid_criterion") from None
    reference = (nfc(reference) or "").strip()
    justification = (nfc(justification) or "").strip()
    if not reference:
        raise DomainError(str(_l("Give the list, record or decision this basis comes from.")), field="reference",
                          code="reference_required")
    if len(reference) > REFERENCE_MAX:  # the column's length: PostgreSQL would refuse the row with a 500
        raise DomainError(str(_l("At most %(max)d characters.", max=REFERENCE_MAX)), field="reference",
                          code="reference_too_long")
    if not justification:
        raise DomainError(str(_l("Give the justification.")), field="justification", code="justification_required")
    valid_from = valid_from or today()
    if valid_until is not None and valid_until < valid_from:
        raise DomainError(str(_l("The end of validity is before its start.")), field="valid_until",
                          code="invalid_dates")
    basis = QualifyingBasis(product_id=product.id, criterion=criterion, reference=reference,
                            justification=justification, valid_from=valid_from, valid_until=valid_until,
                            recorded_by_id=actor.id)
    db.session.add(basis)
    db.session.flush()
    audit_trail.record("certification.basis_recorded", basis, actor=actor, product_id=product.id,
                       criterion=criterion.value, reference=reference)
    return basis


def revoke_basis(basis: QualifyingBasis, *, reason: str, actor, on: date | None = None) -> QualifyingBasis:
    # Already revoked is checked first: its message is the useful one whatever reason came with it.
    if basis.revoked_on is not None:
        raise DomainError(str(_l("This basis is already revoked.")), field="reason", code="already_revoked")
    reason = (nfc(reason) or "").strip()
    if not reason:
        raise DomainError(str(_l("Give the reason for revoking.")), field="reason", code="reason_required")
    basis.revoked_on, basis.revocation_reason = on or today(), reason
    db.session.flush()
    audit_trail.record("certification.basis_revoked", basis, actor=actor, reason=reason)
    return basis


def downgrade_certificate(certificate: Certificate, *, stars: int, decision_no: str, reason: str,
                          on: date | None = None, score: int | None = None, level: IssuingLevel | str | None = None,
                          actor=None) -> Certificate:
    """Lower a valid certificate's stars by decision: a new certificate with fewer stars supersedes it from `on`
    (default today) and keeps its end of validity (a downgrade is not a renewal). The storefront reads the new
    stars at once (and stops listing a product that falls below 3 stars)."""
    on = on or today()
    decision_no, reason = nfc(decision_no) or "", nfc(reason) or ""
    if not decision_no:
        raise DomainError(str(_l("The decision number is required.")), field="decision_no")
    if not reason:
        raise DomainError(str(_l("Give the reason for the downgrade.")), field="reason")
    if on > today():
        raise DomainError(str(_l("The date cannot be in the future.")), field="on")
    if on < certificate.decision_date:
        raise DomainError(str(_l("The date is before the certificate's decision.")), field="on")
    if not certificate.is_valid_on(on):
        raise DomainError(str(_l("Only a valid certificate can be downgraded.")), field="stars")
    if stars >= certificate.stars:
        raise DomainError(str(_l("A downgrade needs fewer stars than the current %(stars)s.",
                                 stars=certificate.stars)), field="stars")
    if level is None:
        level = certificate.level if certificate.level != IssuingLevel.CENTRAL else IssuingLevel.PROVINCE
    replacement = record_certificate(certificate.product, stars=stars, level=level, decision_no=decision_no,
                                     decision_date=on, score=score, valid_until=certificate.valid_until,
                                     actor=actor)
    certificate.superseded_on, certificate.superseded_by_id = on, replacement.id
    db.session.flush()
    audit_trail.record("certification.certificate_downgraded", certificate, actor=actor, decision_no=decision_no,
                       reason=reason, stars=stars, replacement_id=replacement.id)
    return replacement
