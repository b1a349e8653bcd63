"""Reads for audits and evidence: the department's list with filters, one audit grouped for its page, a point's
audits as its manager sees them, the evidence of a point per criterion code."""
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from shop.audit.models import (
    Audit,
    AuditFinding,
    AuditResult,
    AuditStatus,
    CriteriaSet,
    Criterion,
    CriterionGroup,
    Evidence,
    Verdict,
)
from shop.extensions import db
from shop.sales_points.models import PointTier, SalesPoint

AUDITS_LIMIT = 500


def criteria_sets() -> list[CriteriaSet]:
    """Every set, the newest period first."""
    return list(db.session.scalars(sa.select(CriteriaSet).order_by(CriteriaSet.period_start.desc(), CriteriaSet.id)))


def criteria_set_by_id(set_id: int) -> CriteriaSet | None:
    return db.session.get(CriteriaSet, set_id)


def criteria_set_by_code(code: str) -> CriteriaSet | None:
    return db.session.scalar(sa.select(CriteriaSet).where(CriteriaSet.code == code))


def points() -> list[SalesPoint]:
    """Every registered point, the provincial centre first."""
    return list(db.session.scalars(sa.select(SalesPoint).order_by(SalesPoint.tier != PointTier.CENTRE,
                                                                   SalesPoint.code)))


def criterion_choices() -> list[tuple[str, str, str]]:
    """(code, requirement_vi, requirement_en) of every criterion code of any set, once per code (the newest set's
    wording), in code order."""
    rows = db.session.execute(
        sa.select(Criterion.code, Criterion.requirement_vi, Criterion.requirement_en)
        .join(CriteriaSet, CriteriaSet.id == Criterion.set_id)
        .order_by(Criterion.code, CriteriaSet.period_start.desc(), Criterion.id)).all()
    seen, choices = set(), []
    for code, vi, en in rows:
        if code not in seen:
            seen.add(code)
            choices.append((code, vi, en))
    return choices


def audit_list(*, status: AuditStatus | None = None, verdict: Verdict | None = None, point_id: int | None = None,
               set_id: int | None = None, limit: int = AUDITS_LIMIT) -> list[Audit]:
    """Audits matching the filters, the newest first."""
    query = (sa.select(Audit).options(selectinload(Audit.point), selectinload(Audit.criteria_set))
             .order_by(Audit.created_at.desc(), Audit.id.desc()).limit(limit))
    if status is not None:
        query = query.where(Audit.status == status)
    if verdict is not None:
        query = query.where(Audit.verdict == verdict)
    if point_id is not None:
        query = query.where(Audit.point_id == point_id)
    if set_id is not None:
        query = query.where(Audit.set_id == set_id)
    return list(db.session.scalars(query))


def count_by_status() -> dict[AuditStatus, int]:
    counts = dict(db.session.execute(sa.select(Audit.status, sa.func.count(Audit.id)).group_by(Audit.status)).all())
    return {status: counts.get(status, 0) for status in AuditStatus}


def get_audit(audit_id: int) -> Audit | None:
    return db.session.scalar(
        sa.select(Audit).where(Audit.id == audit_id)
        .options(selectinload(Audit.results).selectinload(AuditResult.criterion),
                 selectinload(Audit.findings).selectinload(AuditFinding.criterion)))


def audit_of_point(point: SalesPoint, audit_id: int, statuses=None) -> Audit | None:
    """An audit of this point (another point's audit id is not found), in one of `statuses` when given."""
    audit = get_audit(audit_id)
    if audit is None or audit.point_id != point.id:
        return None
    if statuses is not None and audit.status not in statuses:
        return None
    return audit


def finding_of_audit(audit: Audit, finding_id: int) -> AuditFinding | None:
    return next((finding for finding in audit.findings if finding.id == finding_id), None)


def audits_of_point(point: SalesPoint, statuses=None) -> list[Audit]:
    query = (sa.select(Audit).where(Audit.point_id == point.id).options(selectinload(Audit.criteria_set),
                                                                         selectinload(Audit.findings))
             .order_by(Audit.created_at.desc(), Audit.id.desc()))
    if statuses is not None:
        query = query.where(Audit.status.in_(list(statuses)))
    return list(db.session.scalars(query))


def next_audits(audit: Audit) -> list[Audit]:
    """The re-audits that follow this audit."""
    return list(db.session.scalars(sa.select(Audit).where(Audit.previous_audit_id == audit.id).order_by(Audit.id)))


@dataclass
class GroupRows:
    group: CriterionGroup
    results: list[AuditResult]


def grouped_results(audit: Audit) -> list[GroupRows]:
    """The audit's results grouped by criterion group (location, product, …), each in the set's order."""
    groups: dict[CriterionGroup, list[AuditResult]] = defaultdict(list)
    for result in audit.results:
        groups[result.criterion.group].append(result)
    order = list(CriterionGroup)
    return [GroupRows(group, sorted(rows, key=lambda r: (r.criterion.position, r.criterion.id)))
            for group, rows in sorted(groups.items(), key=lambda item: order.index(item[0]))]


def evidence_by_code(point: SalesPoint, audit: Audit | None = None) -> dict[str, list[Evidence]]:
    """The point's evidence per criterion code, newest first. For a concluded audit, only what had been uploaded
    when it was concluded (what the verdict rested on)."""
    query = sa.select(Evidence).where(Evidence.point_id == point.id)
    if audit is not None and audit.concluded_at is not None:
        query = query.where(Evidence.uploaded_at <= audit.concluded_at)
    result: dict[str, list[Evidence]] = defaultdict(list)
    for evidence in db.session.scalars(query.order_by(Evidence.uploaded_at.desc(), Evidence.id.desc())):
        result[evidence.criterion_code].append(evidence)
    return dict(result)


def evidence_of_point(point: SalesPoint, evidence_id: int) -> Evidence | None:
    """A piece of evidence of this point; another point's id is not found."""
    evidence = db.session.get(Evidence, evidence_id)
    return evidence if evidence is not None and evidence.point_id == point.id else None


def get_evidence(evidence_id: int) -> Evidence | None:
    return db.session.get(Evidence, evidence_id)


def recent_evidence(point: SalesPoint, limit: int = 50) -> list[Evidence]:
    return list(db.session.scalars(sa.select(Evidence).where(Evidence.point_id == point.id)
                                   .order_by(Evidence.uploaded_at.desc(), Evidence.id.desc()).limit(limit)))
