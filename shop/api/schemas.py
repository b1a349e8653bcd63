"""The response schemas of the catalogue, the producers and the sales points."""
from marshmallow import Schema, fields
from marshmallow.validate import Range

from shop.certification.models import MIN_CERTIFIED_STARS, CertificateStatus
from shop.core.clock import today
from shop.core.text import render_markdown
from shop.core.urls import public_url_for
from shop.inventory.availability import Band
from shop.producers.models import DocumentKind, LegalForm
from shop.search.browse import ProductCard

from .shapes import (
    MAX_STARS,
    AddressSchema,
    CertificateSchema,
    ImageSchema,
    LapsedCertificateSchema,
    ProductRefSchema,
    ProductSummarySchema,
    SalesPointSchema,
    Shape,
    choice,
    count,
    day_field,
    paginated,
    slug_field,
    text,
    url_field,
)

LOT_STATUSES = ("sellable", "expired", "recalled")
FACETS = ("stars", "group", "locality", "producer", "price")


# --- products ---------------------------------------------------------------------------------------------

class FacetValueSchema(Shape):
    key = text()
    label = text()
    count = count()


# Not a Shape: a facet is left out when the listing has nothing to count for it.
FacetsSchema = Schema.from_dict({name: fields.List(fields.Nested(FacetValueSchema)) for name in FACETS},
                                name="Facets")


ProductListSchema = paginated(
    "ProductList", ProductSummarySchema,
    facets=fields.Nested(FacetsSchema, metadata={"description": "Counts beside each filter; a facet's counts ignore "
                                                                "its own choice."}))


class ProductDetailSchema(ProductSummarySchema):
    """One published product, also when its certification has lapsed (then `stars` and `certificate` are
    null and `last_certificate` says why). Dumps a search.browse.ProductView."""
    stars = fields.Integer(validate=Range(MIN_CERTIFIED_STARS, MAX_STARS), allow_none=True)
    certificate = fields.Nested(CertificateSchema, allow_none=True)
    description = text(attribute="product.description")
    story_html = text("The producer's story, sanitised HTML.")
    gtin = fields.String(attribute="product.gtin", allow_none=True, metadata={"pattern": "^[0-9]{8,14}$"})
    images = fields.List(fields.Nested(ImageSchema), attribute="product.images")
    certified = fields.Boolean(metadata={"description": "True only with a valid certificate of 3 stars or more."})
    certificate_status = choice([*(status.value for status in CertificateStatus), "none"],
                                "“valid” when certified; otherwise the status of the last certificate, or “none” "
                                "when there never was one.")
    last_certificate = fields.Nested(LapsedCertificateSchema, allow_none=True)
    points = fields.List(fields.Nested(SalesPointSchema),
                         metadata={"description": "Open sales points carrying it (empty unless certified)."})

    def value_of_story_html(self, view):
        return str(render_markdown(view.product.story_md))

    def value_of_certified(self, view):
        return view.certificate is not None

    def value_of_certificate_status(self, view):
        if view.certificate is not None:
            return "valid"
        return view.last_certificate.status_on(today()).value if view.last_certificate else "none"

    def value_of_last_certificate(self, view):
        return view.last_certificate if view.certificate is None else None


# --- producers ----------------------------------------------------------------------------------------------

class DocumentSchema(Shape):
    kind = fields.Enum(DocumentKind, by_value=True)
    number = text()
    issued_on = day_field(allow_none=True)
    valid_until = day_field(allow_none=True)
    valid = fields.Boolean(metadata={"description": "Still valid today (no end date counts as valid)."})

    def value_of_valid(self, document):
        return document.is_valid_on(today())


class ContactSchema(Shape):
    phone = text(allow_none=True)
    email = text(allow_none=True)
    website = text(allow_none=True)


class ProducerSchema(Shape):
    """A producer's profile and its certified, published products. Dumps a ProducerProfile."""
    slug = slug_field(attribute="producer.slug")
    name = text(attribute="producer.name")
    legal_form = fields.Enum(LegalForm, by_value=True, attribute="producer.legal_form")
    registration_no = text(attribute="producer.registration_no", allow_none=True)
    address = fields.Nested(AddressSchema)
    story_html = text("Sanitised HTML.")
    contact = fields.Nested(ContactSchema)
    documents = fields.List(fields.Nested(DocumentSchema), attribute="producer.documents")
    logo = fields.Nested(ImageSchema, attribute="producer.logo", allow_none=True)
    photos = fields.List(fields.Nested(ImageSchema), attribute="producer.photos")
    url = url_field("The producer's page on the site.")
    products = fields.List(fields.Nested(ProductSummarySchema),
                           metadata={"description": "Its certified, published products."})

    def value_of_address(self, profile):
        return profile.producer

    def value_of_contact(self, profile):
        return profile.producer

    def value_of_story_html(self, profile):
        return str(render_markdown(profile.producer.story_md))

    def value_of_url(self, profile):
        return public_url_for("producers.producer_detail", slug=profile.producer.slug)

    def value_of_products(self, profile) -> list[ProductCard]:
        return [ProductCard(product, certificate) for product, certificate in profile.products]


# --- sales points and their stock --------------------------------------------------------------------------

class LocationSchema(Shape):
    latitude = fields.Float(validate=Range(-90, 90))
    longitude = fields.Float(validate=Range(-180, 180))


class HoursSchema(Shape):
    """Opening hours, every day (local time, 24-hour)."""
    opens = fields.Time(format="%H:%M", metadata={"pattern": r"^[0-2][0-9]:[0-5][0-9]$"})
    closes = fields.Time(format="%H:%M", metadata={"pattern": r"^[0-2][0-9]:[0-5][0-9]$"})

    def value_of_opens(self, point):
        return point.opens_at

    def value_of_closes(self, point):
        return point.closes_at


class SalesPointSummarySchema(SalesPointSchema):
    """An open sales point as listed: where it is, when it opens, how to call it."""
    location = fields.Nested(LocationSchema, allow_none=True)
    hours = fields.Nested(HoursSchema, allow_none=True)
    phone = text(allow_none=True)

    def value_of_location(self, point):
        return point if point.latitude is not None and point.longitude is not None else None

    def value_of_hours(self, point):
        return point if point.opens_at is not None and point.closes_at is not None else None


class SalesPointDetailSchema(SalesPointSummarySchema):
    photos = fields.List(fields.Nested(ImageSchema))


SalesPointListSchema = paginated("SalesPointList", SalesPointSummarySchema)

BAND = fields.Enum(Band, by_value=True, metadata={
    "description": "in_stock; few_left (at most a few units available); out_of_stock."})


class StockBandSchema(Shape):
    """What anyone may know of a product's stock at a point: a band, never a quantity. Dumps a
    ProductAvailability."""
    product = fields.Nested(ProductRefSchema)
    band = BAND


class LotStockSchema(Shape):
    lot_code = text(attribute="lot.lot_code")
    production_date = day_field(attribute="lot.production_date")
    expiry_date = day_field(attribute="lot.expiry_date", allow_none=True)
    status = choice(LOT_STATUSES, "Only a sellable lot counts as available.")
    on_hand = count()
    reserved = count()
    available = count("on_hand − reserved of a sellable lot, else 0.")

    def value_of_status(self, stock):
        if stock.lot.is_recalled:
            return "recalled"
        return "sellable" if stock.sellable else "expired"


class StockExactSchema(StockBandSchema):
    """For the point's managers, trade officers and admins: the quantities, by lot. Dumps a pair
    (ProductAvailability, its LotStock list) as `row` and `lots`."""
    product = fields.Nested(ProductRefSchema, attribute="row.product")
    band = fields.Enum(Band, by_value=True, attribute="row.band", metadata=BAND.metadata)
    available = count("Units that may be sold now.", attribute="row.available")
    lots = fields.List(fields.Nested(LotStockSchema),
                       metadata={"description": "Lots with units on hand, soonest expiry first."})


class PointRefSchema(Shape):
    code = text()
    name = text()


PointStockBandsSchema = paginated("PointStockBands", StockBandSchema, point=fields.Nested(PointRefSchema),
                                  detail=fields.Constant("bands", metadata={"type": "string", "enum": ["bands"]}))
PointStockExactSchema = paginated("PointStockExact", StockExactSchema, point=fields.Nested(PointRefSchema),
                                  detail=fields.Constant("exact", metadata={"type": "string", "enum": ["exact"]}))
