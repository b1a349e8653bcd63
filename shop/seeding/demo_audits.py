"""The demo audits: one concluded audit of the provincial centre (DN-TT-01) against Decision 950/QĐ-BCT, with
findings and a verdict, and one draft of Xuân Lộc (DN-XL-01) that the demo officer can take on. Written through the
audit services (so the automatic checks are prefilled from the demo data) after the criteria sets are seeded.
Idempotent: a point that already has an audit against the set gets no other."""
from datetime import timedelta

import sqlalchemy as sa

from shop.accounts.models import Role, User
from shop.accounts.services import get_user_by_email
from shop.audit.audits import queries, services
from shop.audit.models import Audit, Outcome, Verdict
from shop.core.clock import today
from shop.extensions import db
from shop.sales_points.queries import get_by_code

DEMO_SET = "950/QĐ-BCT"
OFFICER = "officer@demo.ocop.vn"
CONCLUDED_POINT = "DN-TT-01"
DRAFT_POINT = "DN-XL-01"
# The kinds of place (L-01…L-08): the centre stands in one of them, the others do not apply.
PLACE_CODES = {"L-01", "L-02", "L-03", "L-04", "L-05", "L-05b", "L-06", "L-06b", "L-07", "L-08"}
CENTRE_PLACE = "L-06b"


def seed_demo_audits(report) -> None:
    criteria_set = queries.criteria_set_by_code(DEMO_SET)
    if criteria_set is None or not criteria_set.criteria:
        return
    officer = get_user_by_email(OFFICER) or db.session.scalar(
        sa.select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1))
    if officer is None:
        return
    centre = get_by_code(CONCLUDED_POINT)
    if centre is not None and not _audited(centre, criteria_set):
        _concluded_audit(centre, criteria_set, officer)
        report.created["audits"] += 1
    point = get_by_code(DRAFT_POINT)
    if point is not None and not _audited(point, criteria_set):
        services.start_audit(point, criteria_set, officer)
        report.created["audits"] += 1


def _audited(point, criteria_set) -> bool:
    return db.session.scalar(sa.select(Audit.id).where(Audit.point_id == point.id, Audit.set_id == criteria_set.id)
                             .limit(1)) is not None


def _concluded_audit(point, criteria_set, officer) -> Audit:
    audit = services.start_audit(point, criteria_set, officer)
    entries, failed = {}, []
    for result in audit.results:
        code = result.criterion.code
        if code in PLACE_CODES:
            outcome = Outcome.PASS if code == CENTRE_PLACE else Outcome.NOT_APPLICABLE
            note = "Trung tâm nằm trong khu dịch vụ thương mại." if code == CENTRE_PLACE else None
        elif result.auto_outcome is not None:
            outcome, note = result.auto_outcome, "Theo kết quả kiểm tra tự động, đã đối chiếu tại chỗ."
        else:
            outcome, note = Outcome.PASS, "Đã kiểm tra tại chỗ."
        if outcome == Outcome.FAIL:
            failed.append(result.criterion)
        entries[result.criterion_id] = (outcome, note)
    services.record_results(audit, entries, officer)
    deadline = today() + timedelta(days=45)
    for criterion in failed:
        services.add_finding(audit, f"Khắc phục tiêu chí {criterion.code} trước hạn.", deadline, criterion,
                             actor=officer)
    signage = next((r.criterion for r in audit.results if r.criterion.code == "S-01"), None)
    services.add_finding(audit, "Thay biển hiệu theo mẫu thiết kế của Bộ Công Thương (Quyết định 3041/QĐ-BCT).",
                         deadline, signage, actor=officer)
    services.submit(audit, officer)
    services.conclude(audit, Verdict.MEETS_WITH_CONDITIONS,
                      "Trung tâm đạt tiêu chí, với điều kiện khắc phục các phát hiện trước hạn.", officer)
    return audit
