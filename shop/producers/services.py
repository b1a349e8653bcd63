"""Producer use cases. They flush; the caller commits."""
from datetime import date
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from shop.core import admin_units, audit_trail
from shop.core.errors import Conflict, DomainError
from shop.core.images import store_image
from shop.core.text import nfc, slugify
from shop.extensions import db
from shop.producers.models import (
    DocumentKind,
    LegalForm,
    Producer,
    ProducerDocument,
    ProducerImage,
    ProducerMember,
)

EDITABLE_FIELDS = ("name", "legal_form", "registration_no", "province_code", "ward_code", "former_district",
                   "street", "story_md", "phone", "email", "website")


def unique_slug(model, text: str, exclude_id: int | None = None) -> str:
    """A slug from the name, with -2, -3… when taken."""
    base = slugify(text) or "item"
    slug, n = base, 1
    while True:
        query = sa.select(model.id).where(model.slug == slug)
        if exclude_id is not None:
            query = query.where(model.id != exclude_id)
        if db.session.scalar(query) is None:
            return slug
        n += 1
        slug = f"{base}-{n}"


def _validated(fields: dict) -> dict:
    data = {key: (nfc(value) if isinstance(value, str) else value) for key, value in fields.items()}
    if "name" in data and not data["name"]:
        raise DomainError(str(_l("The producer's name is required.")), field="name")
    if "legal_form" in data:
        try:
            data["legal_form"] = LegalForm(data["legal_form"])
        except ValueError:
            raise DomainError(str(_l("Unknown legal form.")), field="legal_form") from None
    if "province_code" in data and not admin_units.province_name(data["province_code"]):
        raise DomainError(str(_l("Unknown province.")), field="province_code")
    if data.get("ward_code") and not admin_units.ward_in_province(data["ward_code"], data.get("province_code")):
        raise DomainError(str(_l("This commune or ward is not in the chosen province.")), field="ward_code")
    if data.get("former_district") and data["former_district"] not in admin_units.FORMER_DISTRICTS:
        raise DomainError(str(_l("Unknown former district.")), field="former_district")
    if "registration_no" in data:
        data["registration_no"] = data["registration_no"] or None
    return data


def create_producer(*, actor=None, **fields) -> Producer:
    data = _validated(fields)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown producer fields: {sorted(unknown)}")
    if data.get("registration_no") and get_by_registration_no(data["registration_no"]):
        raise Conflict(str(_l("A producer with this registration number already exists.")), field="registration_no")
    producer = Producer(slug=unique_slug(Producer, data["name"]), **data)
    db.session.add(producer)
    db.session.flush()
    audit_trail.record("producers.producer_created", producer, actor=actor, name=producer.name)
    return producer


def update_producer(producer: Producer, *, actor=None, **fields) -> Producer:
    data = _validated({"province_code": producer.province_code, **fields})
    if data.get("registration_no") and data["registration_no"] != producer.registration_no:
        other = get_by_registration_no(data["registration_no"])
        if other and other.id != producer.id:
            raise Conflict(str(_l("A producer with this registration number already exists.")),
                           field="registration_no")
    changed = {}
    for key, value in data.items():
        if getattr(producer, key) != value:
            changed[key] = value
            setattr(producer, key, value)
    db.session.flush()
    if changed:
        audit_trail.record("producers.producer_updated", producer, actor=actor, fields=sorted(changed))
    return producer


def get_by_registration_no(number: str) -> Producer | None:
    return db.session.scalar(sa.select(Producer).where(Producer.registration_no == number))


def add_producer_image(producer: Producer, stream: BinaryIO, *, alt: str = "", is_logo: bool = False,
                       actor=None) -> ProducerImage:
    stored = store_image(stream, current_app.config["UPLOAD_DIR"], max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
                         widths=current_app.config["IMAGE_WIDTHS"])
    if is_logo:
        for image in producer.images:
            image.is_logo = False
    image = ProducerImage(producer=producer, stem=stored.stem, width=stored.width, height=stored.height,
                          alt=nfc(alt) or producer.name, is_logo=is_logo, position=len(producer.images))
    db.session.add(image)
    db.session.flush()
    audit_trail.record("producers.image_added", producer, actor=actor, stem=stored.stem, is_logo=is_logo)
    return image


def add_document(producer: Producer, *, kind: DocumentKind | str, number: str, issued_on: date | None = None,
                 valid_until: date | None = None, issuer: str | None = None, actor=None) -> ProducerDocument:
    number = nfc(number) or ""
    if not number:
        raise DomainError(str(_l("The document number is required.")), field="number")
    if issued_on and valid_until and valid_until < issued_on:
        raise DomainError(str(_l("The end of validity is before the date of issue.")), field="valid_until")
    document = ProducerDocument(producer=producer, kind=DocumentKind(kind), number=number, issued_on=issued_on,
                                valid_until=valid_until, issuer=nfc(issuer))
    db.session.add(document)
    db.session.flush()
    audit_trail.record("producers.document_added", producer, actor=actor, kind=document.kind.value, number=number)
    return document


def attach_member(producer: Producer, user, actor=None) -> ProducerMember:
    """A producer account belongs to one producer: attaching moves it."""
    member = db.session.get(ProducerMember, user.id) or ProducerMember(user_id=user.id)
    member.producer = producer
    db.session.add(member)
    db.session.flush()
    audit_trail.record("producers.member_attached", producer, actor=actor, user_id=user.id)
    return member
