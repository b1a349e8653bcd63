"""The trade department decides on producers' changes of a certified product's name or group: the requests
waiting, the history, one request with its before and after, approve or reject (with a note).
Blueprint "change_requests_department", prefix /department/changes (set here: registering needs no prefix)."""
from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard
from shop.catalog.groups import GROUPS, SUBGROUPS
from shop.certification import change_requests
from shop.certification.queries import current_certificate
from shop.core.clock import today
from shop.core.forms import at_most, required
from shop.web import submit_form

bp = Blueprint("change_requests_department", __name__, url_prefix="/department/changes")
bp.before_request(area_guard(Role.TRADE_OFFICER))

FIELD_LABELS = {"name": _l("Product name"), "group_code": _l("OCOP group"), "subgroup_code": _l("OCOP sub-group")}


class ApproveForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[at_most(2000)])


class RejectForm(FlaskForm):
    note = TextAreaField(_l("Why the change is rejected"), validators=[required(), at_most(2000)])


def field_value(field: str, value) -> str:
    """A stored value as people read it: group codes with their names."""
    if value is None or value == "":
        return "—"
    table = {"group_code": GROUPS, "subgroup_code": SUBGROUPS}.get(field)
    if table and value in table:
        return f"{value} · {table[value].label(str(get_locale()))}"
    return str(value)


@bp.context_processor
def labels():
    return {"field_labels": FIELD_LABELS, "field_value": field_value}


@bp.route("")
def change_list():
    pending, decided = change_requests.pending_requests(), change_requests.decided_requests()
    return render_template("certification/changes/list.html", pending=pending, decided=decided,
                           people=change_requests.people_of(pending + decided))


def _request_or_404(request_id: int):
    change = change_requests.get(request_id)
    if change is None:
        abort(404)
    return change


def _render_detail(change, approve_form=None, reject_form=None, status=200):
    return render_template("certification/changes/detail.html", change=change,
                           certificate=current_certificate(change.product_id, today()),
                           people=change_requests.people_of([change]),
                           approve_form=approve_form or ApproveForm(prefix="approve", formdata=None),
                           reject_form=reject_form or RejectForm(prefix="reject", formdata=None)), status


@bp.route("/<int:request_id>")
def change_detail(request_id: int):
    return _render_detail(_request_or_404(request_id))


@bp.route("/<int:request_id>/approve", methods=["POST"])
def change_approve(request_id: int):
    change = _request_or_404(request_id)
    form = ApproveForm(prefix="approve")
    if submit_form(form, lambda: change_requests.approve(change, current_user, form.note.data),
                   success=_("The change is approved and now shows in the catalogue."), default_field="note"):
        return redirect(url_for(".change_detail", request_id=change.id))
    return _render_detail(change, approve_form=form, status=400)


@bp.route("/<int:request_id>/reject", methods=["POST"])
def change_reject(request_id: int):
    change = _request_or_404(request_id)
    form = RejectForm(prefix="reject")
    if submit_form(form, lambda: change_requests.reject(change, current_user, form.note.data),
                   success=_("The change is rejected."), default_field="note"):
        return redirect(url_for(".change_detail", request_id=change.id))
    return _render_detail(change, reject_form=form, status=400)
