from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Product
from shop.core.enums import LabelledEnum
from shop.core.models import TimestampMixin, UTCDateTime, enum_column, utcnow
from shop.extensions import db

# Star bands of the OCOP rating (1048/QĐ-TTg, kept by 148/QĐ-TTg): stars -> (lowest score, highest score).
STAR_BANDS = {5: (90, 100), 4: (70, 89), 3: (50, 69), 2: (30, 49), 1: (0, 29)}
VALIDITY_MONTHS = 36
MIN_CERTIFIED_STARS = 3


class IssuingLevel(LabelledEnum):
    DISTRICT = "district", _l("District")  # district People's Committee: 3★ under 148, Feb 2023 – Jul 2025
    PROVINCE = "province", _l("Province")  # provincial People's Committee: 3–4★ (and 3★ again from 6/7/2025)
    CENTRAL = "central", _l("Central")  # Ministry of Agriculture (and Environment): 5★ national


class CertificateStatus(StrEnum):
    VALID = "valid"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"


class Certificate(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), nullable=False, index=True)
    stars: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    level: Mapped[IssuingLevel] = enum_column(IssuingLevel, nullable=False)
    decision_no: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    decision_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    valid_until: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)
    withdrawn_on: Mapped[date | None] = mapped_column(sa.Date)
    withdrawal_decision_no: Mapped[str | None] = mapped_column(sa.String(60))
    withdrawal_reason: Mapped[str | None] = mapped_column(sa.Text)
    superseded_on: Mapped[date | None] = mapped_column(sa.Date)
    superseded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificate.id"))

    product: Mapped[Product] = relationship()

    __table_args__ = (
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        sa.CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="score_range"),
        sa.CheckConstraint("valid_until >= decision_date", name="valid_after_decision"),
        sa.Index("ix_certificate_product_validity", "product_id", "valid_until"),
    )

    def status_on(self, day: date) -> CertificateStatus:
        if self.withdrawn_on is not None and self.withdrawn_on <= day:
            return CertificateStatus.WITHDRAWN
        if self.superseded_on is not None and self.superseded_on <= day:
            return CertificateStatus.SUPERSEDED
        if self.decision_date > day:
            return CertificateStatus.NOT_YET_VALID
        if self.valid_until < day:
            return CertificateStatus.EXPIRED
        return CertificateStatus.VALID

    def is_valid_on(self, day: date) -> bool:
        return self.status_on(day) == CertificateStatus.VALID

    def certifies_on(self, day: date) -> bool:
        """Makes its product "OCOP-certified" on that day: valid and 3★ or more."""
        return self.stars >= MIN_CERTIFIED_STARS and self.is_valid_on(day)

    @classmethod
    def valid_on_clause(cls, day: date):
        """The same rule as `is_valid_on`, as SQL, for listings and counts."""
        return sa.and_(
            sa.or_(cls.withdrawn_on.is_(None), cls.withdrawn_on > day),
            sa.or_(cls.superseded_on.is_(None), cls.superseded_on > day),
            cls.decision_date <= day,
            cls.valid_until >= day,
        )

    def __repr__(self) -> str:
        return f"<Certificate {self.decision_no} {self.stars}★ product={self.product_id}>"


class BasisCriterion(LabelledEnum):
    """Qualifying bases other than an OCOP certificate (P-01), criteria P-02…P-04 of Decision 950."""

    KEY_PRODUCT = "key_product", _l("On the province's key-product list")  # P-02
    TYPICAL_RURAL = "typical_rural", _l("Typical rural-industry or rural-agriculture product")  # P-03
    LOCAL_SPECIALITY = "local_speciality", _l("Characteristic local speciality or potential product")  # P-04


BASIS_CRITERION_CODES = {BasisCriterion.KEY_PRODUCT: "P-02", BasisCriterion.TYPICAL_RURAL: "P-03",
                         BasisCriterion.LOCAL_SPECIALITY: "P-04"}


class QualifyingBasis(db.Model):
    """A trade-department decision that lets a product without a 3★+ certificate be sold at OCOP points."""

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), nullable=False, index=True)
    criterion: Mapped[BasisCriterion] = enum_column(BasisCriterion, nullable=False)
    reference: Mapped[str] = mapped_column(sa.String(120), nullable=False)  # list, record or decision number
    justification: Mapped[str] = mapped_column(sa.Text, nullable=False)
    valid_from: Mapped[date] = mapped_column(sa.Date, nullable=False)
    valid_until: Mapped[date | None] = mapped_column(sa.Date)  # None: until revoked
    revoked_on: Mapped[date | None] = mapped_column(sa.Date)
    revocation_reason: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    product: Mapped[Product] = relationship()

    __table_args__ = (
        sa.CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="basis_valid_after_start"),
    )

    @property
    def criterion_code(self) -> str:
        return BASIS_CRITERION_CODES[self.criterion]

    def is_valid_on(self, day: date) -> bool:
        return (self.valid_from <= day and (self.valid_until is None or self.valid_until >= day)
                and (self.revoked_on is None or self.revoked_on > day))

    @classmethod
    def valid_on_clause(cls, day: date):
        return sa.and_(cls.valid_from <= day, sa.or_(cls.valid_until.is_(None), cls.valid_until >= day),
                       sa.or_(cls.revoked_on.is_(None), cls.revoked_on > day))


class ChangeRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProductChangeRequest(db.Model):
    """A producer's change of a certified product's name or group: the certificate was granted for what the
    product was, so the trade department decides before the change reaches the catalogue."""

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), nullable=False, index=True)
    changes: Mapped[dict] = mapped_column(sa.JSON, nullable=False)  # {field: [current value, proposed value]}
    status: Mapped[ChangeRequestStatus] = enum_column(ChangeRequestStatus, nullable=False,
                                                      default=ChangeRequestStatus.PENDING)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(sa.Text)

    product: Mapped[Product] = relationship()
