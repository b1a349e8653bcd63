"""Demo data for the certificates registry: `seed_demo_certificates(report)`.

The expiring list and the 90/60/30-day alerts need a certificate that ends within 90 days of the day the demo is
loaded; the seeded decisions have fixed dates, so whether one does depends on the calendar. When none does, one
3★ certificate ending in 45 days is recorded for the demo's uncertified draft product (nothing existing is
changed: that product has no certificate to supersede). Idempotent: the certificate is found by its product and
decision number and never recorded twice."""
from datetime import timedelta

import sqlalchemy as sa

from shop.catalog.models import Product
from shop.certification.models import MIN_CERTIFIED_STARS, Certificate
from shop.certification.queries import EXPIRING_DAYS
from shop.certification.services import record_certificate
from shop.core.clock import add_months, today
from shop.extensions import db

PRODUCT_SLUG = "so-co-la-trang-nhan-hat-dieu-trong-duc"  # a draft without any certificate in seed/products.json
DECISION_NO = "2990/QĐ-UBND"
DAYS_LEFT = 45


def seed_demo_certificates(report) -> None:
    day = today()
    product = db.session.scalar(sa.select(Product).where(Product.slug == PRODUCT_SLUG))
    if product is None:
        return
    recorded = db.session.scalar(sa.select(Certificate.id).where(Certificate.product_id == product.id,
                                                                Certificate.decision_no == DECISION_NO))
    if recorded is not None:
        return
    expiring = db.session.scalar(
        sa.select(sa.func.count()).select_from(Certificate)
        .where(Certificate.valid_on_clause(day), Certificate.stars >= MIN_CERTIFIED_STARS,
               Certificate.valid_until <= day + timedelta(days=EXPIRING_DAYS)))
    if expiring:
        return
    valid_until = day + timedelta(days=DAYS_LEFT)
    record_certificate(product, stars=3, score=62, level="province", decision_no=DECISION_NO,
                       decision_date=add_months(valid_until, -36), valid_until=valid_until)
    report.created["expiring certificates"] += 1
