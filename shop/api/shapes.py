"""The building blocks of the API's response schemas, and the shapes shared by several endpoints (pictures,
addresses, certificates, references to products, producers and points).

Each schema is both the serialiser of its JSON object and, through apispec, its JSON Schema in the OpenAPI
document; a value that is not an attribute of the object comes from a `value_of_<field>` method."""
from flask import current_app
from flask_babel import get_locale
from marshmallow import Schema, fields, pre_dump
from marshmallow.validate import Length, OneOf, Range

from shop.catalog.groups import GROUPS, SUBGROUPS
from shop.catalog.models import Product, ProductImage
from shop.catalog.services import MAX_PRICE_VND
from shop.certification.models import (
    MIN_CERTIFIED_STARS,
    STAR_BANDS,
    Certificate,
    CertificateStatus,
    IssuingLevel,
)
from shop.config import DefaultConfig
from shop.core.admin_units import FORMER_DISTRICTS, province_name, ward_name
from shop.core.clock import today
from shop.core.images import rendition_path, rendition_widths
from shop.core.pagination import MAX_PAGE
from shop.core.urls import public_url_for
from shop.producers.models import ProducerImage
from shop.sales_points.models import PointPhoto, PointTier

LIST_IMAGE_WIDTH = 640
MAX_STARS = max(STAR_BANDS)
MAX_SCORE = max(high for _, high in STAR_BANDS.values())
SLUG_LENGTH = Product.__table__.c.slug.type.length


class Shape(Schema):
    """A JSON object of a response. The API always sends every key (null when there is no value), so every
    field is required in the document, and no other key is allowed (marshmallow's default `unknown=RAISE`
    becomes `additionalProperties: false`)."""

    def on_bind_field(self, field_name, field_obj):
        field_obj.required = True

    def get_attribute(self, obj, attr, default):
        compute = getattr(self, f"value_of_{attr}", None)
        return compute(obj) if compute else super().get_attribute(obj, attr, default)


def described(description: str | None) -> dict:
    return {"metadata": {"description": description}} if description else {}


def text(description: str | None = None, **kwargs) -> fields.String:
    return fields.String(**described(description), **kwargs)


def slug_field(**kwargs) -> fields.String:
    # Validators document the field (apispec); marshmallow runs them only on load, never on dump.
    return fields.String(validate=Length(max=SLUG_LENGTH), **kwargs)


def url_field(description: str | None = None, **kwargs) -> fields.Url:
    return fields.Url(**described(description), **kwargs)


def count(description: str | None = None, **kwargs) -> fields.Integer:
    return fields.Integer(validate=Range(min=0), **described(description), **kwargs)


def choice(values, description: str | None = None, **kwargs) -> fields.String:
    return fields.String(validate=OneOf(list(values)), **described(description), **kwargs)


def day_field(**kwargs) -> fields.Date:
    return fields.Date(metadata={"description": "ISO 8601 calendar date (Vietnam time)."}, **kwargs)


def locale() -> str:
    return str(get_locale())


# --- pictures ---------------------------------------------------------------------------------------------

def renditions(image: ProductImage | ProducerImage | PointPhoto) -> list[tuple[int, str]]:
    """(width, absolute URL) of each WebP rendition, narrowest first."""
    widths = rendition_widths(image.width, current_app.config["IMAGE_WIDTHS"])
    return [(w, public_url_for("media", filename=rendition_path(image.stem, w, "webp"))) for w in widths]


def list_image_url(image: ProductImage | ProducerImage | None) -> str | None:
    """The URL of the 640-pixel WebP rendition (or the largest one of a smaller picture)."""
    if image is None:
        return None
    found = renditions(image)
    return next((link for width, link in found if width >= LIST_IMAGE_WIDTH), found[-1][1])


class ImageSchema(Shape):
    url = url_field("Largest WebP rendition.")
    width = fields.Integer(validate=Range(min=1))
    height = fields.Integer(validate=Range(min=1))
    alt = text()
    srcset = text("Every WebP rendition with its width, for an <img srcset>.")

    @pre_dump
    def largest_rendition(self, image, **kwargs) -> dict:
        found = renditions(image)
        width, link = found[-1]
        # Same rounding as core.images.store_image when it resizes.
        return {"url": link, "width": width, "height": max(1, round(image.height * width / image.width)),
                "alt": image.alt, "srcset": ", ".join(f"{u} {w}w" for w, u in found)}


# --- places -------------------------------------------------------------------------------------------------

class AddressSchema(Shape):
    """2025 administrative units, plus the former district for history (producers and points alike)."""
    province_code = fields.Integer()
    province = text(allow_none=True)
    ward_code = fields.Integer(allow_none=True)
    ward = text(allow_none=True)
    former_district = choice(FORMER_DISTRICTS, allow_none=True)
    former_district_name = text(allow_none=True)
    street = text(allow_none=True)

    def value_of_province(self, place):
        return province_name(place.province_code) or None

    def value_of_ward(self, place):
        return ward_name(place.ward_code) or None

    def value_of_former_district_name(self, place):
        return FORMER_DISTRICTS.get(place.former_district or "")


class SalesPointSchema(Shape):
    code = fields.String(metadata={"examples": ["DN-XL-01"]})
    name = text()
    tier = fields.Enum(PointTier, by_value=True)
    address = fields.Nested(AddressSchema)
    url = url_field("The point's page on the site.")

    def value_of_address(self, point):
        return point

    def value_of_url(self, point):
        return public_url_for("sales_points.point_detail", code=point.code)


# --- certificates and references -------------------------------------------------------------------------

class CertificateSchema(Shape):
    """The certificate that makes the product OCOP-certified."""
    stars = fields.Integer(validate=Range(MIN_CERTIFIED_STARS, MAX_STARS))
    score = fields.Integer(validate=Range(0, MAX_SCORE), allow_none=True)
    level = fields.Enum(IssuingLevel, by_value=True, metadata={"description": "Who issued the decision."})
    decision_no = text("Number of the recognition decision.")
    decision_date = day_field()
    valid_until = day_field()


class LapsedCertificateSchema(CertificateSchema):
    """The last certificate of a product that is no longer certified: why it no longer counts."""
    stars = fields.Integer(validate=Range(min(STAR_BANDS), MAX_STARS))
    status = fields.Enum(CertificateStatus, by_value=True, metadata={"description": "Its status today."})
    withdrawn_on = day_field(allow_none=True)
    withdrawal_decision_no = text(allow_none=True)
    withdrawal_reason = text(allow_none=True)

    def value_of_status(self, certificate: Certificate):
        return certificate.status_on(today())


class ProducerRefSchema(Shape):
    slug = slug_field()
    name = text()


class ProductRefSchema(Shape):
    slug = slug_field()
    name = text()
    url = url_field("The product's page on the site.")

    def value_of_url(self, product):
        return public_url_for("catalog.product_detail", slug=product.slug)


class ProductSummarySchema(Shape):
    """A certified product as listed; dumps an object with `product` and its valid `certificate`."""
    slug = slug_field(attribute="product.slug")
    name = text(attribute="product.name")
    price_vnd = fields.Integer(attribute="product.price_vnd", validate=Range(0, MAX_PRICE_VND),
                               metadata={"description": "Price in đồng (integer, no decimals)."})
    unit = text("Unit or size, e.g. “Hộp 500 g”.", attribute="product.unit")
    stars = fields.Integer(validate=Range(MIN_CERTIFIED_STARS, MAX_STARS),
                           metadata={"description": "Star level of the valid certificate."})
    group = choice(GROUPS, "OCOP product group code.", attribute="product.group_code")
    group_name = text(allow_none=True)
    subgroup = choice(SUBGROUPS, attribute="product.subgroup_code", allow_none=True)
    subgroup_name = text(allow_none=True)
    is_alcohol = fields.Boolean(attribute="product.is_alcohol",
                                metadata={"description": "Alcoholic drink: sale only to people of legal age."})
    locality = choice(FORMER_DISTRICTS, "Former district key of the producer.", allow_none=True,
                      attribute="product.producer.former_district")
    locality_name = text(allow_none=True)
    producer = fields.Nested(ProducerRefSchema, attribute="product.producer")
    certificate = fields.Nested(CertificateSchema)
    url = url_field("The product's page on the site.")
    image = url_field("640-pixel WebP rendition of the cover picture.", allow_none=True)

    def value_of_stars(self, listed):
        return listed.certificate.stars if listed.certificate else None

    def value_of_group_name(self, listed):
        group = GROUPS.get(listed.product.group_code)
        return group.label(locale()) if group else None

    def value_of_subgroup_name(self, listed):
        subgroup = SUBGROUPS.get(listed.product.subgroup_code or "")
        return subgroup.label(locale()) if subgroup else None

    def value_of_locality_name(self, listed):
        return FORMER_DISTRICTS.get(listed.product.producer.former_district or "")

    def value_of_url(self, listed):
        return public_url_for("catalog.product_detail", slug=listed.product.slug)

    def value_of_image(self, listed):
        return list_image_url(listed.product.cover)


class PageSchema(Shape):
    page = fields.Integer(validate=Range(1, MAX_PAGE))
    per_page = fields.Integer(validate=Range(1, DefaultConfig.MAX_PER_PAGE))
    total = count()
    pages = fields.Integer(validate=Range(min=1))


def paginated(name: str, item: type[Schema], **extra) -> type[Schema]:
    """The schema of one page of `item`s (a core.pagination.Page or anything with the same attributes)."""
    return type(name, (PageSchema,), {"items": fields.List(fields.Nested(item)), **extra})

