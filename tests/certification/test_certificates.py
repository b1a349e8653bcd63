"""A product is OCOP-certified only while it holds a valid certificate of 3★ or more, computed from dates."""
from datetime import date, timedelta

import pytest

from shop.certification.models import CertificateStatus
from shop.certification.queries import current_certificate, is_certified
from shop.certification.services import record_certificate, withdraw_certificate
from shop.core.audit_trail import AuditEntry
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from tests.factories import make_certificate, make_product


def test_validity_is_36_months_from_the_decision(app_ctx):
    product = make_product(stars=None)
    certificate = make_certificate(product, stars=4, decision_date=date(2024, 5, 20))
    assert certificate.valid_until == date(2027, 5, 20)
    assert certificate.status_on(date(2027, 5, 20)) == CertificateStatus.VALID
    assert certificate.status_on(date(2027, 5, 21)) == CertificateStatus.EXPIRED
    assert certificate.status_on(date(2024, 5, 19)) == CertificateStatus.NOT_YET_VALID


def test_certified_is_computed_from_dates_at_read_time(app_ctx):
    product = make_product(stars=None)
    make_certificate(product, stars=3, decision_date=today() - timedelta(days=36 * 31))  # lapsed
    assert not is_certified(product.id, today())
    # The same certificate still counted on a day inside its validity.
    assert is_certified(product.id, today() - timedelta(days=400))


def test_two_stars_never_certify(app_ctx):
    product = make_product(stars=None)
    make_certificate(product, stars=2, level="province")
    assert current_certificate(product.id, today()) is None


@pytest.mark.parametrize("stars, score, message", [
    (4, 95, "không tương ứng với hạng 4 sao"),
    (3, 49, "không tương ứng với hạng 3 sao"),
    (5, 101, "từ 0 đến 100"),
    (6, 95, "từ 1 đến 5"),
    (0, None, "từ 1 đến 5"),
])
def test_score_must_match_the_star_band(app_ctx, stars, score, message):
    product = make_product(stars=None)
    with pytest.raises(DomainError, match=message):
        record_certificate(product, stars=stars, score=score, level="province", decision_no="1/QĐ-UBND",
                           decision_date=date(2025, 1, 2))


def test_future_decision_and_empty_number_are_refused(app_ctx):
    product = make_product(stars=None)
    with pytest.raises(DomainError, match="sau ngày hôm nay"):
        record_certificate(product, stars=4, score=80, level="province", decision_no="1/QĐ-UBND",
                           decision_date=today() + timedelta(days=1))
    with pytest.raises(DomainError, match="(?i)số quyết định"):
        record_certificate(product, stars=4, score=80, level="province", decision_no="  ",
                           decision_date=date(2025, 1, 2))


def test_central_level_is_only_for_five_stars(app_ctx):
    product = make_product(stars=None)
    with pytest.raises(DomainError, match="5 sao"):
        record_certificate(product, stars=4, score=80, level="central", decision_no="9/QĐ-BNN",
                           decision_date=date(2025, 1, 2))


def test_upgrade_supersedes_the_older_certificate(app_ctx):
    product = make_product(stars=None)
    old = make_certificate(product, stars=3, decision_date=today() - timedelta(days=300))
    new = make_certificate(product, stars=4, decision_date=today() - timedelta(days=10))
    assert old.status_on(today()) == CertificateStatus.SUPERSEDED and old.superseded_by_id == new.id
    assert current_certificate(product.id, today()).id == new.id
    # Before the upgrade the old one was the valid one.
    assert old.status_on(today() - timedelta(days=20)) == CertificateStatus.VALID


def test_withdrawal_needs_decision_and_reason_and_delists(app_ctx):
    product = make_product(stars=4)
    certificate = current_certificate(product.id, today())
    with pytest.raises(DomainError):
        withdraw_certificate(certificate, decision_no="", reason="")
    withdraw_certificate(certificate, decision_no="77/QĐ-UBND", reason="Vi phạm an toàn thực phẩm")
    assert certificate.status_on(today()) == CertificateStatus.WITHDRAWN
    assert not is_certified(product.id, today())
    with pytest.raises(DomainError, match="đã bị thu hồi"):
        withdraw_certificate(certificate, decision_no="78/QĐ-UBND", reason="again")
    actions = [e.action for e in db.session.scalars(db.select(AuditEntry))]
    assert "certification.certificate_withdrawn" in actions
