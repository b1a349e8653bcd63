"""A lot's journal as an EPCIS 2.0 document (JSON-LD), the GS1 event format behind TCVN 12850:2019.

Every event is about the lot as a class (all units of one lot of one product): its identifier is the class-level
LGTIN `urn:epc:class:lgtin:<company prefix>.<indicator + item reference>.<lot>` when the product has a GTIN, else the
lot's trace page URL. An LGTIN needs the length of the GS1 company prefix, which a GTIN does not carry: it is a
parameter (GS1 Việt Nam prefixes are 893 followed by 4 to 6 digits; 9 is assumed unless told).

Places are the public pages of the sales point or of the producer; the free-text one step back / one step forward
are kept in the `ocop:` extension beside source and destination ids that point at the event on the trace page.
A corrected event carries an errorDeclaration naming the event that corrects it."""
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

from shop.core.clock import VN_TZ
from shop.traceability.digital_link import gtin14
from shop.traceability.models import Lot, TraceEvent, TraceEventType
from shop.traceability.trace_page import TimelineEntry

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
TIME_ZONE_OFFSET = "+07:00"
DEFAULT_COMPANY_PREFIX_LENGTH = 9

# event type -> (EPCIS event type, action, CBV business step, CBV disposition)
MAPPING = {
    TraceEventType.SOURCING: ("ObjectEvent", "ADD", "commissioning", "active"),
    TraceEventType.RECEIVING_INPUTS: ("ObjectEvent", "OBSERVE", "receiving", "in_progress"),
    TraceEventType.PROCESSING: ("TransformationEvent", None, "commissioning", "active"),
    TraceEventType.PACKING: ("ObjectEvent", "OBSERVE", "packing", "in_progress"),
    TraceEventType.QUALITY_TEST: ("ObjectEvent", "OBSERVE", "inspecting", "active"),
    TraceEventType.SHIPPING: ("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
    TraceEventType.RECEIVED_AT_POINT: ("ObjectEvent", "OBSERVE", "receiving", "sellable_accessible"),
    TraceEventType.TRANSFERRED: ("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
    TraceEventType.RECALLED: ("ObjectEvent", "OBSERVE", "holding", "recalled"),
}
# UN/ECE Recommendation 20 codes of the units producers type most.
UNITS = {"kg": "KGM", "g": "GRM", "tấn": "TNE", "t": "TNE", "l": "LTR", "lít": "LTR", "ml": "MLT"}
# Characters an EPC URI may carry in a lot number without escaping (GS1 EPC Tag Data Standard, table A).
EPC_SAFE = "!'()*+,-.:;=_"


def lgtin_class(gtin: str, lot_code: str, company_prefix_length: int = DEFAULT_COMPANY_PREFIX_LENGTH) -> str:
    """urn:epc:class:lgtin:CompanyPrefix.IndicatorItemRef.Lot of a 14-digit GTIN and a lot number."""
    if not 6 <= company_prefix_length <= 12:
        raise ValueError("a GS1 company prefix has 6 to 12 digits")
    prefix = gtin[1:1 + company_prefix_length]
    item = gtin[0] + gtin[1 + company_prefix_length:13]
    return f"urn:epc:class:lgtin:{prefix}.{item}.{quote(lot_code, safe=EPC_SAFE)}"


def _time(value: datetime) -> str:
    return value.astimezone(VN_TZ).isoformat(timespec="milliseconds")


def _utc(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _quantity(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class EpcisWriter:
    def __init__(self, lot: Lot, base_url: str, company_prefix_length: int = DEFAULT_COMPANY_PREFIX_LENGTH):
        self.lot = lot
        self.base = base_url.rstrip("/")
        self.trace_url = f"{self.base}/t/{lot.trace_code}"
        gtin = gtin14(lot.product.gtin)
        self.lot_class = lgtin_class(gtin, lot.lot_code, company_prefix_length) if gtin else self.trace_url

    def event_id(self, event: TraceEvent) -> str:
        return f"{self.trace_url}#event-{event.id}"

    def lot_quantity(self) -> dict:
        element = {"epcClass": self.lot_class}
        if self.lot.quantity:
            element["quantity"] = self.lot.quantity
        return element

    def input_quantities(self, event: TraceEvent) -> list[dict]:
        elements = []
        for item in event.inputs:
            element = {"epcClass": f"{self.trace_url}#input-{item.id}", "quantity": _quantity(item.quantity)}
            uom = UNITS.get(item.unit.strip().lower())
            if uom:
                element["uom"] = uom
            elements.append(element)
        return elements

    def location(self, event: TraceEvent) -> str:
        if event.point is not None:
            return f"{self.base}/points/{event.point.code}"
        return f"{self.base}/producers/{self.lot.product.producer.slug}"

    def ilmd(self) -> dict:
        data = {"cbvmda:lotNumber": self.lot.lot_code,
                "ocop:productionDate": self.lot.production_date.isoformat()}
        if self.lot.expiry_date:
            data["cbvmda:itemExpirationDate"] = self.lot.expiry_date.isoformat()
        return data

    def event(self, entry: TimelineEntry) -> dict:
        event = entry.event
        kind, action, step, disposition = MAPPING[TraceEventType(event.event_type)]
        data: dict = {"type": kind, "eventID": self.event_id(event), "eventTime": _time(event.occurred_at),
                      "eventTimeZoneOffset": TIME_ZONE_OFFSET, "recordTime": _utc(event.recorded_at)}
        if kind == "TransformationEvent":
            inputs = self.input_quantities(event)
            if inputs:
                data["inputQuantityList"] = inputs
            data["outputQuantityList"] = [self.lot_quantity()]
        else:
            data["epcList"] = []
            data["action"] = action
            quantities = [self.lot_quantity()]
            if event.event_type == TraceEventType.RECEIVING_INPUTS:
                quantities += self.input_quantities(event)
            data["quantityList"] = quantities
        data["bizStep"] = step
        data["disposition"] = disposition
        place = self.location(event)
        data["readPoint"] = {"id": place}
        data["bizLocation"] = {"id": place}
        if event.previous_step:
            data["sourceList"] = [{"type": "location", "source": f"{self.event_id(event)}-from"}]
        at_point = event.event_type == TraceEventType.RECEIVED_AT_POINT and event.point is not None
        if at_point or event.next_step:
            destination = place if at_point else f"{self.event_id(event)}-to"
            data["destinationList"] = [{"type": "location", "destination": destination}]
        if kind == "TransformationEvent" or action == "ADD":
            data["ilmd"] = self.ilmd()
        if entry.corrected_by is not None:
            data["errorDeclaration"] = {"declarationTime": _utc(entry.corrected_by.recorded_at),
                                        "reason": "incorrect_data",
                                        "correctiveEventIDs": [self.event_id(entry.corrected_by)]}
        extension = {"ocop:actor": event.actor_name, "ocop:place": event.place, "ocop:previousStep":
                     event.previous_step, "ocop:nextStep": event.next_step, "ocop:description": event.description,
                     "ocop:reference": event.reference, "ocop:eventType": str(event.event_type)}
        data.update({key: value for key, value in extension.items() if value})
        return data

    def events(self, timeline: list[TimelineEntry]) -> list[dict]:
        return [self.event(entry) for entry in timeline]


def epcis_document(events: list[dict], *, created_at: datetime, base_url: str) -> dict:
    """The EPCIS document around a lot's events (EpcisWriter.events)."""
    return {
        "@context": [EPCIS_CONTEXT, {"ocop": f"{base_url.rstrip('/')}/ns/trace#"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _utc(created_at),
        "epcisBody": {"eventList": events},
    }
