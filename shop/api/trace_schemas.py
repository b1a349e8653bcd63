"""The response schemas of GET /trace/<code>: a lot, its product, producer and certificate, and its journal."""
from marshmallow import INCLUDE, Schema, fields

from shop.certification.models import CertificateStatus
from shop.core.urls import public_url_for
from shop.traceability.models import AttachmentKind, LotStatus, TraceEventType
from shop.traceability.views import lot_link

from .shapes import (
    AddressSchema,
    LapsedCertificateSchema,
    ProductRefSchema,
    SalesPointSchema,
    Shape,
    choice,
    count,
    day_field,
    list_image_url,
    slug_field,
    text,
    url_field,
)


class TraceInputSchema(Shape):
    material = text()
    supplier = text(allow_none=True)
    origin = text(allow_none=True)
    quantity = fields.Decimal(as_string=True, metadata={"type": "string", "description": "Decimal, as text."})
    unit = text()
    supplier_lot = text(allow_none=True)

    def value_of_quantity(self, item):
        return item.quantity.normalize()


class TraceAttachmentSchema(Shape):
    title = text()
    kind = fields.Enum(AttachmentKind, by_value=True)
    content_type = text()
    size_bytes = count()
    sha256 = text()
    url = url_field()

    def value_of_url(self, file):
        return public_url_for("trace.attachment", code=file.event.lot.trace_code, attachment_id=file.id)


class TraceEventSchema(Shape):
    """One event of the journal. Dumps a traceability.trace_page.TimelineEntry."""
    id = fields.Integer(attribute="event.id")
    type = fields.Enum(TraceEventType, by_value=True, attribute="event.event_type")
    occurred_at = fields.DateTime(attribute="event.occurred_at")
    place = text(attribute="event.place", allow_none=True)
    province_code = fields.Integer(attribute="event.province_code", allow_none=True)
    ward_code = fields.Integer(attribute="event.ward_code", allow_none=True)
    point = fields.Nested(SalesPointSchema, attribute="event.point", allow_none=True)
    actor = text(attribute="event.actor_name")
    previous_step = text(attribute="event.previous_step", allow_none=True)
    next_step = text(attribute="event.next_step", allow_none=True)
    description = text(attribute="event.description", allow_none=True)
    reference = text(attribute="event.reference", allow_none=True)
    automatic = fields.Boolean(attribute="event.automatic")
    corrects = fields.Integer(attribute="event.corrects_id", allow_none=True)
    corrected_by = fields.Integer(allow_none=True)
    recorded_at = fields.DateTime(attribute="event.recorded_at")
    inputs = fields.List(fields.Nested(TraceInputSchema), attribute="event.inputs")
    attachments = fields.List(fields.Nested(TraceAttachmentSchema), attribute="event.attachments")

    def value_of_corrected_by(self, entry):
        return entry.corrected_by.id if entry.corrected_by else None


class Serialised(fields.Nested):
    """Objects the journal cache keeps already dumped by their schema: sent as they are, documented as that
    schema."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class TraceLotSchema(Shape):
    lot_code = text()
    production_date = day_field()
    expiry_date = day_field(allow_none=True)
    quantity = fields.Integer(allow_none=True)
    status = fields.Enum(LotStatus, by_value=True)


class RecallSchema(Shape):
    recalled_at = fields.DateTime()
    reason = text(attribute="recall_reason")


class TraceProductSchema(ProductRefSchema):
    gtin = text(allow_none=True)
    image = url_field("640-pixel WebP rendition of the cover picture.", allow_none=True)

    def value_of_image(self, product):
        return list_image_url(product.cover)


class TraceProducerSchema(Shape):
    slug = slug_field()
    name = text()
    address = fields.Nested(AddressSchema)
    url = url_field()

    def value_of_address(self, producer):
        return producer

    def value_of_url(self, producer):
        return public_url_for("producers.producer_detail", slug=producer.slug)


class TraceSchema(Shape):
    """A lot and its journal. Dumps a TraceDocument (shop.api.trace_views)."""
    trace_code = text(attribute="view.lot.trace_code")
    url = url_field("The lot's trace page.")
    digital_link = url_field("GS1 Digital Link of the lot (its QR code).")
    lot = fields.Nested(TraceLotSchema, attribute="view.lot")
    recall = fields.Nested(RecallSchema, allow_none=True)
    product = fields.Nested(TraceProductSchema, attribute="view.product")
    producer = fields.Nested(TraceProducerSchema, attribute="view.producer")
    certificate_status = choice([*(status.value for status in CertificateStatus), "none"])
    certificate = fields.Nested(LapsedCertificateSchema, attribute="view.certificate", allow_none=True,
                                metadata={"description": "The product's latest certificate, its status checked now."})
    events = Serialised(TraceEventSchema, many=True)
    on_sale_at = fields.List(fields.Nested(SalesPointSchema),
                             metadata={"description": "Open points holding the lot (none once recalled)."})

    def value_of_url(self, document):
        return public_url_for("trace.trace", code=document.view.lot.trace_code)

    def value_of_digital_link(self, document):
        return lot_link(document.view.lot)

    def value_of_recall(self, document):
        return document.view.lot if document.view.lot.is_recalled else None

    def value_of_certificate_status(self, document):
        return document.view.certificate_status


class EpcisDocumentSchema(Schema):
    """EPCISDocument (EPCIS 2.0 JSON-LD), written by shop.traceability.epcis; documented, never dumped here."""

    class Meta:
        unknown = INCLUDE
