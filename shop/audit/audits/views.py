"""Audits of sales points for the trade department, under /department/audits: the list with filters, starting an
audit (or a re-audit of a concluded one), the audit page (results per criterion with the automatic checks and the
evidence, findings, submit, conclude) and the evidence files. Officers and admins only (area_guard). Each write is
one service call and one commit; a refusal re-renders the audit with the message (400) and changes nothing."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard
from shop.audit.audits import evidence as evidence_services
from shop.audit.audits import queries, services
from shop.audit.audits.forms import (
    ActionForm,
    ConcludeForm,
    EvidenceForm,
    FindingForm,
    ResolveForm,
    StartAuditForm,
    describe_detail,
    note_field_name,
    outcome_field_name,
    results_form_for,
)
from shop.audit.models import AuditStatus, CriterionGroup, Outcome, Verdict
from shop.core.errors import DomainError
from shop.core.unit_of_work import unit_of_work
from shop.web import form_status, id_arg, submit_form

bp = Blueprint("audits", __name__)
bp.before_request(area_guard(Role.TRADE_OFFICER))


@bp.context_processor
def labels():
    return {"audit_status_labels": AuditStatus.labels(), "verdict_labels": Verdict.labels(),
            "outcome_labels": Outcome.labels(), "group_labels": CriterionGroup.labels(),
            "describe_detail": describe_detail, "outcome_field_name": outcome_field_name,
            "note_field_name": note_field_name}


def _choice(enum, value):
    try:
        return enum(value) if value else None
    except ValueError:
        return None


def _audit(audit_id: int):
    audit = queries.get_audit(audit_id)
    if audit is None:
        abort(404)
    return audit


def _upload_dir() -> str:
    return current_app.config["UPLOAD_DIR"]


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale())


# ------------------------------------------------------------------------------------------------- the list

@bp.route("")
def audit_list():
    status = _choice(AuditStatus, request.args.get("status"))
    verdict = _choice(Verdict, request.args.get("verdict"))
    point_code = (request.args.get("point") or "").strip()[:40]
    set_id = id_arg("set")
    all_points = queries.points()
    point = next((p for p in all_points if p.code == point_code), None)
    criteria_set = queries.criteria_set_by_id(set_id) if set_id else None
    audits = queries.audit_list(status=status, verdict=verdict, point_id=point.id if point else None,
                                set_id=criteria_set.id if criteria_set else None)
    return render_template("audit/audits/list.html", audits=audits, status=status, verdict=verdict, point=point,
                           criteria_set=criteria_set, points=all_points, sets=queries.criteria_sets(),
                           counts=queries.count_by_status())


@bp.route("/new", methods=["GET", "POST"])
def audit_new():
    sets = queries.criteria_sets()
    all_points = queries.points()
    form = StartAuditForm(points=all_points, sets=sets)
    if request.method == "GET":
        chosen = next((p for p in all_points if p.code == request.args.get("point")), None)
        form.point_id.data = chosen.id if chosen else 0
    started = []

    def start():
        point = next((p for p in all_points if p.id == form.point_id.data), None)
        criteria_set = next((s for s in sets if s.id == form.set_id.data), None)
        if point is None:
            raise DomainError(_("Choose a sales point."), field="point_id")
        if criteria_set is None:
            raise DomainError(_("Choose a criteria set."), field="set_id")
        started.append(services.start_audit(point, criteria_set, current_user))

    if submit_form(form, start, success=_("The audit is started as a draft."), default_field="point_id"):
        return redirect(url_for(".audit_detail", audit_id=started[0].id))
    return render_template("audit/audits/new.html", form=form, sets=sets), form_status()


# ------------------------------------------------------------------------------------------------- one audit

def _render_detail(audit, *, results_form=None, finding_form=None, evidence_form=None, conclude_form=None,
                   resolve_error=None, action_error=None, status=200):
    codes = queries.criterion_choices()
    evidence_form = evidence_form or EvidenceForm(formdata=None, codes=codes, locale=_locale())
    return render_template(
        "audit/audits/detail.html", audit=audit, groups=queries.grouped_results(audit),
        evidence=queries.evidence_by_code(audit.point, audit), editable=audit.status != AuditStatus.CONCLUDED,
        results_form=results_form or results_form_for(audit),
        finding_form=finding_form or FindingForm(formdata=None, audit=audit),
        evidence_form=evidence_form, conclude_form=conclude_form or ConcludeForm(formdata=None),
        resolve_form=ResolveForm(formdata=None), resolve_error=resolve_error, action_form=ActionForm(formdata=None),
        action_error=action_error, missing=services.missing_outcomes(audit), next_audits=queries.next_audits(audit),
        audit_codes={r.criterion.code for r in audit.results}), status


@bp.route("/<int:audit_id>")
def audit_detail(audit_id: int):
    return _render_detail(_audit(audit_id))


@bp.route("/<int:audit_id>/results", methods=["POST"])
def audit_results(audit_id: int):
    audit = _audit(audit_id)
    form = results_form_for(audit, posted=True)
    if not form.validate_on_submit():
        return _render_detail(audit, results_form=form, action_error=_first_error(form), status=400)
    return _attempt(audit, lambda: services.record_results(audit, form.entries(), current_user),
                    _("The outcomes are saved."), "results-title", results_form=form)


def _first_error(form) -> str | None:
    return next((error for field in form for error in field.errors), None)


def _attempt(audit, action, success: str, anchor: str | None = None, **forms):
    """Run one service call for a button without fields: commit and go back to the audit, or show the refusal."""
    try:
        with unit_of_work():
            action()
    except DomainError as error:
        return _render_detail(_audit(audit.id), action_error=error.message, status=400, **forms)
    flash(success, "success")
    return redirect(url_for(".audit_detail", audit_id=audit.id, _anchor=anchor))


@bp.route("/<int:audit_id>/refresh", methods=["POST"])
def audit_refresh(audit_id: int):
    audit = _audit(audit_id)
    return _attempt(audit, lambda: services.refresh_automatic(audit, current_user),
                    _("The automatic checks are computed again from today's data."), "results-title")


@bp.route("/<int:audit_id>/submit", methods=["POST"])
def audit_submit(audit_id: int):
    audit = _audit(audit_id)
    return _attempt(audit, lambda: services.submit(audit, current_user), _("The audit is submitted."))


@bp.route("/<int:audit_id>/conclude", methods=["POST"])
def audit_conclude(audit_id: int):
    audit = _audit(audit_id)
    form = ConcludeForm()
    if submit_form(form, lambda: services.conclude(audit, form.verdict.data, form.summary.data, current_user),
                   success=_("The audit is concluded."), default_field="verdict"):
        return redirect(url_for(".audit_detail", audit_id=audit.id))
    return _render_detail(_audit(audit_id), conclude_form=form, status=400)


@bp.route("/<int:audit_id>/reaudit", methods=["POST"])
def audit_reaudit(audit_id: int):
    audit = _audit(audit_id)
    started = []
    response = _attempt(audit, lambda: started.append(services.start_audit(audit.point, audit.criteria_set,
                                                                           current_user, previous=audit)),
                        _("The re-audit is started as a draft."))
    if started and response.status_code == 302:
        return redirect(url_for(".audit_detail", audit_id=started[0].id))
    return response


# ------------------------------------------------------------------------------------------------- findings

@bp.route("/<int:audit_id>/findings", methods=["POST"])
def finding_add(audit_id: int):
    audit = _audit(audit_id)
    form = FindingForm(audit=audit)

    def add():
        result = next((r for r in audit.results if r.criterion_id == form.criterion_id.data), None)
        services.add_finding(audit, form.description.data, form.deadline.data,
                             result.criterion if result else None, actor=current_user)

    if submit_form(form, add, success=_("The finding is added."), default_field="description"):
        return redirect(url_for(".audit_detail", audit_id=audit.id, _anchor="findings-title"))
    return _render_detail(_audit(audit_id), finding_form=form, status=400)


@bp.route("/<int:audit_id>/findings/<int:finding_id>/resolve", methods=["POST"])
def finding_resolve(audit_id: int, finding_id: int):
    audit = _audit(audit_id)
    finding = queries.finding_of_audit(audit, finding_id)
    if finding is None:
        abort(404)
    form = ResolveForm()
    if submit_form(form, lambda: services.resolve_finding(finding, form.follow_up.data, current_user),
                   success=_("The finding is resolved."), default_field="follow_up"):
        return redirect(url_for(".audit_detail", audit_id=audit.id, _anchor="findings-title"))
    return _render_detail(_audit(audit_id), resolve_error=(finding_id, _first_error(form)), status=400)


# ------------------------------------------------------------------------------------------------- evidence

@bp.route("/<int:audit_id>/evidence", methods=["POST"])
def evidence_add(audit_id: int):
    audit = _audit(audit_id)
    form = EvidenceForm(codes=queries.criterion_choices(), locale=_locale())
    if submit_form(form, lambda: evidence_services.add_evidence(
            audit.point, form.criterion_code.data, form.file.data, form.title.data, current_user,
            upload_dir=_upload_dir(), audit=audit),
            success=_("The evidence is uploaded."), default_field="file"):
        return redirect(url_for(".audit_detail", audit_id=audit.id, _anchor="results-title"))
    return _render_detail(_audit(audit_id), evidence_form=form, status=400)


def send_evidence(evidence):
    """The stored file of a piece of evidence, shown in the browser (photos, PDFs) under its original name."""
    path = evidence_services.evidence_file(evidence, current_app.config["UPLOAD_DIR"])
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=evidence.content_type, download_name=evidence.original_name,
                         as_attachment=request.args.get("download") == "1", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/evidence/<int:evidence_id>")
def evidence_file(evidence_id: int):
    evidence = queries.get_evidence(evidence_id)
    if evidence is None:
        abort(404)
    return send_evidence(evidence)
