"""Criteria are data (versioned sets with a history of edits); audits are concluded once and never edited after:
a correction is a new audit that links to the previous one."""
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import User
from shop.core.enums import LabelledEnum
from shop.core.models import UTCDateTime, enum_column, utcnow
from shop.extensions import db
from shop.sales_points.models import SalesPoint


class CriterionGroup(LabelledEnum):
    LOCATION = "location", _l("Location")
    PRODUCT = "product", _l("Products")
    SIGNAGE = "signage", _l("Signage")
    FACILITIES = "facilities", _l("Facilities")
    MANAGEMENT = "management", _l("Management")


class CheckKind(LabelledEnum):
    AUTOMATIC = "automatic", _l("Automatic")
    EVIDENCE = "evidence", _l("Evidence")
    BOTH = "both", _l("Automatic and evidence")


class AutoCheck(LabelledEnum):
    """The automatic checks computed from live data (audit.checks); a criterion names at most one."""

    LOCATION_TYPE = "location_type", _l("A kind of place the set allows")  # post offices only under 950
    QUALIFYING_BASIS = "qualifying_basis", _l("Every product on the shelf has a qualifying basis")
    CLEAN_SHELF = "clean_shelf", _l("No expired, recalled or withdrawn goods on the shelf")
    PRICES = "prices", _l("A price for everything on the shelf")
    OPERATOR = "operator", _l("Operator with a business registration number")
    OPEN_STATUS = "open_status", _l("The point is open")
    # params {"min_m2": N}; not applicable while no threshold is set
    FLOOR_AREA = "floor_area", _l("Floor area against a threshold")
    RECENT_SALES = "recent_sales", _l("Sales in the last days")  # params {"days": N}


class CriteriaSet(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), nullable=False, unique=True)  # "950/QĐ-BCT"
    title: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    decision_date: Mapped[date | None] = mapped_column(sa.Date)
    period_start: Mapped[date] = mapped_column(sa.Date, nullable=False)
    period_end: Mapped[date | None] = mapped_column(sa.Date)
    # Location types (shop.sales_points.models.LocationType values) that satisfy L-RULE under this set.
    allowed_location_types: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    criteria: Mapped[list["Criterion"]] = relationship(back_populates="criteria_set",
                                                       order_by="(Criterion.position, Criterion.id)")


class Criterion(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(sa.ForeignKey("criteria_set.id"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(sa.String(20), nullable=False)  # "L-01", "P-RULE"
    group: Mapped[CriterionGroup] = enum_column(CriterionGroup, nullable=False)
    requirement_vi: Mapped[str] = mapped_column(sa.Text, nullable=False)
    requirement_en: Mapped[str] = mapped_column(sa.Text, nullable=False)
    source: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    confirmed: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)  # C or U in the domain notes
    # Unconfirmed rows are advisory until an officer with the official text marks them binding.
    binding: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    check_kind: Mapped[CheckKind] = enum_column(CheckKind, nullable=False)
    auto_check: Mapped[AutoCheck | None] = enum_column(AutoCheck)
    params: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)

    criteria_set: Mapped[CriteriaSet] = relationship(back_populates="criteria")
    changes: Mapped[list["CriterionChange"]] = relationship(
        back_populates="criterion", order_by="(CriterionChange.changed_at.desc(), CriterionChange.id.desc())")

    __table_args__ = (
        sa.UniqueConstraint("set_id", "code", name="uq_criterion_set_code"),
        sa.CheckConstraint("(check_kind = 'evidence' AND auto_check IS NULL) OR check_kind <> 'evidence'",
                           name="evidence_only_has_no_auto_check"),
    )


class CriterionChange(db.Model):
    """Who changed what in a criterion: {field: [before, after]}."""

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criterion.id"), nullable=False, index=True)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    changes: Mapped[dict] = mapped_column(sa.JSON, nullable=False)

    criterion: Mapped[Criterion] = relationship(back_populates="changes")
    actor: Mapped[User] = relationship()


class AuditStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    SUBMITTED = "submitted", _l("Submitted")
    CONCLUDED = "concluded", _l("Concluded")


class Verdict(LabelledEnum):
    MEETS = "meets", _l("Meets the criteria")
    MEETS_WITH_CONDITIONS = "meets_with_conditions", _l("Meets the criteria with conditions")
    DOES_NOT_MEET = "does_not_meet", _l("Does not meet the criteria")


class Outcome(LabelledEnum):
    PASS = "pass", _l("Pass")
    FAIL = "fail", _l("Fail")
    NOT_APPLICABLE = "not_applicable", _l("Not applicable")


class Audit(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id"), nullable=False, index=True)
    set_id: Mapped[int] = mapped_column(sa.ForeignKey("criteria_set.id"), nullable=False)
    status: Mapped[AuditStatus] = enum_column(AuditStatus, nullable=False, default=AuditStatus.DRAFT)
    verdict: Mapped[Verdict | None] = enum_column(Verdict)
    summary: Mapped[str | None] = mapped_column(sa.Text)
    previous_audit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("audit.id"))  # a re-audit
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    concluded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    point: Mapped[SalesPoint] = relationship()
    criteria_set: Mapped[CriteriaSet] = relationship()
    previous_audit: Mapped["Audit | None"] = relationship(remote_side=[id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    concluded_by: Mapped[User | None] = relationship(foreign_keys=[concluded_by_id])
    results: Mapped[list["AuditResult"]] = relationship(back_populates="audit", order_by="AuditResult.id",
                                                        cascade="all, delete-orphan")
    findings: Mapped[list["AuditFinding"]] = relationship(back_populates="audit", order_by="AuditFinding.id",
                                                          cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("(status = 'concluded') = (verdict IS NOT NULL)", name="verdict_when_concluded"),
    )


class AuditResult(db.Model):
    """One criterion in one audit: what the automatic check found, and the officer's outcome."""

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(sa.ForeignKey("audit.id", ondelete="CASCADE"), nullable=False, index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criterion.id"), nullable=False)
    # Its own CHECK constraint name: two enum columns of one type in a table would otherwise share one.
    auto_outcome: Mapped[Outcome | None] = mapped_column(
        sa.Enum(Outcome, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e],
                create_constraint=True, name="auto_outcome", validate_strings=True))
    auto_detail: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)  # offenders, figures
    outcome: Mapped[Outcome | None] = enum_column(Outcome)
    note: Mapped[str | None] = mapped_column(sa.Text)

    audit: Mapped[Audit] = relationship(back_populates="results")
    criterion: Mapped[Criterion] = relationship()

    __table_args__ = (sa.UniqueConstraint("audit_id", "criterion_id", name="uq_audit_result_criterion"),)


class FindingStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class AuditFinding(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(sa.ForeignKey("audit.id", ondelete="CASCADE"), nullable=False, index=True)
    criterion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("criterion.id"))
    description: Mapped[str] = mapped_column(sa.Text, nullable=False)
    deadline: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[FindingStatus] = enum_column(FindingStatus, nullable=False, default=FindingStatus.OPEN)
    follow_up: Mapped[str | None] = mapped_column(sa.Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    audit: Mapped[Audit] = relationship(back_populates="findings")
    criterion: Mapped[Criterion | None] = relationship()


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


class Evidence(db.Model):
    """A photo or document for one criterion of a point, uploaded by an officer or submitted by the manager.
    Criteria are matched by code (L-01, S-01…) so the evidence serves every set and every re-audit."""

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id"), nullable=False, index=True)
    criterion_code: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    audit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("audit.id"))
    kind: Mapped[EvidenceKind] = enum_column(EvidenceKind, nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    original_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    stored_name: Mapped[str] = mapped_column(sa.String(80), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    size_bytes: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # from the photo's EXIF, when present
    latitude: Mapped[float | None] = mapped_column(sa.Float)          # from the photo's GPS EXIF
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    submitted_by_manager: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    point: Mapped[SalesPoint] = relationship()
    uploaded_by: Mapped[User] = relationship()

    __table_args__ = (sa.Index("ix_evidence_point_criterion", "point_id", "criterion_code"),)


class CheckSnapshot(db.Model):
    """The automatic checks of one point against one set on one run of `flask audit run`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(40), nullable=False, index=True)
    set_id: Mapped[int] = mapped_column(sa.ForeignKey("criteria_set.id"), nullable=False)
    point_id: Mapped[int] = mapped_column(sa.ForeignKey("sales_point.id"), nullable=False)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    passed: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    failed: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    results: Mapped[dict] = mapped_column(sa.JSON, nullable=False)  # {criterion code: {"outcome", "detail"}}

    point: Mapped[SalesPoint] = relationship()
    criteria_set: Mapped[CriteriaSet] = relationship()

    __table_args__ = (sa.Index("ix_check_snapshot_point_time", "point_id", "set_id", "taken_at"),)


class ProgrammeTarget(db.Model):
    """A target of the provincial OCOP programme (Decision 1698/QĐ-UBND), compared with a metric of the data."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), nullable=False, unique=True)
    programme: Mapped[str] = mapped_column(sa.String(120), nullable=False)  # "1698/QĐ-UBND 2021–2025"
    period_start: Mapped[date] = mapped_column(sa.Date, nullable=False)
    period_end: Mapped[date] = mapped_column(sa.Date, nullable=False)
    metric: Mapped[str] = mapped_column(sa.String(60), nullable=False)  # a key of audit.targets.METRICS
    target_value: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    description_vi: Mapped[str] = mapped_column(sa.Text, nullable=False)
    description_en: Mapped[str] = mapped_column(sa.Text, nullable=False)
    source: Mapped[str | None] = mapped_column(sa.String(300))

    __table_args__ = (sa.CheckConstraint("target_value >= 0", name="target_not_negative"),
                      sa.CheckConstraint("period_end >= period_start", name="target_period_order"))


class CertificateNotice(db.Model):
    """An expiry alert sent for a certificate at 90, 60 or 30 days: sent once per threshold."""

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificate.id"), nullable=False)
    days_before: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    recipients: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)

    __table_args__ = (sa.UniqueConstraint("certificate_id", "days_before", name="uq_certificate_notice"),)
