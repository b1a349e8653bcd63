"""Shared pieces of the public JSON API (/api/v1): one serialiser per JSON shape, parameter checks, caching,
and the OpenAPI document. The endpoints live beside their domains (catalog.api_views, producers.api_views,
sales_points.api_views, inventory.api_views); they build their JSON only from the functions here, so a
product or a point looks the same wherever it appears.
"""
from datetime import date, time
from math import ceil

from flask import Blueprint, current_app, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _

from shop.api_schema import openapi_document
from shop.catalog.groups import GROUPS, SUBGROUPS
from shop.catalog.models import Product, ProductImage
from shop.certification.models import Certificate
from shop.core.admin_units import FORMER_DISTRICTS, province_name, ward_name
from shop.core.images import rendition_path, rendition_widths
from shop.core.pagination import MAX_PAGE
from shop.core.text import render_markdown
from shop.core.urls import public_url_for
from shop.inventory.availability import LotStock, ProductAvailability
from shop.producers.models import Producer, ProducerDocument, ProducerImage
from shop.sales_points.models import PointPhoto, SalesPoint
from shop.search.browse import FacetValue, ProductPage
from shop.search.filters import FilterProblems
from shop.web import json_error

bp = Blueprint("api", __name__)

CACHE_SECONDS = 60
LIST_IMAGE_WIDTH = 640


@bp.route("/openapi.json")
def openapi_json():
    config = current_app.config
    return jsonify(openapi_document(max_per_page=config["MAX_PER_PAGE"], default_per_page=config["PER_PAGE"],
                                    languages=tuple(config["LANGUAGES"])))


def public_cache(response):
    """after_request of the API blueprints: successful public reads may be cached for a minute."""
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response.cache_control.public = True
        response.cache_control.max_age = CACHE_SECONDS
    return response


bp.after_request(public_cache)


# --- request parameters ---------------------------------------------------------------------------------

def parameter_error(problems: FilterProblems):
    """A 400 naming the first bad parameter; `details` lists every one, so a client fixes them at once."""
    parameter, message = problems.messages[0]
    return json_error(400, "invalid_parameter", message, parameter=parameter,
                      details=[{"parameter": p, "message": m} for p, m in problems.messages])


def check_lang(problems: FilterProblems | None = None) -> FilterProblems:
    """`lang` picks the language of labels (web.select_locale reads it); an unknown one is an error here."""
    problems = problems if problems is not None else FilterProblems()
    lang = request.args.get("lang")
    if lang not in (None, "") and lang not in current_app.config["LANGUAGES"]:
        problems.add("lang", _("Unknown language “%(value)s”.", value=lang[:40]))
    return problems


def page_parameters(problems: FilterProblems) -> tuple[int, int]:
    """`page` and `per_page` of a paginated list (defaults when absent; a bad value is a problem)."""
    limits = {"page": (1, MAX_PAGE, 1),
              "per_page": (1, current_app.config["MAX_PER_PAGE"], current_app.config["PER_PAGE"])}
    values = []
    for name, (low, high, default) in limits.items():
        raw = request.args.get(name)
        if raw in (None, ""):
            values.append(default)
        # The length first: int() refuses a number of thousands of digits (a 500 otherwise).
        elif not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(high)) or not low <= int(raw) <= high:
            problems.add(name, _("%(name)s must be a whole number between %(low)s and %(high)s.",
                                 name=name, low=low, high=high))
            values.append(default)
        else:
            values.append(int(raw))
    return values[0], values[1]


def _locale() -> str:
    return str(get_locale())


# --- pictures ---------------------------------------------------------------------------------------------

def _renditions(image: ProductImage | ProducerImage | PointPhoto) -> list[tuple[int, str]]:
    """(width, absolute URL) of each WebP rendition, narrowest first."""
    widths = rendition_widths(image.width, current_app.config["IMAGE_WIDTHS"])
    return [(w, public_url_for("media", filename=rendition_path(image.stem, w, "webp")))
            for w in widths]


def image_ref(image: ProductImage | ProducerImage | None) -> str | None:
    """The URL of the 640-pixel WebP rendition (or the largest one of a smaller picture)."""
    if image is None:
        return None
    renditions = _renditions(image)
    return next((url for w, url in renditions if w >= LIST_IMAGE_WIDTH), renditions[-1][1])


def image_json(image: ProductImage | ProducerImage | PointPhoto) -> dict:
    renditions = _renditions(image)
    width, url = renditions[-1]
    return {
        "url": url,
        "width": width,
        # Same rounding as core.images.store_image when it resizes.
        "height": max(1, round(image.height * width / image.width)),
        "alt": image.alt,
        "srcset": ", ".join(f"{u} {w}w" for w, u in renditions),
    }


# --- shapes -------------------------------------------------------------------------------------------------

def address_json(place: Producer | SalesPoint) -> dict:
    """Producers and sales points carry the same address columns: 2025 units plus the former district."""
    return {
        "province_code": place.province_code,
        "province": province_name(place.province_code) or None,
        "ward_code": place.ward_code,
        "ward": ward_name(place.ward_code) or None,
        "former_district": place.former_district,
        "former_district_name": FORMER_DISTRICTS.get(place.former_district or ""),
        "street": place.street,
    }


def certificate_json(certificate: Certificate) -> dict:
    return {
        "stars": certificate.stars,
        "score": certificate.score,
        "level": certificate.level.value,
        "decision_no": certificate.decision_no,
        "decision_date": certificate.decision_date.isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
    }


def lapsed_certificate_json(certificate: Certificate, day: date) -> dict:
    """The last certificate of a product that is no longer certified: why it no longer counts."""
    return {
        **certificate_json(certificate),
        "status": certificate.status_on(day).value,
        "withdrawn_on": certificate.withdrawn_on.isoformat() if certificate.withdrawn_on else None,
        "withdrawal_decision_no": certificate.withdrawal_decision_no,
        "withdrawal_reason": certificate.withdrawal_reason,
    }


def producer_ref_json(producer: Producer) -> dict:
    return {"slug": producer.slug, "name": producer.name}


def product_json(product: Product, certificate: Certificate | None) -> dict:
    """A product as listed. `certificate` is the one that certifies it today (None only on a lapsed product's
    detail: lists never contain uncertified products)."""
    group = GROUPS.get(product.group_code)
    subgroup = SUBGROUPS.get(product.subgroup_code or "")
    locale = _locale()
    return {
        "slug": product.slug,
        "name": product.name,
        "price_vnd": product.price_vnd,
        "unit": product.unit,
        "stars": certificate.stars if certificate else None,
        "group": product.group_code,
        "group_name": group.label(locale) if group else None,
        "subgroup": product.subgroup_code,
        "subgroup_name": subgroup.label(locale) if subgroup else None,
        "is_alcohol": product.is_alcohol,
        "locality": product.producer.former_district,
        "locality_name": FORMER_DISTRICTS.get(product.producer.former_district or ""),
        "producer": producer_ref_json(product.producer),
        "certificate": certificate_json(certificate) if certificate else None,
        "url": public_url_for("catalog.product_detail", slug=product.slug),
        "image": image_ref(product.cover),
    }


def point_json(point: SalesPoint) -> dict:
    return {
        "code": point.code,
        "name": point.name,
        "tier": point.tier.value,
        "address": address_json(point),
        "url": public_url_for("sales_points.point_detail", code=point.code),
    }


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def point_summary_json(point: SalesPoint) -> dict:
    """A point as listed: where it is, when it opens, how to call it."""
    located = point.latitude is not None and point.longitude is not None
    hours = point.opens_at is not None and point.closes_at is not None
    return {
        **point_json(point),
        "location": {"latitude": point.latitude, "longitude": point.longitude} if located else None,
        "hours": {"opens": _clock(point.opens_at), "closes": _clock(point.closes_at)} if hours else None,
        "phone": point.phone,
    }


def point_detail_json(point: SalesPoint) -> dict:
    return {**point_summary_json(point), "photos": [image_json(photo) for photo in point.photos]}


def paginated_json(items: list, *, page: int, per_page: int, total: int) -> dict:
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "pages": max(1, ceil(total / per_page))}


def product_ref_json(product: Product) -> dict:
    return {"slug": product.slug, "name": product.name,
            "url": public_url_for("catalog.product_detail", slug=product.slug)}


def stock_band_json(row: ProductAvailability) -> dict:
    """What anyone may know of a product's stock at a point: a band, never a quantity."""
    return {"product": product_ref_json(row.product), "band": row.band.value}


def lot_stock_json(lot: LotStock) -> dict:
    if lot.lot.is_recalled:
        status = "recalled"
    else:
        status = "sellable" if lot.sellable else "expired"
    return {
        "lot_code": lot.lot.lot_code,
        "production_date": lot.lot.production_date.isoformat(),
        "expiry_date": lot.lot.expiry_date.isoformat() if lot.lot.expiry_date else None,
        "status": status,
        "on_hand": lot.on_hand,
        "reserved": lot.reserved,
        "available": lot.available,
    }


def stock_exact_json(row: ProductAvailability, lots: list[LotStock]) -> dict:
    """For the point's managers, trade officers and admins: the quantities, by lot."""
    return {**stock_band_json(row), "available": row.available, "lots": [lot_stock_json(lot) for lot in lots]}


def product_detail_json(product: Product, certificate: Certificate | None,
                        last_certificate: Certificate | None, points: list[SalesPoint], day: date) -> dict:
    if certificate is not None:
        status = "valid"
    else:
        status = last_certificate.status_on(day).value if last_certificate else "none"
    return {
        **product_json(product, certificate),
        "description": product.description,
        "story_html": str(render_markdown(product.story_md)),
        "gtin": product.gtin,
        "images": [image_json(image) for image in product.images],
        "certified": certificate is not None,
        "certificate_status": status,
        "last_certificate": (lapsed_certificate_json(last_certificate, day)
                             if certificate is None and last_certificate else None),
        "points": [point_json(point) for point in points],
    }


def document_json(document: ProducerDocument, day: date) -> dict:
    return {
        "kind": document.kind.value,
        "number": document.number,
        "issued_on": document.issued_on.isoformat() if document.issued_on else None,
        "valid_until": document.valid_until.isoformat() if document.valid_until else None,
        "valid": document.is_valid_on(day),
    }


def producer_json(producer: Producer, products: list[tuple[Product, Certificate]], day: date) -> dict:
    return {
        **producer_ref_json(producer),
        "legal_form": producer.legal_form.value,
        "registration_no": producer.registration_no,
        "address": address_json(producer),
        "story_html": str(render_markdown(producer.story_md)),
        "contact": {"phone": producer.phone, "email": producer.email, "website": producer.website},
        "documents": [document_json(document, day) for document in producer.documents],
        "logo": image_json(producer.logo) if producer.logo else None,
        "photos": [image_json(image) for image in producer.photos],
        "url": public_url_for("producers.producer_detail", slug=producer.slug),
        "products": [product_json(product, certificate) for product, certificate in products],
    }


def facet_json(value: FacetValue) -> dict:
    return {"key": value.key, "label": value.label, "count": value.count}


def product_page_json(page: ProductPage) -> dict:
    return {
        "items": [product_json(card.product, card.certificate) for card in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
        "facets": {name: [facet_json(v) for v in values] for name, values in page.facets.items()},
    }
