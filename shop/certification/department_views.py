"""The trade department's record of qualifying bases other than a certificate (criteria P-02…P-04)."""
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard
from shop.catalog.models import Product
from shop.certification import queries, services
from shop.certification.forms import BASIS_STATUS_LABELS, BasisForm, RevokeForm
from shop.certification.models import BASIS_CRITERION_CODES, BasisCriterion
from shop.core.clock import today
from shop.extensions import db
from shop.web import form_status, submit_form

bp = Blueprint("certification_department", __name__)
bp.before_request(area_guard(Role.TRADE_OFFICER))


@bp.context_processor
def labels():
    return {"criterion_labels": BasisCriterion.labels(), "criterion_codes": BASIS_CRITERION_CODES,
            "basis_status_labels": BASIS_STATUS_LABELS, "basis_status": queries.basis_status}


def _render_list(revoke_form=None, revoke_id=None, status=200):
    chosen = request.args.get("status")
    chosen = chosen if chosen in queries.BASIS_STATUSES else None
    day = today()
    return render_template("certification/department/basis_list.html", day=day, chosen=chosen,
                           bases=queries.basis_register(day, chosen), statuses=queries.BASIS_STATUSES,
                           revoke_form=revoke_form, revoke_id=revoke_id), status


@bp.route("")
def basis_list():
    return _render_list()


@bp.route("/new", methods=["GET", "POST"])
def basis_new():
    form = BasisForm()
    search = (request.args.get("q") or "").strip()[:100]
    chosen_id = form.product.data if request.method == "POST" else None
    form.set_products(queries.basis_candidates(today(), search, include_id=chosen_id))
    if submit_form(form, lambda: services.record_basis(
            db.session.get(Product, form.product.data), criterion=form.criterion.data,
            reference=form.reference.data, justification=form.justification.data,
            valid_from=form.valid_from.data, valid_until=form.valid_until.data, actor=current_user),
            success=_("The qualifying basis is recorded."), default_field="product"):
        return redirect(url_for(".basis_list"))
    return render_template("certification/department/basis_form.html", form=form, search=search), form_status()


@bp.route("/<int:basis_id>/revoke", methods=["POST"])
def basis_revoke(basis_id: int):
    basis = queries.get_basis(basis_id)
    if basis is None:
        abort(404)
    form = RevokeForm()
    if submit_form(form, lambda: services.revoke_basis(basis, reason=form.reason.data, actor=current_user),
                   success=_("The qualifying basis is revoked."), default_field="reason"):
        return redirect(url_for(".basis_list"))
    return _render_list(revoke_form=form, revoke_id=basis_id, status=400)
