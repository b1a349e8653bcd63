"""Reads of lots and their journal, for the producer portal, the public trace page (/t/<code>), the trace API and
the label sheets. A lot's whole timeline loads in three queries (events with their points, then inputs and
attachments by selectinload), whatever the number of events."""
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from shop.catalog.models import Product
from shop.core.pagination import Page, clamp_page
from shop.core.text import nfc
from shop.extensions import db
from shop.producers.models import Producer
from shop.traceability.models import Lot, LotStatus, TraceAttachment, TraceEvent

LOTS_PER_PAGE = 25


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a lot's timeline. `superseded_by` is the correction that replaces it (None when it stands);
    `corrects` is the event this one corrects (None for an ordinary event)."""

    event: TraceEvent
    superseded_by: TraceEvent | None
    corrects: TraceEvent | None

    @property
    def is_superseded(self) -> bool:
        return self.superseded_by is not None


def _lot_query():
    return sa.select(Lot).options(joinedload(Lot.product).joinedload(Product.producer))


def lots_of_producer(producer_id: int | None, *, q: str | None = None, status: LotStatus | None = None,
                     product_id: int | None = None, page: int = 1, per_page: int = LOTS_PER_PAGE) -> Page:
    """A Page of Lot objects (product and producer loaded), newest production first. `producer_id` None: every
    producer's lots (admins). `q` matches the lot code, the trace code or the product name."""
    query = sa.select(Lot).join(Product, Product.id == Lot.product_id)
    if producer_id is not None:
        query = query.where(Product.producer_id == producer_id)
    if status is not None:
        query = query.where(Lot.status == status)
    if product_id is not None:
        query = query.where(Lot.product_id == product_id)
    q = (nfc(q) or "").strip()
    if q:
        like = f"%{q.lower()}%"
        query = query.where(sa.or_(sa.func.lower(Lot.lot_code).like(like), sa.func.lower(Lot.trace_code).like(like),
                                   sa.func.lower(Product.name).like(like)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = clamp_page(page, total, per_page)
    items = list(db.session.scalars(
        query.options(joinedload(Lot.product).joinedload(Product.producer))
        .order_by(Lot.production_date.desc(), Lot.id.desc()).limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=total, page=page, per_page=per_page)


def event_counts(lot_ids: list[int]) -> dict[int, int]:
    """Number of journal events per lot id (lots without events are absent)."""
    if not lot_ids:
        return {}
    return dict(db.session.execute(sa.select(TraceEvent.lot_id, sa.func.count(TraceEvent.id))
                                   .where(TraceEvent.lot_id.in_(lot_ids)).group_by(TraceEvent.lot_id)).all())


def get_lot(lot_id: int) -> Lot | None:
    return db.session.scalar(_lot_query().where(Lot.id == lot_id))


def lot_by_trace_code(code: str) -> Lot | None:
    """The Lot of a short trace code (case and surrounding spaces ignored), product and producer loaded."""
    code = (code or "").strip().upper()
    if not code or len(code) > 16:
        return None
    return db.session.scalar(_lot_query().where(Lot.trace_code == code))


def lot_by_gtin_and_code(gtin: str, lot_code: str) -> Lot | None:
    """The Lot of a GS1 Digital Link (/01/<GTIN>/10/<lot>): the product with that GTIN, its lot with that code.
    The GTIN is compared as stored (14 digits at most); the caller checks the check digit."""
    lot_code = (nfc(lot_code) or "").strip()
    if not gtin or not lot_code:
        return None
    candidates = {gtin, gtin.lstrip("0")} | ({gtin[1:]} if len(gtin) == 14 and gtin.startswith("0") else set())
    return db.session.scalar(_lot_query().join(Product, Product.id == Lot.product_id)
                             .where(Product.gtin.in_(candidates), Lot.lot_code == lot_code))


def lot_timeline(lot: Lot | int) -> list[TimelineEntry]:
    """The lot's events in time order (occurred_at, then id), each with its inputs, attachments and point
    loaded, and linked to its correction: three queries in all."""
    lot_id = lot if isinstance(lot, int) else lot.id
    events = list(db.session.scalars(
        sa.select(TraceEvent).where(TraceEvent.lot_id == lot_id)
        .options(selectinload(TraceEvent.inputs), selectinload(TraceEvent.attachments), joinedload(TraceEvent.point))
        .order_by(TraceEvent.occurred_at, TraceEvent.id)))
    by_id = {event.id: event for event in events}
    superseded_by: dict[int, TraceEvent] = {}
    for event in sorted(events, key=lambda e: e.id):
        if event.corrects_id is not None:
            superseded_by[event.corrects_id] = event
    return [TimelineEntry(event=event, superseded_by=superseded_by.get(event.id),
                          corrects=by_id.get(event.corrects_id) if event.corrects_id else None) for event in events]


def timeline_events(lot: Lot | int, *, current_only: bool = False) -> list[TraceEvent]:
    """The TraceEvent objects of lot_timeline; `current_only` leaves out events superseded by a correction."""
    return [entry.event for entry in lot_timeline(lot) if not (current_only and entry.is_superseded)]


def get_event(event_id: int) -> TraceEvent | None:
    return db.session.get(TraceEvent, event_id)


def get_attachment(attachment_id: int) -> TraceAttachment | None:
    """An attachment with its event loaded (its lot id says who may download it)."""
    return db.session.scalar(sa.select(TraceAttachment).where(TraceAttachment.id == attachment_id)
                             .options(joinedload(TraceAttachment.event)))


def producers_with_lots() -> list[Producer]:
    """Producers that have at least one lot, by name (the admin's filter)."""
    return list(db.session.scalars(
        sa.select(Producer).where(Producer.id.in_(
            sa.select(Product.producer_id).join(Lot, Lot.product_id == Product.id))).order_by(Producer.name)))
