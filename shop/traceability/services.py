"""Lots and their traceability journal (GS1 CTE/KDE as adopted by TCVN 12850:2019, ocop-rules.md section 5).

Plain functions: the actor is passed in, they flush and never commit. Bad input raises DomainError (with the
field and a stable code) before anything is stored; uploaded files already written are deleted again when a
later step fails, so a refused event leaves no row and no file. The journal is append-only: a correction is a
new event pointing at the one it corrects."""
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from shop.accounts.models import Role
from shop.catalog.models import Product
from shop.core import admin_units, audit_trail
from shop.core.clock import VN_TZ, today
from shop.core.errors import Conflict, DomainError
from shop.core.models import utcnow
from shop.core.state import insert_ignoring_duplicates
from shop.core.text import nfc
from shop.core.uploads import FileRejected, StoredFile, attachment_path, store_attachment
from shop.extensions import db
from shop.producers.queries import producer_of
from shop.sales_points.models import SalesPoint
from shop.traceability.models import (
    PRODUCER_EVENT_TYPES,
    AttachmentKind,
    Lot,
    LotStatus,
    TraceAttachment,
    TraceEvent,
    TraceEventType,
    TraceInput,
)

UPLOAD_SUBDIR = "trace"
# Inputs are sourced and processed before the lot's production date, but not more than a year before.
SOURCING_ALLOWANCE = timedelta(days=365)
CLOCK_SKEW = timedelta(minutes=5)   # a phone whose clock runs a little ahead is not "in the future"
EARLY_EVENT_TYPES = (TraceEventType.SOURCING, TraceEventType.RECEIVING_INPUTS, TraceEventType.PROCESSING)
CUSTODY_EVENT_TYPES = (TraceEventType.RECEIVED_AT_POINT, TraceEventType.TRANSFERRED, TraceEventType.RECALLED)
MAX_INPUTS = 20
MAX_ATTACHMENTS = 5
DEPARTMENT_NAME = "Sở Công Thương"


# ---------------------------------------------------------------------------------------------------- helpers

def _text(value, field: str, max_length: int, *, required: bool = False, code: str | None = None,
          message=None) -> str | None:
    text = (nfc(value) or "").strip() if value is not None else ""
    if not text:
        if required:
            raise DomainError(str(message or _l("Please fill in this field.")), field=field,
                              code=code or f"{field}_required")
        return None
    if len(text) > max_length:
        raise DomainError(str(_l("At most %(max)d characters.", max=max_length)), field=field, code="too_long")
    return text


def _check_actor(actor) -> None:
    if getattr(actor, "id", None) is None:
        raise DomainError(str(_l("Every journal entry needs the person who made it.")), field="actor",
                          code="actor_required")


def local_date(moment: datetime) -> date:
    """The Vietnamese calendar date of an aware datetime."""
    return moment.astimezone(VN_TZ).date()


# ------------------------------------------------------------------------------------------------------- lots

def create_lot(product: Product, *, lot_code: str, production_date: date, expiry_date: date | None = None,
               quantity: int, status: LotStatus | str = LotStatus.IN_PRODUCTION, note: str | None = None,
               actor) -> Lot:
    """A new lot of `product`. The caller has checked that the product belongs to the actor's producer."""
    _check_actor(actor)
    lot_code = _text(lot_code, "lot_code", 60, required=True, message=_l("The lot code is required."))
    if not isinstance(production_date, date):
        raise DomainError(str(_l("Enter the production date.")), field="production_date",
                          code="production_date_required")
    if production_date > today():
        raise DomainError(str(_l("The production date cannot be in the future.")), field="production_date",
                          code="invalid_production_date")
    if expiry_date is not None and expiry_date < production_date:
        raise DomainError(str(_l("The expiry date is before the production date.")), field="expiry_date",
                          code="expiry_before_production")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise DomainError(str(_l("The quantity must be a whole number greater than zero.")), field="quantity",
                          code="invalid_quantity")
    status = _status(status)
    taken = db.session.scalar(sa.select(Lot.id).where(Lot.product_id == product.id, Lot.lot_code == lot_code))
    if taken is not None:
        raise DomainError(str(_l("This product already has a lot with the code %(code)s.", code=lot_code)),
                          field="lot_code", code="duplicate_lot")
    lot = Lot(product_id=product.id, lot_code=lot_code, production_date=production_date, expiry_date=expiry_date,
              quantity=quantity, status=status, note=_text(note, "note", 2000), created_by_id=actor.id,
              created_at=utcnow())
    db.session.add(lot)
    db.session.flush()
    audit_trail.record("traceability.lot_created", lot, actor=actor, product_id=product.id, lot_code=lot_code,
                       production_date=production_date, expiry_date=expiry_date, quantity=quantity)
    return lot


def lot_for_receipt(product: Product, lot_code: str, production_date: date, expiry_date: date | None) -> Lot:
    """The product's lot with this code for a receipt at a point (inventory), created on first receipt; a later
    receipt must repeat its dates, and a recalled lot is refused."""
    where = (Lot.product_id == product.id, Lot.lot_code == lot_code)
    lot = db.session.scalar(sa.select(Lot).where(*where))
    if lot is None:
        insert_ignoring_duplicates(Lot, {"product_id": product.id, "lot_code": lot_code,
                                          "production_date": production_date, "expiry_date": expiry_date,
                                          "created_at": utcnow()})
        lot = db.session.scalar(sa.select(Lot).where(*where))
    if lot.production_date != production_date or lot.expiry_date != expiry_date:
        raise Conflict(str(_l("Lot %(code)s of this product was received before with other dates.", code=lot_code)),
                       field="lot_code", code="lot_dates_differ")
    if lot.is_recalled:
        raise DomainError(str(_l("Lot %(code)s has been recalled.", code=lot_code)), field="lot_code",
                          code="lot_recalled")
    return lot


def _status(value) -> LotStatus:
    try:
        return LotStatus(value)
    except ValueError:
        raise DomainError(str(_l("Choose a status.")), field="status", code="invalid_status") from None


def update_lot_status(lot: Lot, status: LotStatus | str, actor) -> Lot:
    """In production → released → closed (any order: a lot closed by mistake may be released again). A recalled
    lot can only be closed."""
    _check_actor(actor)
    status = _status(status)
    if lot.is_recalled and status != LotStatus.CLOSED:
        raise DomainError(str(_l("This lot has been recalled: it can only be closed.")), field="status",
                          code="lot_recalled")
    if status == lot.status:
        return lot
    previous = lot.status
    lot.status = status
    db.session.flush()
    audit_trail.record("traceability.lot_status_changed", lot, actor=actor, from_status=previous.value,
                       to_status=status.value)
    return lot


# ----------------------------------------------------------------------------------------------------- events

def _check_time(lot: Lot, event_type: TraceEventType, occurred_at) -> datetime:
    if not isinstance(occurred_at, datetime) or occurred_at.tzinfo is None:
        raise DomainError(str(_l("Enter the date and time of the event.")), field="occurred_at",
                          code="occurred_at_required")
    if occurred_at > utcnow() + CLOCK_SKEW:
        raise DomainError(str(_l("The event cannot be in the future.")), field="occurred_at", code="event_in_future")
    day = local_date(occurred_at)
    if event_type in EARLY_EVENT_TYPES:
        if day < lot.production_date - SOURCING_ALLOWANCE:
            raise DomainError(str(_l("Inputs cannot be dated more than a year before the lot's production date.")),
                              field="occurred_at", code="event_before_lot")
    elif day < lot.production_date:
        raise DomainError(str(_l("This step cannot be dated before the lot's production date.")),
                          field="occurred_at", code="event_before_lot")
    return occurred_at


def _quantity(value) -> Decimal:
    if isinstance(value, bool):
        value = None
    try:
        quantity = Decimal(str(value).strip().replace(",", ".")) if value is not None else None
    except InvalidOperation:
        quantity = None
    if quantity is None or not quantity.is_finite() or quantity <= 0:
        raise DomainError(str(_l("Each input needs a quantity greater than zero.")), field="inputs",
                          code="invalid_input_quantity")
    if quantity != quantity.quantize(Decimal("0.001")) or quantity >= Decimal(100000000000):
        raise DomainError(str(_l("A quantity has at most 3 decimals.")), field="inputs",
                          code="invalid_input_quantity")
    return quantity


def _inputs(rows: Iterable[dict]) -> list[TraceInput]:
    checked = []
    for row in rows or []:
        material = _text(row.get("material"), "inputs", 200, required=True, code="material_required",
                         message=_l("Each input needs the material used."))
        quantity = _quantity(row.get("quantity"))
        unit = _text(row.get("unit"), "inputs", 20, required=True, code="unit_required",
                     message=_l("Each input needs the unit of its quantity (kg, l, pieces…)."))
        checked.append(TraceInput(material=material, quantity=quantity, unit=unit,
                                  supplier=_text(row.get("supplier"), "inputs", 200),
                                  origin=_text(row.get("origin"), "inputs", 300),
                                  supplier_lot=_text(row.get("supplier_lot"), "inputs", 60)))
    if len(checked) > MAX_INPUTS:
        raise DomainError(str(_l("At most %(n)s inputs per event.", n=MAX_INPUTS)), field="inputs",
                          code="too_many_inputs")
    return checked


def _place(place, province_code, ward_code) -> tuple[str | None, int | None, int | None]:
    place = _text(place, "place", 300)
    if ward_code:
        province_code = province_code or _province_of_ward(ward_code)
        if province_code is None or not admin_units.ward_in_province(ward_code, province_code):
            raise DomainError(str(_l("Choose a commune or ward of the province.")), field="ward_code",
                              code="invalid_ward")
        place = place or admin_units.short_address(None, ward_code, province_code)
    if not place:
        raise DomainError(str(_l("Say where it happened: an address or a commune.")), field="place",
                          code="place_required")
    return place, province_code or None, ward_code or None


def _province_of_ward(ward_code: int) -> int | None:
    return next((code for code, _name in admin_units.provinces()
                 if admin_units.ward_in_province(ward_code, code)), None)


def _correction_target(lot: Lot, corrects) -> TraceEvent | None:
    if corrects is None:
        return None
    event = corrects if isinstance(corrects, TraceEvent) else db.session.get(TraceEvent, corrects)
    if event is None or event.lot_id != lot.id:
        raise DomainError(str(_l("A correction must point at an event of the same lot.")), field="corrects",
                          code="correction_other_lot")
    if event.automatic:
        raise DomainError(str(_l("Receipts, transfers and recalls are recorded by the system and cannot be "
                                 "corrected here.")), field="corrects", code="correction_of_automatic")
    later = db.session.scalar(sa.select(TraceEvent.id).where(TraceEvent.corrects_id == event.id).limit(1))
    if later is not None:
        raise DomainError(str(_l("This event has already been corrected: correct its latest correction.")),
                          field="corrects", code="already_corrected")
    return event


def record_event(lot: Lot, *, event_type: TraceEventType | str, occurred_at: datetime, place: str | None,
                 province_code: int | None = None, ward_code: int | None = None, actor_name: str,
                 previous_step: str | None = None, next_step: str | None = None, description: str | None = None,
                 inputs: Iterable[dict] = (), attachments: Iterable[tuple] = (), upload_dir: str | Path | None = None,
                 recorded_by, corrects: TraceEvent | int | None = None) -> TraceEvent:
    """A producer's journal entry. `inputs` are dicts (material, supplier, origin, quantity, unit,
    supplier_lot); `attachments` are (stream, filename, title) tuples, each a PDF or an image, stored under
    `upload_dir`/trace. All or nothing: refused input stores no row and leaves no file."""
    _check_actor(recorded_by)
    try:
        event_type = TraceEventType(event_type)
    except ValueError:
        event_type = None
    if event_type not in PRODUCER_EVENT_TYPES:
        raise DomainError(str(_l("Choose the kind of step.")), field="event_type", code="invalid_event_type")
    occurred_at = _check_time(lot, event_type, occurred_at)
    place, province_code, ward_code = _place(place, province_code, ward_code)
    actor_name = _text(actor_name, "actor_name", 200, required=True,
                       message=_l("Say who did it: a person or an organisation."))
    previous_step = _text(previous_step, "previous_step", 300)
    next_step = _text(next_step, "next_step", 300)
    description = _text(description, "description", 4000)
    rows = _inputs(inputs)
    target = _correction_target(lot, corrects)
    files = [(stream, filename, (nfc(title) or "").strip()[:200]) for stream, filename, title in attachments or []]
    if len(files) > MAX_ATTACHMENTS:
        raise DomainError(str(_l("At most %(n)s files per event.", n=MAX_ATTACHMENTS)), field="attachments",
                          code="too_many_attachments")
    if files and upload_dir is None:
        raise DomainError(str(_l("Files cannot be stored here.")), field="attachments", code="no_upload_dir")

    stored: list[tuple[StoredFile, str]] = []
    try:
        for stream, filename, title in files:
            stored.append((store_attachment(stream, filename, upload_dir, UPLOAD_SUBDIR, field="attachments"),
                           title))
        event = TraceEvent(lot_id=lot.id, event_type=event_type, occurred_at=occurred_at, place=place,
                           province_code=province_code, ward_code=ward_code, actor_name=actor_name,
                           previous_step=previous_step, next_step=next_step, description=description,
                           corrects_id=target.id if target else None, automatic=False,
                           recorded_by_id=recorded_by.id, recorded_at=utcnow())
        event.inputs.extend(rows)
        for file, title in stored:
            event.attachments.append(TraceAttachment(
                kind=AttachmentKind(file.kind), title=title or file.original_name, original_name=file.original_name,
                stored_name=file.stored_name, content_type=file.content_type, size_bytes=file.size_bytes,
                sha256=file.sha256))
        db.session.add(event)
        db.session.flush()
    except BaseException:
        for file, _title in stored:
            _remove_file(upload_dir, file.stored_name)
        raise
    audit_trail.record("traceability.event_recorded", event, actor=recorded_by, lot_id=lot.id,
                       event_type=event_type.value, corrects_id=event.corrects_id, inputs=len(rows),
                       attachments=len(stored))
    return event


def _remove_file(upload_dir, stored_name: str) -> None:
    try:
        attachment_path(upload_dir, UPLOAD_SUBDIR, stored_name).unlink(missing_ok=True)
    except (OSError, FileRejected):
        pass


# ---------------------------------------------------------------------------------------- chain of custody

def _actor_label(actor) -> str:
    if actor is None:
        return DEPARTMENT_NAME
    if getattr(actor, "role", None) in (Role.TRADE_OFFICER, Role.ADMIN):
        return DEPARTMENT_NAME
    if getattr(actor, "role", None) == Role.PRODUCER:
        producer = producer_of(actor)
        if producer is not None:
            return producer.name
    return getattr(actor, "full_name", None) or getattr(actor, "email", None) or DEPARTMENT_NAME


def _point_place(point: SalesPoint) -> str | None:
    return admin_units.short_address(point.street, point.ward_code, point.province_code) or None


def record_custody_event(lot: Lot, *, event_type: TraceEventType | str, point: SalesPoint | None,
                         reference: str | None, actor, occurred_at: datetime | None = None, note: str | None = None,
                         from_point: SalesPoint | None = None) -> TraceEvent:
    """An event written by the system when goods move: received at a point (one step back: the producer),
    transferred between points (from `from_point` to `point`, recorded at the destination) or recalled (by
    the trade department or the producer, with the reason as `note`)."""
    event_type = TraceEventType(event_type)
    if event_type not in CUSTODY_EVENT_TYPES:
        raise DomainError(str(_l("Choose the kind of step.")), field="event_type", code="invalid_event_type")
    previous_step = next_step = None
    if event_type == TraceEventType.RECEIVED_AT_POINT:
        previous_step = lot.product.producer.name
        next_step = point.name
    elif event_type == TraceEventType.TRANSFERRED:
        previous_step = from_point.name if from_point is not None else None
        next_step = point.name
    if event_type == TraceEventType.RECALLED:
        actor_name = _actor_label(actor)
    else:
        actor_name = point.name
    event = TraceEvent(lot_id=lot.id, event_type=event_type, occurred_at=occurred_at or utcnow(),
                       place=_point_place(point) if point is not None else None,
                       province_code=point.province_code if point is not None else None,
                       ward_code=point.ward_code if point is not None else None,
                       point_id=point.id if point is not None else None, actor_name=actor_name[:200],
                       previous_step=previous_step and previous_step[:300], next_step=next_step and next_step[:300],
                       description=(nfc(note) or "").strip() or None, reference=(reference or None) and reference[:60],
                       automatic=True, recorded_by_id=getattr(actor, "id", None), recorded_at=utcnow())
    db.session.add(event)
    db.session.flush()
    return event
