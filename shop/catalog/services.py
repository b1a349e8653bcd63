"""Product use cases. They flush; the caller commits."""
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from stdnum import ean
from stdnum.exceptions import ValidationError

from shop.catalog.groups import GROUPS, SUBGROUPS, group_of
from shop.catalog.models import Product, ProductImage, ProductStatus
from shop.core import audit_trail
from shop.core.errors import Conflict, DomainError
from shop.core.images import delete_image_after_commit, store_image
from shop.core.models import utcnow
from shop.core.text import nfc
from shop.extensions import db
from shop.producers.models import Producer
from shop.producers.services import unique_slug

EDITABLE_FIELDS = ("name", "group_code", "subgroup_code", "description", "story_md", "price_vnd", "unit", "gtin",
                   "is_alcohol")
MAX_PRICE_VND = 1_000_000_000


def normalise_gtin(value: str | None) -> str | None:
    """GTIN-8/12/13/14 with a correct check digit (python-stdnum), stored as digits; empty -> None."""
    if value is None or not str(value).strip():
        return None
    try:
        return ean.validate(str(value).strip())
    except ValidationError:
        raise DomainError(str(_l("The GTIN is not valid (wrong length or check digit).")), field="gtin") from None


def _validated(fields: dict) -> dict:
    data = {key: (nfc(value) if isinstance(value, str) else value) for key, value in fields.items()}
    if "name" in data and not data["name"]:
        raise DomainError(str(_l("The product name is required.")), field="name")
    if data.get("subgroup_code"):
        if data["subgroup_code"] not in SUBGROUPS:
            raise DomainError(str(_l("Unknown OCOP sub-group.")), field="subgroup_code")
        data.setdefault("group_code", group_of(data["subgroup_code"]))
        if group_of(data["subgroup_code"]) != data["group_code"]:
            raise DomainError(str(_l("The sub-group does not belong to the group.")), field="subgroup_code")
    if "group_code" in data and data["group_code"] not in GROUPS:
        raise DomainError(str(_l("Unknown OCOP group.")), field="group_code")
    if "price_vnd" in data:
        price = data["price_vnd"]
        if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_PRICE_VND:
            raise DomainError(str(_l("The price must be a whole number of đồng between 0 and 1,000,000,000.")),
                              field="price_vnd")
    if "gtin" in data:
        data["gtin"] = normalise_gtin(data["gtin"])
    return data


def _check_gtin_free(gtin: str | None, product_id: int | None = None) -> None:
    if not gtin:
        return
    other = db.session.scalar(sa.select(Product.id).where(Product.gtin == gtin))
    if other is not None and other != product_id:
        raise Conflict(str(_l("Another product already has this GTIN.")), field="gtin")


def create_product(producer: Producer, *, actor=None, publish: bool = False, **fields) -> Product:
    data = _validated(fields)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")
    for required in ("name", "group_code", "price_vnd"):
        if data.get(required) is None:
            raise DomainError(str(_l("%(field)s is required.", field=required)), field=required)
    _check_gtin_free(data.get("gtin"))
    product = Product(producer=producer, slug=unique_slug(Product, data["name"]), **data)
    db.session.add(product)
    db.session.flush()
    audit_trail.record("catalog.product_created", product, actor=actor, name=product.name)
    if publish:
        publish_product(product, actor=actor)
    return product


def update_product(product: Product, *, actor=None, **fields) -> Product:
    data = _validated(fields)
    _check_gtin_free(data.get("gtin"), product.id)
    changed = sorted(key for key, value in data.items() if getattr(product, key) != value)
    for key in changed:
        setattr(product, key, data[key])
    db.session.flush()
    if changed:
        audit_trail.record("catalog.product_updated", product, actor=actor, fields=changed)
    return product


def publish_product(product: Product, actor=None) -> Product:
    if product.status != ProductStatus.PUBLISHED:
        product.status = ProductStatus.PUBLISHED
        product.published_at = product.published_at or utcnow()
        db.session.flush()
        audit_trail.record("catalog.product_published", product, actor=actor)
    return product


def unpublish_product(product: Product, actor=None) -> Product:
    if product.status != ProductStatus.DRAFT:
        product.status = ProductStatus.DRAFT
        db.session.flush()
        audit_trail.record("catalog.product_unpublished", product, actor=actor)
    return product


def add_product_image(product: Product, stream: BinaryIO, *, alt: str = "", actor=None) -> ProductImage:
    stored = store_image(stream, current_app.config["UPLOAD_DIR"], max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
                         widths=current_app.config["IMAGE_WIDTHS"])
    image = ProductImage(product=product, stem=stored.stem, width=stored.width, height=stored.height,
                         alt=nfc(alt) or product.name, position=len(product.images))
    db.session.add(image)
    db.session.flush()
    audit_trail.record("catalog.image_added", product, actor=actor, stem=stored.stem)
    return image


def remove_product_image(product: Product, image: ProductImage, actor=None) -> None:
    stem = image.stem
    product.images.remove(image)
    for position, remaining in enumerate(product.images):
        remaining.position = position
    db.session.flush()
    audit_trail.record("catalog.image_removed", product, actor=actor, stem=stem)
    delete_image_after_commit(current_app.config["UPLOAD_DIR"], stem)
