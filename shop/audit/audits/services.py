"""Audits of a sales point against a criteria set: draft → submitted → concluded with a verdict.

A draft holds one result per criterion of the set, prefilled with what the automatic checks found; officers record
the outcome of each criterion (pass, fail or not applicable) with a note, add findings with deadlines, submit, and
conclude with a verdict. A concluded audit is never changed (results, verdict, summary): a correction is a new audit
started with `previous=` the concluded one. Findings can still be followed up and resolved after the conclusion —
that is what they are for — without touching the audit's results or verdict."""
from collections.abc import Callable, Mapping
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from shop.audit.checks import automatic as checks
from shop.audit.models import (
    Audit,
    AuditFinding,
    AuditResult,
    AuditStatus,
    CriteriaSet,
    Criterion,
    FindingStatus,
    Outcome,
    Verdict,
)
from shop.core import audit_trail
from shop.core.clock import today
from shop.core.errors import Conflict, DomainError
from shop.core.models import utcnow
from shop.core.state import compare_and_set
from shop.core.text import nfc
from shop.extensions import db

RunChecks = Callable[..., Mapping]
NOTE_MAX = 2000


def automatic_results(point, criteria_set: CriteriaSet, day: date | None = None,
                      run_checks: RunChecks | None = None) -> dict:
    """{criterion code: CheckResult(outcome, detail)} of the automatic checks (shop.audit.checks.automatic by
    default)."""
    run = run_checks or checks.run_checks
    return dict(run(point, criteria_set, day or today()) or {})


def _plain_detail(detail) -> dict:
    """A check's detail as JSON-ready data (dates and enums as text)."""
    if detail is None:
        return {}
    if isinstance(detail, Mapping):
        return {str(key): _plain_value(value) for key, value in detail.items()}
    return {"detail": _plain_value(detail)}


def _plain_value(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(key): _plain_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain_value(item) for item in value]
    return str(value)


def _outcome(value) -> Outcome | None:
    if value is None or value == "":
        return None
    try:
        return Outcome(value)
    except ValueError:
        raise DomainError(str(_l("Choose pass, fail or not applicable.")), field="outcome", code="bad_outcome") \
            from None


def _apply_checks(audit: Audit, found: Mapping) -> None:
    for result in audit.results:
        criterion = result.criterion
        check = found.get(criterion.code) if criterion.auto_check is not None else None
        if check is None:
            result.auto_outcome, result.auto_detail = None, {}
            continue
        result.auto_outcome = _outcome(getattr(check, "outcome", None))
        result.auto_detail = _plain_detail(getattr(check, "detail", None))


# ------------------------------------------------------------------------------------------------- guards

def _concluded() -> Conflict:
    return Conflict(str(_l("This audit is concluded and cannot be changed. Start a re-audit to correct it.")),
                    code="audit_concluded")


def _refuse_concluded(audit: Audit) -> None:
    if audit.status == AuditStatus.CONCLUDED:
        raise _concluded()


def _in_progress(point_id: int, set_id: int) -> Audit | None:
    return db.session.scalar(sa.select(Audit).where(
        Audit.point_id == point_id, Audit.set_id == set_id,
        Audit.status.in_([AuditStatus.DRAFT, AuditStatus.SUBMITTED])).order_by(Audit.id).limit(1))


# ------------------------------------------------------------------------------------------------- use cases

def start_audit(point, criteria_set: CriteriaSet, actor, previous: Audit | None = None, *,
                run_checks: RunChecks | None = None, day: date | None = None) -> Audit:
    """A draft audit of `point` against `criteria_set`, one result per criterion, the automatic checks prefilled.
    `previous` makes it a re-audit: it must be a concluded audit of the same point."""
    if previous is not None:
        if previous.point_id != point.id:
            raise DomainError(str(_l("A re-audit must be of the same sales point as the audit it follows.")),
                              field="previous", code="reaudit_other_point")
        if previous.status != AuditStatus.CONCLUDED:
            raise Conflict(str(_l("Only a concluded audit can be re-audited; finish this one instead.")),
                           field="previous", code="reaudit_not_concluded")
    if not criteria_set.criteria:
        raise DomainError(str(_l("This criteria set has no criteria yet.")), field="criteria_set",
                          code="empty_criteria_set")
    running = _in_progress(point.id, criteria_set.id)
    if running is not None:
        raise Conflict(str(_l("An audit of %(point)s against %(set)s is already in progress (audit no. %(id)s).",
                              point=point.code, set=criteria_set.code, id=running.id)),
                       field="point", code="audit_in_progress")
    audit = Audit(point=point, criteria_set=criteria_set, status=AuditStatus.DRAFT, created_by_id=actor.id,
                  previous_audit=previous)
    db.session.add(audit)
    for criterion in criteria_set.criteria:
        audit.results.append(AuditResult(criterion=criterion, auto_detail={}))
    _apply_checks(audit, automatic_results(point, criteria_set, day, run_checks))
    db.session.flush()
    audit_trail.record("audit.started", audit, actor=actor, point=point.code, criteria_set=criteria_set.code,
                       previous_audit=previous.id if previous else None)
    return audit


def refresh_automatic(audit: Audit, actor=None, *, run_checks: RunChecks | None = None,
                      day: date | None = None) -> Audit:
    """Run the automatic checks again on a draft (the point may have fixed its shelf since it was started)."""
    _refuse_concluded(audit)
    if audit.status != AuditStatus.DRAFT:
        raise Conflict(str(_l("The automatic checks can be refreshed only while the audit is a draft.")),
                       code="audit_not_draft")
    _apply_checks(audit, automatic_results(audit.point, audit.criteria_set, day, run_checks))
    db.session.flush()
    audit_trail.record("audit.checks_refreshed", audit, actor=actor)
    return audit


def _result_of(audit: Audit, criterion: Criterion) -> AuditResult:
    result = next((r for r in audit.results if r.criterion_id == criterion.id), None)
    if result is None:
        raise DomainError(str(_l("This criterion is not part of the audit's criteria set.")), field="criterion",
                          code="criterion_not_in_audit")
    return result


def record_result(audit: Audit, criterion: Criterion, outcome, note: str | None, actor) -> AuditResult:
    """The officer's outcome (pass, fail, not applicable or none yet) and note for one criterion."""
    return record_results(audit, {criterion.id: (outcome, note)}, actor)[0]


def record_results(audit: Audit, entries: Mapping[int, tuple], actor) -> list[AuditResult]:
    """Several outcomes at once: {criterion id: (outcome or None, note)}. Draft and submitted audits only."""
    _refuse_concluded(audit)
    by_criterion = {result.criterion_id: result for result in audit.results}
    changed, saved = {}, []
    for criterion_id, (outcome, note) in entries.items():
        result = by_criterion.get(criterion_id)
        if result is None:
            raise DomainError(str(_l("This criterion is not part of the audit's criteria set.")), field="criterion",
                              code="criterion_not_in_audit")
        outcome = _outcome(outcome)
        note = nfc((note or "").strip())[:NOTE_MAX] or None
        if audit.status == AuditStatus.SUBMITTED and outcome is None and result.criterion.binding:
            raise DomainError(str(_l("%(code)s is binding: a submitted audit keeps an outcome for it.",
                                     code=result.criterion.code)), field="outcome", code="missing_outcomes")
        if (result.outcome, result.note) != (outcome, note):
            changed[result.criterion.code] = [str(result.outcome or ""), str(outcome or "")]
            result.outcome, result.note = outcome, note
        saved.append(result)
    db.session.flush()
    if changed:
        audit_trail.record("audit.results_recorded", audit, actor=actor, changes=changed)
    return saved


def add_finding(audit: Audit, description: str, deadline: date | None, criterion: Criterion | None = None, *,
                actor=None, day: date | None = None) -> AuditFinding:
    """Something the point must put right, by a deadline, while the audit is still open."""
    _refuse_concluded(audit)
    description = nfc((description or "").strip())
    if not description:
        raise DomainError(str(_l("Describe the finding.")), field="description", code="finding_empty")
    if deadline is not None and deadline < (day or today()):
        raise DomainError(str(_l("The deadline cannot be in the past.")), field="deadline", code="deadline_past")
    if criterion is not None:
        _result_of(audit, criterion)
    finding = AuditFinding(description=description, deadline=deadline, status=FindingStatus.OPEN,
                           criterion=criterion)
    audit.findings.append(finding)
    db.session.flush()
    audit_trail.record("audit.finding_added", audit, actor=actor, finding=finding.id,
                       criterion=criterion.code if criterion else None, deadline=deadline)
    return finding


def resolve_finding(finding: AuditFinding, follow_up: str, actor) -> AuditFinding:
    """The follow-up that closes a finding: allowed after the conclusion too (the audit itself does not change)."""
    if finding.status == FindingStatus.RESOLVED:
        raise Conflict(str(_l("This finding is already resolved.")), field="follow_up", code="finding_resolved")
    follow_up = nfc((follow_up or "").strip())
    if not follow_up:
        raise DomainError(str(_l("Say what was done about the finding.")), field="follow_up",
                          code="follow_up_empty")
    finding.status, finding.follow_up, finding.resolved_at = FindingStatus.RESOLVED, follow_up, utcnow()
    db.session.flush()
    audit_trail.record("audit.finding_resolved", finding.audit, actor=actor, finding=finding.id)
    return finding


def missing_outcomes(audit: Audit) -> list[str]:
    """Codes of the binding criteria that have no outcome yet."""
    return [r.criterion.code for r in sorted(audit.results, key=lambda r: (r.criterion.position, r.criterion.id))
            if r.criterion.binding and r.outcome is None]


def submit(audit: Audit, actor) -> Audit:
    """Draft → submitted, once every binding criterion has an outcome (advisory ones may stay open)."""
    _refuse_concluded(audit)
    not_draft = Conflict(str(_l("This audit is already submitted.")), code="audit_not_draft")
    if audit.status != AuditStatus.DRAFT:
        raise not_draft
    missing = missing_outcomes(audit)
    if missing:
        raise DomainError(str(_l("Record an outcome for every binding criterion first. Missing: %(codes)s.",
                                 codes=", ".join(missing))), field="outcome", code="missing_outcomes")
    compare_and_set(audit, not_draft, expected={"status": AuditStatus.DRAFT}, status=AuditStatus.SUBMITTED,
                    submitted_at=utcnow())
    db.session.flush()
    audit_trail.record("audit.submitted", audit, actor=actor)
    return audit


def conclude(audit: Audit, verdict, summary: str | None, actor) -> Audit:
    """Submitted → concluded with a verdict. "Meets" is refused while a binding criterion failed; "meets with
    conditions" needs at least one open finding with a deadline (the conditions)."""
    _refuse_concluded(audit)
    not_submitted = Conflict(str(_l("Submit the audit before concluding it.")), field="verdict",
                             code="audit_not_submitted")
    if audit.status != AuditStatus.SUBMITTED:
        raise not_submitted
    if not verdict:
        raise DomainError(str(_l("Choose a verdict.")), field="verdict", code="verdict_required")
    try:
        verdict = Verdict(verdict)
    except ValueError:
        raise DomainError(str(_l("Choose a verdict.")), field="verdict", code="verdict_required") from None
    missing = missing_outcomes(audit)
    if missing:
        raise DomainError(str(_l("Record an outcome for every binding criterion first. Missing: %(codes)s.",
                                 codes=", ".join(missing))), field="verdict", code="missing_outcomes")
    failed = [r.criterion.code for r in audit.results if r.criterion.binding and r.outcome == Outcome.FAIL]
    if verdict == Verdict.MEETS and failed:
        raise DomainError(str(_l("The point cannot meet the criteria while binding criteria failed: %(codes)s.",
                                 codes=", ".join(sorted(failed)))), field="verdict", code="binding_failed")
    if verdict == Verdict.MEETS_WITH_CONDITIONS and not any(
            f.status == FindingStatus.OPEN and f.deadline is not None for f in audit.findings):
        raise DomainError(str(_l("Meeting with conditions needs at least one open finding with a deadline: "
                                 "add the conditions as findings first.")), field="verdict",
                          code="conditions_required")
    # The loser of two conclusions at once is told what a stale page would be told: it is concluded.
    compare_and_set(audit, _concluded(), expected={"status": AuditStatus.SUBMITTED}, status=AuditStatus.CONCLUDED,
                    verdict=verdict, summary=nfc((summary or "").strip()) or None, concluded_at=utcnow(),
                    concluded_by_id=actor.id)
    db.session.flush()
    audit_trail.record("audit.concluded", audit, actor=actor, verdict=verdict.value, failed=failed)
    return audit

