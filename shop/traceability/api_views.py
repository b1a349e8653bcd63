"""GET /api/v1/trace/<code>: a lot and its events as JSON, or as an EPCIS 2.0 JSON-LD document (?format=epcis).

Public like the trace page, and like it never cached for long: a recall must show on the next read."""
from flask import Blueprint, current_app, request
from flask_babel import gettext as _

from shop import api
from shop.core.clock import today
from shop.core.models import utcnow
from shop.core.urls import public_base, public_url_for
from shop.traceability.epcis import EpcisWriter, epcis_document
from shop.traceability.models import Lot, TraceEvent
from shop.traceability.trace_page import TimelineEntry, TraceView, lot_by_trace_code, timeline, trace_view
from shop.traceability.views import journal_cached, lot_link, points_holding
from shop.web import json_error

bp = Blueprint("trace_api", __name__)

FORMATS = ("json", "epcis")


@bp.after_request
def fresh(response):
    response.headers["Cache-Control"] = "no-cache"
    return response


def _input_json(item) -> dict:
    return {"material": item.material, "supplier": item.supplier, "origin": item.origin,
            "quantity": str(item.quantity.normalize()) if item.quantity is not None else None, "unit": item.unit,
            "supplier_lot": item.supplier_lot}


def _attachment_json(lot: Lot, file) -> dict:
    return {"title": file.title, "kind": str(file.kind), "content_type": file.content_type,
            "size_bytes": file.size_bytes, "sha256": file.sha256,
            "url": public_url_for("trace.attachment", code=lot.trace_code, attachment_id=file.id)}


def _event_json(lot: Lot, entry: TimelineEntry) -> dict:
    event: TraceEvent = entry.event
    return {
        "id": event.id,
        "type": str(event.event_type),
        "occurred_at": event.occurred_at.isoformat(),
        "place": event.place,
        "province_code": event.province_code,
        "ward_code": event.ward_code,
        "point": api.point_json(event.point) if event.point else None,
        "actor": event.actor_name,
        "previous_step": event.previous_step,
        "next_step": event.next_step,
        "description": event.description,
        "reference": event.reference,
        "automatic": event.automatic,
        "corrects": event.corrects_id,
        "corrected_by": entry.corrected_by.id if entry.corrected_by else None,
        "recorded_at": event.recorded_at.isoformat(),
        "inputs": [_input_json(item) for item in event.inputs],
        "attachments": [_attachment_json(lot, file) for file in event.attachments],
    }


def _certificate_json(view: TraceView) -> dict | None:
    if view.certificate is None:
        return None
    return {**api.lapsed_certificate_json(view.certificate, today()), "status": view.certificate_status}


def trace_json(view: TraceView, events: list[dict]) -> dict:
    lot = view.lot
    return {
        "trace_code": lot.trace_code,
        "url": public_url_for("trace.trace", code=lot.trace_code),
        "digital_link": lot_link(lot),
        "lot": {
            "lot_code": lot.lot_code,
            "production_date": lot.production_date.isoformat(),
            "expiry_date": lot.expiry_date.isoformat() if lot.expiry_date else None,
            "quantity": lot.quantity,
            "status": str(lot.status),
        },
        "recall": ({"recalled_at": lot.recalled_at.isoformat(), "reason": lot.recall_reason}
                   if lot.is_recalled else None),
        "product": {**api.product_ref_json(view.product), "gtin": view.product.gtin,
                    "image": api.image_ref(view.product.cover)},
        "producer": {**api.producer_ref_json(view.producer), "address": api.address_json(view.producer),
                     "url": public_url_for("producers.producer_detail", slug=view.producer.slug)},
        "certificate_status": view.certificate_status,
        "certificate": _certificate_json(view),
        "events": events,
        "on_sale_at": [] if lot.is_recalled else [api.point_json(point) for point in points_holding(lot.id)],
    }


@bp.route("/trace/<code>")
def trace(code: str):
    wanted = request.args.get("format") or "json"
    if wanted not in FORMATS:
        return json_error(400, "invalid_parameter", _("Unknown value “%(value)s” for format: use json or epcis.",
                                                      value=wanted[:40]), parameter="format")
    lot = lot_by_trace_code(code, with_events=False)
    if lot is None:
        return json_error(404, "not_found", _("No lot has the trace code %(code)s.", code=code[:40]))
    view = trace_view(lot, today(), events=[])
    if wanted == "epcis":
        base, prefix = public_base(), current_app.config.get("GS1_COMPANY_PREFIX_LENGTH", 9)
        events = journal_cached(lot, "epcis", lambda journal: EpcisWriter(lot, base, prefix).events(timeline(journal)),
                                base, prefix)
        response = current_app.json.response(epcis_document(events, created_at=utcnow(), base_url=base))
        response.mimetype = "application/ld+json"
        return response
    # The events' URLs are absolute (on PUBLIC_URL): the base is part of the key.
    events = journal_cached(lot, "json", lambda journal: [_event_json(lot, entry) for entry in timeline(journal)],
                            public_base())
    return trace_json(view, events)
