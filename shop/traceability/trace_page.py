"""Reads of the public trace page and the trace API: a lot with its product, producer, certificate status today and
its whole journal, loaded in a handful of queries whatever the number of events (selectinload per level)."""
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from shop.catalog.models import Product, ProductStatus
from shop.certification.models import Certificate
from shop.certification.queries import certificate_history, current_certificate
from shop.extensions import db
from shop.producers.models import Producer
from shop.traceability.models import Lot, LotStatus, TraceAttachment, TraceEvent, TraceInput

MAX_CODE_LENGTH = 16


@dataclass
class TimelineEntry:
    event: TraceEvent
    corrected_by: TraceEvent | None = None   # the latest later event that corrects this one
    corrects: TraceEvent | None = None       # the event this one corrects


@dataclass
class TraceView:
    lot: Lot
    product: Product
    producer: Producer
    # The certificate shown: the one valid today, else the product's last one (expired, withdrawn...), else None.
    certificate: Certificate | None
    certificate_status: str  # a CertificateStatus value, or "none" for a product never certified
    timeline: list[TimelineEntry] = field(default_factory=list)

    @property
    def certified(self) -> bool:
        return self.certificate_status == "valid"


def normalise_code(code: str) -> str | None:
    """Trace codes are printed in capitals; a code typed in lower case is the same code."""
    code = (code or "").strip().upper()
    if not code or len(code) > MAX_CODE_LENGTH or not code.isascii() or not code.isalnum():
        return None
    return code


def _event_options():
    return (joinedload(TraceEvent.point), selectinload(TraceEvent.inputs), selectinload(TraceEvent.attachments))


def _lot_query(with_events: bool):
    options = [joinedload(Lot.product).joinedload(Product.producer),
               joinedload(Lot.product).selectinload(Product.images)]
    if with_events:
        options.append(selectinload(Lot.events).options(*_event_options()))
    return sa.select(Lot).options(*options)


def lot_by_trace_code(code: str, *, with_events: bool = True) -> Lot | None:
    """The lot of /t/<code> (any case) with its product, producer and pictures, and (unless `with_events` is
    False) its whole journal: events, their points, inputs and attachments, one query per level. Only a lot the
    public may see: of a published product and out of production (a draft or a batch still being made is the
    producer's own until it is released); None otherwise, as for an unknown code."""
    wanted = normalise_code(code)
    if wanted is None:
        return None
    return db.session.scalar(
        _lot_query(with_events).join(Product, Product.id == Lot.product_id)
        .where(Lot.trace_code == wanted, Product.status == ProductStatus.PUBLISHED,
               Lot.status != LotStatus.IN_PRODUCTION))


def load_lot(lot_id: int) -> Lot | None:
    return db.session.scalar(_lot_query(True).where(Lot.id == lot_id))


def journal_of(lot_id: int) -> list[TraceEvent]:
    """The lot's events in time order with their points, inputs and attachments."""
    return list(db.session.scalars(
        sa.select(TraceEvent).where(TraceEvent.lot_id == lot_id).options(*_event_options())
        .order_by(TraceEvent.occurred_at, TraceEvent.id)))


def journal_version(lot_id: int) -> tuple:
    """What identifies the state of a lot's journal, in one small query: the journal is append-only (rows are never
    updated or deleted), so the count and the last ids of its events, inputs and attachments change exactly when
    anything is added. Pages key their rendering of the journal on it."""
    of_lot = TraceEvent.lot_id == lot_id
    row = db.session.execute(sa.select(
        sa.select(sa.func.count(TraceEvent.id)).where(of_lot).scalar_subquery(),
        sa.select(sa.func.max(TraceEvent.id)).where(of_lot).scalar_subquery(),
        sa.select(sa.func.max(TraceInput.id)).join(TraceEvent, TraceEvent.id == TraceInput.event_id)
        .where(of_lot).scalar_subquery(),
        sa.select(sa.func.max(TraceAttachment.id)).join(TraceEvent, TraceEvent.id == TraceAttachment.event_id)
        .where(of_lot).scalar_subquery(),
    )).one()
    return tuple(row)


def certificate_now(product_id: int, day: date) -> tuple[Certificate | None, str]:
    """Checked live: the certificate valid on `day` and "valid", else the last certificate and why it no longer
    counts (expired, withdrawn, superseded, not yet valid), else (None, "none")."""
    certificate = current_certificate(product_id, day)
    if certificate is not None:
        return certificate, "valid"
    history = certificate_history(product_id)
    if not history:
        return None, "none"
    return history[0], history[0].status_on(day).value


def timeline(events: list[TraceEvent]) -> list[TimelineEntry]:
    """The events in time order, each with the later event that corrects it (the latest when several do)."""
    by_id = {event.id: event for event in events}
    corrected_by: dict[int, TraceEvent] = {}
    for event in sorted(events, key=lambda e: (e.recorded_at, e.id)):
        if event.corrects_id is not None:
            corrected_by[event.corrects_id] = event
    return [TimelineEntry(event, corrected_by.get(event.id), by_id.get(event.corrects_id or 0)) for event in events]


def trace_view(lot: Lot, day: date, events: list[TraceEvent] | None = None) -> TraceView:
    """The page's facts; the timeline of `events` (default: the lot's loaded journal)."""
    certificate, status = certificate_now(lot.product_id, day)
    return TraceView(lot=lot, product=lot.product, producer=lot.product.producer, certificate=certificate,
                     certificate_status=status, timeline=timeline(list(lot.events if events is None else events)))


def attachment_of_lot(lot_id: int, attachment_id: int) -> TraceAttachment | None:
    """An attachment only through the lot it belongs to: the id of another lot's file finds nothing."""
    return db.session.scalar(
        sa.select(TraceAttachment).join(TraceEvent, TraceEvent.id == TraceAttachment.event_id)
        .where(TraceAttachment.id == attachment_id, TraceEvent.lot_id == lot_id))

