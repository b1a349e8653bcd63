"""Criteria sets of Decisions 920/950 and their edit history, under /department/criteria."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard
from shop.audit.criteria import services as service
from shop.audit.criteria.forms import (
    FIELD_LABELS,
    PARAM_LABELS,
    BindingForm,
    CriterionForm,
)
from shop.audit.models import AutoCheck, CheckKind, CriterionGroup
from shop.core.errors import DomainError
from shop.core.unit_of_work import unit_of_work
from shop.sales_points.models import LocationType
from shop.web import form_status, submit_form

bp = Blueprint("audit_criteria", __name__)
bp.before_request(area_guard(Role.TRADE_OFFICER))


def requirement(criterion) -> str:
    """The requirement in the page's language."""
    return criterion.requirement_en if str(get_locale()).startswith("en") else criterion.requirement_vi


@bp.context_processor
def labels():
    return {"group_labels": CriterionGroup.labels(), "check_kind_labels": CheckKind.labels(),
            "auto_check_labels": AutoCheck.labels(), "param_labels": PARAM_LABELS, "field_labels": FIELD_LABELS,
            "location_labels": LocationType.labels(), "requirement": requirement}


def _set(set_id: int):
    criteria_set = service.get_set(set_id)
    if criteria_set is None:
        abort(404)
    return criteria_set


def _criterion(criterion_id: int):
    criterion = service.get_criterion(criterion_id)
    if criterion is None:
        abort(404)
    return criterion


@bp.route("")
def set_list():
    sets = service.list_sets()
    return render_template("audit/criteria/set_list.html", sets=sets, counts={
        s.id: (len(s.criteria), sum(1 for c in s.criteria if c.binding)) for s in sets})


@bp.route("/<int:set_id>")
def set_detail(set_id: int):
    criteria_set = _set(set_id)
    return render_template("audit/criteria/set_detail.html", criteria_set=criteria_set,
                           criteria=service.criteria_of(criteria_set), binding_form=BindingForm(formdata=None))


@bp.route("/criterion/<int:criterion_id>/edit", methods=["GET", "POST"])
def criterion_edit(criterion_id: int):
    criterion = _criterion(criterion_id)
    form = CriterionForm(obj=criterion)
    if request.method == "GET":
        form.check_kind.data = criterion.check_kind.value
        form.auto_check.data = criterion.auto_check.value if criterion.auto_check else ""
        form.fill_params(criterion.params)
    if submit_form(form, lambda: service.update_criterion(criterion, current_user,
                                                         **form.values(criterion.auto_check)),
                   success=_("The criterion is saved."), default_field="requirement_vi"):
        return redirect(url_for(".set_detail", set_id=criterion.set_id, _anchor=f"criterion-{criterion.id}"))
    return render_template("audit/criteria/criterion_form.html", criterion=criterion, form=form,
                           param_fields=form.param_fields(criterion.auto_check),
                           history=service.history_of(criterion)), form_status()


@bp.route("/criterion/<int:criterion_id>/binding", methods=["POST"])
def criterion_binding(criterion_id: int):
    criterion = _criterion(criterion_id)
    form = BindingForm()
    if not form.validate_on_submit() or form.binding.data not in ("0", "1"):
        abort(400)
    try:
        with unit_of_work():
            service.set_binding(criterion, form.binding.data == "1", current_user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for(".set_detail", set_id=criterion.set_id))
    flash(_("%(code)s is now binding.", code=criterion.code) if criterion.binding
          else _("%(code)s is now advisory.", code=criterion.code), "success")
    return redirect(url_for(".set_detail", set_id=criterion.set_id, _anchor=f"criterion-{criterion.id}"))
