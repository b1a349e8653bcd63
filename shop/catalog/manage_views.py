"""Producers keep their product pages: text, price and photos. Admins may edit every product."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard
from shop.catalog import queries, services
from shop.catalog.forms import ProductEditForm, ProductImageForm
from shop.catalog.groups import GROUPS, SUBGROUPS
from shop.certification import change_requests
from shop.core.forms import at_most, required
from shop.core.unit_of_work import unit_of_work
from shop.producers.queries import producer_of
from shop.web import form_status, submit_form

bp = Blueprint("catalog_manage", __name__)
bp.before_request(area_guard(Role.PRODUCER))


def _own_product(slug: str):
    """The product, if the current user may edit it: its producer's account, or an admin. Otherwise 404,
    so that other producers' product slugs are not confirmed."""
    product = queries.get_by_slug(slug)
    if product is None:
        abort(404)
    if current_user.role == Role.ADMIN:
        return product
    producer = producer_of(current_user)
    if producer is None or producer.id != product.producer_id:
        abort(404)
    return product


@bp.route("/products")
def product_list():
    if current_user.role == Role.ADMIN:
        producer = None
        products = queries.all_products(limit=500)
    else:
        producer = producer_of(current_user)
        products = queries.products_of_producer(producer.id, published_only=False) if producer else []
    return render_template("catalog/manage/product_list.html", producer=producer, products=products)


class ProductIdentityEditForm(ProductEditForm):
    """The product page form plus what the certificate names (name, group, sub-group): for a certified product a
    change of these goes to the trade department (certification.change_requests). To move into catalog/forms.py."""

    name = StringField(_l("Product name"), validators=[required(), at_most(200)])
    group_code = SelectField(_l("OCOP group"))
    subgroup_code = SelectField(_l("OCOP sub-group"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = str(get_locale())
        self.group_code.choices = [(g.code, f"{g.code} · {g.label(locale)}") for g in GROUPS.values()]
        self.subgroup_code.choices = [("", "—")] + [(g.code, f"{g.code} · {g.label(locale)}")
                                                     for g in SUBGROUPS.values()]
        if self.subgroup_code.data is None:
            self.subgroup_code.data = ""  # a product without a sub-group


@bp.route("/products/<slug>/edit", methods=["GET", "POST"])
def product_edit(slug: str):
    product = _own_product(slug)
    form = ProductIdentityEditForm(obj=product)
    outcome = []
    if submit_form(form, lambda: outcome.append(change_requests.request_or_apply(product, {
            "name": form.name.data, "group_code": form.group_code.data, "subgroup_code": form.subgroup_code.data,
            "description": form.description.data or "", "story_md": form.story_md.data or "",
            "price_vnd": form.price_vnd.data, "unit": form.unit.data or "", "gtin": form.gtin.data}, current_user)),
            success=_("The product page is saved."), default_field="description"):
        if outcome[0][1] is not None:
            flash(_("The change of name or group was sent to the trade department: the product is certified under "
                    "its current name and group, so the change shows once the department approves it."), "info")
        return redirect(url_for(".product_edit", slug=product.slug))
    return render_template("catalog/manage/product_edit.html", product=product, form=form,
                           pending=change_requests.pending_for(product.id),
                           requests=change_requests.requests_of(product.id, limit=5),
                           needs_approval=change_requests.needs_approval(product)), form_status()


@bp.route("/products/<slug>/images", methods=["GET", "POST"])
def product_images(slug: str):
    product = _own_product(slug)
    form = ProductImageForm()
    if submit_form(form, lambda: services.add_product_image(product, form.image.data.stream,
                                                            alt=form.alt.data or "", actor=current_user),
                   success=_("The photo is added."), default_field="image"):
        return redirect(url_for(".product_images", slug=product.slug))
    return render_template("catalog/manage/product_images.html", product=product, form=form), form_status()


@bp.route("/products/<slug>/images/<int:image_id>/delete", methods=["POST"])
def product_image_delete(slug: str, image_id: int):
    product = _own_product(slug)
    image = next((i for i in product.images if i.id == image_id), None)
    if image is None:
        abort(404)
    with unit_of_work():
        services.remove_product_image(product, image, actor=current_user)
    flash(_("The photo is removed."), "success")
    return redirect(url_for(".product_images", slug=product.slug))
