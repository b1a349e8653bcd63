"""GET /api/v1/trace/<code>: a lot and its events as JSON, or as an EPCIS 2.0 JSON-LD document (?format=epcis).

Public like the trace page, and like it never cached for long: a recall must show on the next read."""
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from shop.core.clock import today
from shop.core.models import utcnow
from shop.core.urls import public_base
from shop.sales_points.models import SalesPoint
from shop.traceability.epcis import EpcisWriter, epcis_document
from shop.traceability.trace_page import TraceView, lot_by_trace_code, timeline, trace_view
from shop.traceability.views import journal_cached, points_holding
from shop.web import json_error

from .arguments import TraceQuery
from .trace_schemas import EpcisDocumentSchema, TraceEventSchema, TraceSchema
from .views import ApiBlueprint

trace = ApiBlueprint("trace_api", __name__, description="Traceability of a lot.")


@trace.after_request
def fresh(response):
    response.headers["Cache-Control"] = "no-cache"
    return response


JOURNAL = "The lot's journal; with format=epcis, an EPCISDocument (EPCIS 2.0 JSON-LD)."


@dataclass
class TraceDocument:
    view: TraceView
    events: list[dict]
    on_sale_at: list[SalesPoint]


@trace.route("/trace/<code>")
@trace.query(TraceQuery)
@trace.response(200, TraceSchema, description=JOURNAL)
@trace.alt_response(200, schema=EpcisDocumentSchema, content_type="application/ld+json", description=JOURNAL)
@trace.alt_response(404, response="NOT_FOUND")
@trace.doc(description="The lot, its product and producer, the certificate's status checked now, the journal of "
                       "events (critical tracking events with their inputs, places, one step back and one step "
                       "forward, attachments) and the open points holding the lot. With format=epcis the same "
                       "journal is an EPCIS 2.0 JSON-LD document (application/ld+json).")
def trace_lot(query: dict, code: str):
    """A lot's traceability journal (the data of the QR code's trace page)"""
    lot = lot_by_trace_code(code, with_events=False)
    if lot is None:
        return json_error(404, "not_found", _("No lot has the trace code %(code)s.", code=code[:40]))
    base = public_base()
    if query["format"] == "epcis":
        prefix = current_app.config.get("GS1_COMPANY_PREFIX_LENGTH", 9)
        events = journal_cached(lot, "epcis", lambda journal: EpcisWriter(lot, base, prefix).events(timeline(journal)),
                                base, prefix)
        response = current_app.json.response(epcis_document(events, created_at=utcnow(), base_url=base))
        response.mimetype = "application/ld+json"
        return response
    # The events' URLs are absolute (on PUBLIC_URL): the base is part of the key.
    events = journal_cached(lot, "json", lambda journal: TraceEventSchema(many=True).dump(timeline(journal)), base)
    return TraceDocument(trace_view(lot, today(), events=[]), events,
                         [] if lot.is_recalled else points_holding(lot.id))
