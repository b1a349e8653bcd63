"""A point manager's view of their point's audits and evidence submissions, under /manage/points/<code>: the
submitted and concluded audits (read only, with findings and deadlines) and a form to submit evidence per criterion.
point_area_guard checks the point in the URL first: a manager of another point gets 403, trade officers read but
cannot post (they upload in the department's pages)."""
from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from shop.audit.audits import evidence as evidence_services
from shop.audit.audits import queries
from shop.audit.audits.forms import (
    EvidenceForm,
    describe_detail,
)
from shop.audit.audits.views import send_evidence
from shop.audit.models import AuditStatus, CriterionGroup, Outcome, Verdict
from shop.sales_points.access import can_change, point_area_guard, point_from_url
from shop.web import form_status, submit_form

bp = Blueprint("point_audits", __name__)
bp.before_request(point_area_guard)

VISIBLE = (AuditStatus.SUBMITTED, AuditStatus.CONCLUDED)


@bp.context_processor
def labels():
    return {"audit_status_labels": AuditStatus.labels(), "verdict_labels": Verdict.labels(),
            "outcome_labels": Outcome.labels(), "group_labels": CriterionGroup.labels(),
            "describe_detail": describe_detail}


def _evidence_form(formdata=None):
    codes = queries.criterion_choices()
    if formdata is None:
        return EvidenceForm(formdata=None, codes=codes, locale=str(get_locale()))
    return EvidenceForm(codes=codes, locale=str(get_locale()))


def _render_audits(point, form=None, status=200):
    return render_template("audit/point/audits.html", point=point, audits=queries.audits_of_point(point, VISIBLE),
                           evidence=queries.recent_evidence(point), form=form or _evidence_form(),
                           may_change=can_change(current_user, point)), status


@bp.route("/<code>/audits")
def audits(code: str):
    return _render_audits(point_from_url(code))


@bp.route("/<code>/audits/<int:audit_id>")
def audit(code: str, audit_id: int):
    point = point_from_url(code)
    found = queries.audit_of_point(point, audit_id, VISIBLE)
    if found is None:
        abort(404)
    return render_template("audit/point/audit.html", point=point, audit=found, groups=queries.grouped_results(found),
                           evidence=queries.evidence_by_code(point, found))


@bp.route("/<code>/evidence", methods=["POST"])
def evidence_submit(code: str):
    point = point_from_url(code)
    form = _evidence_form(formdata=True)
    if submit_form(form, lambda: evidence_services.add_evidence(
            point, form.criterion_code.data, form.file.data, form.title.data, current_user,
            upload_dir=current_app.config["UPLOAD_DIR"], submitted_by_manager=True),
            success=_("Thank you: the evidence is submitted to the trade department."), default_field="file"):
        return redirect(url_for(".audits", code=point.code, _anchor="evidence-title"))
    return _render_audits(point, form=form, status=form_status())


@bp.route("/<code>/evidence/<int:evidence_id>")
def evidence_file(code: str, evidence_id: int):
    point = point_from_url(code)
    evidence = queries.evidence_of_point(point, evidence_id)
    if evidence is None:
        abort(404)
    return send_evidence(evidence)
