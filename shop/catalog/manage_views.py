"""Producers keep their product pages: text, price and photos. Admins may edit every product."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard
from shop.catalog import queries, services
from shop.catalog.forms import ProductEditForm, ProductImageForm
from shop.extensions import db
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


@bp.route("/products/<slug>/edit", methods=["GET", "POST"])
def product_edit(slug: str):
    product = _own_product(slug)
    form = ProductEditForm(obj=product)
    if submit_form(form, lambda: services.update_product(
            product, actor=current_user, description=form.description.data or "", story_md=form.story_md.data or "",
            price_vnd=form.price_vnd.data, unit=form.unit.data or "", gtin=form.gtin.data),
            success=_("The product page is saved."), default_field="description"):
        return redirect(url_for(".product_edit", slug=product.slug))
    return render_template("catalog/manage/product_edit.html", product=product, form=form), form_status()


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
    services.remove_product_image(product, image, actor=current_user)
    db.session.commit()
    flash(_("The photo is removed."), "success")
    return redirect(url_for(".product_images", slug=product.slug))
