"""The trade department's registry of sales points: list, create, edit, status history, managers and photos."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.accounts.models import Role, User
from shop.accounts.permissions import area_guard
from shop.core import admin_units
from shop.core.errors import DomainError
from shop.core.unit_of_work import unit_of_work
from shop.extensions import db
from shop.sales_points import queries, services
from shop.sales_points.forms import (
    ManagerForm,
    PhotoForm,
    PhotoMoveForm,
    PointForm,
    StatusForm,
)
from shop.sales_points.models import LocationType, OperatorKind, PointPhoto, PointStatus, PointTier
from shop.web import form_status, submit_form

bp = Blueprint("sales_points_department", __name__)
bp.before_request(area_guard(Role.TRADE_OFFICER))


@bp.context_processor
def labels():
    return {"tier_labels": PointTier.labels(), "status_labels": PointStatus.labels(),
            "location_labels": LocationType.labels(), "operator_labels": OperatorKind.labels(),
            "ward_name": admin_units.ward_name, "province_name": admin_units.province_name,
            "district_name": admin_units.former_district_name}


def _point(code: str):
    point = queries.get_by_code(code)
    if point is None:
        abort(404)
    return point


def _home_province() -> int:
    return current_app.config["HOME_PROVINCE_CODE"]


def _choice(enum, value):
    try:
        return enum(value) if value else None
    except ValueError:
        return None


@bp.route("")
def point_list():
    tier = _choice(PointTier, request.args.get("tier"))
    status = _choice(PointStatus, request.args.get("status"))
    district = request.args.get("district") if request.args.get("district") in admin_units.FORMER_DISTRICTS else None
    points = queries.registry(tier=tier, status=status, former_district=district)
    return render_template("sales_points/department/point_list.html", points=points, tier=tier, status=status,
                           district=district, districts=admin_units.FORMER_DISTRICTS,
                           counts=queries.count_by_status())


@bp.route("/new", methods=["GET", "POST"])
def point_create():
    form = PointForm(province_code=_home_province())
    created = []
    if submit_form(form, lambda: created.append(services.create_point(
            **form.values(), status=PointStatus.PLANNED, province_code=_home_province(), actor=current_user)),
            success=_("The sales point is registered."), default_field="code"):
        return redirect(url_for(".point_detail", code=created[0].code))
    return render_template("sales_points/department/point_form.html", form=form, point=None), form_status()


@bp.route("/<code>/edit", methods=["GET", "POST"])
def point_edit(code: str):
    point = _point(code)
    form = PointForm(obj=point, province_code=point.province_code)
    if request.method == "GET":
        form.location_types.data = [kind.value for kind in point.location_types]
        form.tier.data = point.tier.value
        form.operator_kind.data = point.operator_kind.value if point.operator_kind else ""
        form.former_district.data = point.former_district or ""
        form.ward_code.data = point.ward_code or 0
    if submit_form(form, lambda: services.update_point(point, current_user, **form.values()),
                   success=_("The sales point is saved."), default_field="code"):
        return redirect(url_for(".point_detail", code=point.code))
    return render_template("sales_points/department/point_form.html", form=form, point=point), form_status()


def _render_detail(point, status_form=None, manager_form=None, photo_form=None, status=200):
    return render_template("sales_points/department/point_detail.html", point=point,
                           status_form=status_form or StatusForm(formdata=None),
                           manager_form=manager_form or ManagerForm(formdata=None),
                           photo_form=photo_form or PhotoForm(formdata=None),
                           managers=queries.managers_of(point.id),
                           actors=queries.users_by_ids({c.actor_id for c in point.status_changes})), status


@bp.route("/<code>")
def point_detail(code: str):
    return _render_detail(_point(code))


@bp.route("/<code>/status", methods=["POST"])
def point_status(code: str):
    point = _point(code)
    form = StatusForm()
    if submit_form(form, lambda: services.change_point_status(point, form.to_status.data, form.reason.data,
                                                               current_user),
                   success=_("The status is changed."), default_field="to_status"):
        return redirect(url_for(".point_detail", code=point.code))
    return _render_detail(point, status_form=form, status=400)


@bp.route("/<code>/managers", methods=["POST"])
def manager_add(code: str):
    point = _point(code)
    form = ManagerForm()
    if submit_form(form, lambda: services.assign_manager_by_email(point, form.email.data, actor=current_user),
                   success=_("The manager is added."), default_field="email"):
        return redirect(url_for(".point_detail", code=point.code))
    return _render_detail(point, manager_form=form, status=400)


@bp.route("/<code>/managers/<int:user_id>/remove", methods=["POST"])
def manager_remove(code: str, user_id: int):
    point = _point(code)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    try:
        with unit_of_work():
            services.remove_manager(point, user, actor=current_user)
    except DomainError:
        abort(404)
    flash(_("The manager is removed."), "success")
    return redirect(url_for(".point_detail", code=point.code))


def _photo(point, photo_id: int) -> PointPhoto:
    """A photo of this point; another point's photo id in the URL is not found."""
    photo = next((p for p in point.photos if p.id == photo_id), None)
    if photo is None:
        abort(404)
    return photo


@bp.route("/<code>/photos", methods=["POST"])
def photo_add(code: str):
    point = _point(code)
    form = PhotoForm()
    if submit_form(form, lambda: services.add_point_photo(point, form.image.data.stream, alt=form.alt.data,
                                                          actor=current_user),
                   success=_("The photo is added."), default_field="image"):
        return redirect(url_for(".point_detail", code=point.code, _anchor="photos-title"))
    return _render_detail(point, photo_form=form, status=400)


@bp.route("/<code>/photos/<int:photo_id>/remove", methods=["POST"])
def photo_remove(code: str, photo_id: int):
    point = _point(code)
    photo = _photo(point, photo_id)
    with unit_of_work():
        services.remove_point_photo(photo, actor=current_user)
    flash(_("The photo is removed."), "success")
    return redirect(url_for(".point_detail", code=point.code, _anchor="photos-title"))


@bp.route("/<code>/photos/<int:photo_id>/move", methods=["POST"])
def photo_move(code: str, photo_id: int):
    point = _point(code)
    photo = _photo(point, photo_id)
    form = PhotoMoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            services.move_point_photo(photo, form.offset(), actor=current_user)
    except DomainError:
        abort(400)
    return redirect(url_for(".point_detail", code=point.code, _anchor="photos-title"))
