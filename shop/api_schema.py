"""The OpenAPI 3.1 document of /api/v1, written as data. Enumerations and limits come from the same constants
the code checks against, so the document cannot drift from the validation (tests/api check both ways).

Schemas are JSON Schema 2020-12 (as OpenAPI 3.1 says). Every object lists all its properties as required and
forbids others: the API always sends every key (null when there is no value), and the tests validate real
responses against these schemas, so an undocumented field fails them.
"""
from shop.catalog.groups import GROUPS, SUBGROUPS
from shop.catalog.services import MAX_PRICE_VND
from shop.certification.models import CertificateStatus, IssuingLevel
from shop.core.admin_units import FORMER_DISTRICTS
from shop.core.pagination import MAX_PAGE
from shop.inventory.availability import Band
from shop.producers.models import DocumentKind, LegalForm
from shop.sales_points.models import PointTier
from shop.search.filters import MAX_QUERY_LENGTH, SORTS

API_VERSION = "1.0.0"
ERROR_CODES = ("invalid_parameter", "not_found", "unauthorized", "forbidden", "method_not_allowed", "bad_request",
               "rate_limited", "server_error")
STOCK_DETAILS = ("bands", "exact")  # as in inventory.api_views.DETAILS
LOT_STATUSES = ("sellable", "expired", "recalled")
TRACE_EVENT_TYPES = ("sourcing", "receiving_inputs", "processing", "packing", "quality_test", "shipping",
                     "received_at_point", "transferred", "recalled")  # as traceability.models.TraceEventType


# --- small helpers ------------------------------------------------------------------------------------------

def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    result = {**schema, "type": [*kinds, "null"]}
    if "enum" in schema:  # an enum restricts values on its own: null must be listed too
        result["enum"] = [*schema["enum"], None]
    return result


def obj(properties: dict, description: str | None = None, optional: tuple[str, ...] = ()) -> dict:
    schema = {"type": "object", "properties": properties,
              "required": [name for name in properties if name not in optional],
              "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


def array(items: dict, **extra) -> dict:
    return {"type": "array", "items": items, **extra}


def string(description: str | None = None, **extra) -> dict:
    return {"type": "string", **({"description": description} if description else {}), **extra}


def integer(minimum: int | None = None, maximum: int | None = None, description: str | None = None) -> dict:
    schema: dict = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if description:
        schema["description"] = description
    return schema


def enum(values, description: str | None = None) -> dict:
    return string(description, enum=list(values))


DATE = string("ISO 8601 calendar date (Vietnam time).", format="date")
URL = string(format="uri")
BOOLEAN = {"type": "boolean"}


def query_parameter(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def path_parameter(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": string(maxLength=140),
            "description": description}


def json_response(description: str, schema: dict, *, cached: bool = False) -> dict:
    response: dict = {"description": description, "content": {"application/json": {"schema": schema}}}
    if cached:
        response["headers"] = {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}
    return response


def error_responses(*statuses: str) -> dict:
    names = {"400": "InvalidParameter", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound"}
    responses = {status: {"$ref": f"#/components/responses/{names[status]}"} for status in statuses}
    responses["default"] = {"$ref": "#/components/responses/Error"}
    return responses


# --- schemas -----------------------------------------------------------------------------------------------

def _certificate_properties(min_stars: int) -> dict:
    return {
        "stars": integer(min_stars, 5),
        "score": nullable(integer(0, 100)),
        "level": enum((level.value for level in IssuingLevel), "Who issued the recognition decision."),
        "decision_no": string("Number of the recognition decision."),
        "decision_date": DATE,
        "valid_until": DATE,
    }


def _product_properties(*, listed: bool) -> dict:
    """The listed shape; on a product page stars and certificate may be null (a lapsed product)."""
    stars = integer(3, 5, "Star level of the valid certificate.")
    certificate = ref("Certificate")
    return {
        "slug": string(maxLength=140),
        "name": string(),
        "price_vnd": integer(0, MAX_PRICE_VND, "Price in đồng (integer, no decimals)."),
        "unit": string("Unit or size, e.g. “Hộp 500 g”."),
        "stars": stars if listed else nullable(stars),
        "group": enum(GROUPS, "OCOP product group code."),
        "group_name": nullable(string()),
        "subgroup": nullable(enum(SUBGROUPS)),
        "subgroup_name": nullable(string()),
        "is_alcohol": {**BOOLEAN, "description": "Alcoholic drink: sale only to people of legal age."},
        "locality": nullable(enum(FORMER_DISTRICTS, "Former district key of the producer.")),
        "locality_name": nullable(string()),
        "producer": ref("ProducerRef"),
        "certificate": certificate if listed else nullable(certificate),
        "url": {**URL, "description": "The product's page on the site."},
        "image": nullable({**URL, "description": "640-pixel WebP rendition of the cover picture."}),
    }


def _point_properties() -> dict:
    return {"code": string(examples=["DN-XL-01"]), "name": string(),
            "tier": enum(t.value for t in PointTier), "address": ref("Address"), "url": URL}


def _paginated(items: dict, max_per_page: int, **extra) -> dict:
    return obj({
        **extra,
        "items": items,
        "page": integer(1, MAX_PAGE),
        "per_page": integer(1, max_per_page),
        "total": integer(0),
        "pages": integer(1),
    })


def _point_schemas(max_per_page: int) -> dict:
    coordinate = {"type": "number"}
    clock = string("Local time, 24-hour.", pattern=r"^[0-2][0-9]:[0-5][0-9]$")
    summary = {
        **_point_properties(),
        "location": nullable(obj({"latitude": {**coordinate, "minimum": -90, "maximum": 90},
                                  "longitude": {**coordinate, "minimum": -180, "maximum": 180}})),
        "hours": nullable(obj({"opens": clock, "closes": clock}, "Opening hours, every day.")),
        "phone": nullable(string()),
    }
    band = enum((b.value for b in Band), "in_stock; few_left (at most a few units available); out_of_stock.")
    point_ref = obj({"code": string(), "name": string()})
    stock_page = {"point": point_ref}
    return {
        "SalesPointSummary": obj(summary, "An open sales point as listed."),
        "SalesPointDetail": obj({**summary, "photos": array(ref("Image"))}),
        "SalesPointList": _paginated(array(ref("SalesPointSummary")), max_per_page),
        "ProductRef": obj({"slug": string(maxLength=140), "name": string(), "url": URL}),
        "StockBand": obj({"product": ref("ProductRef"), "band": band}),
        "LotStock": obj({
            "lot_code": string(), "production_date": DATE, "expiry_date": nullable(DATE),
            "status": enum(LOT_STATUSES, "Only a sellable lot counts as available."),
            "on_hand": integer(0), "reserved": integer(0),
            "available": integer(0, description="on_hand − reserved of a sellable lot, else 0."),
        }),
        "StockExact": obj({"product": ref("ProductRef"), "band": band,
                           "available": integer(0, description="Units that may be sold now."),
                           "lots": array(ref("LotStock"), description="Lots with units on hand, "
                                                                      "soonest expiry first.")}),
        "PointStockBands": _paginated(array(ref("StockBand")), max_per_page, **stock_page,
                                      detail={"const": "bands"}),
        "PointStockExact": _paginated(array(ref("StockExact")), max_per_page, **stock_page,
                                      detail={"const": "exact"}),
    }


def _schemas(max_per_page: int) -> dict:
    facet_names = ("stars", "group", "locality", "producer", "price")
    return {
        "Error": obj({"error": obj({
            "code": string("Stable machine-readable code, e.g. " + ", ".join(ERROR_CODES) + "."),
            "message": string("For people, in the request's language."),
            "parameter": string("The (first) bad query parameter, with invalid_parameter."),
            "details": array(obj({"parameter": string(), "message": string()}),
                             description="Every bad parameter, with invalid_parameter."),
        }, optional=("parameter", "details"))}),
        "ProducerRef": obj({"slug": string(maxLength=140), "name": string()}),
        "Certificate": obj(_certificate_properties(3),
                           "The certificate that makes the product OCOP-certified."),
        "LapsedCertificate": obj({
            **_certificate_properties(1),
            "status": enum((s.value for s in CertificateStatus), "Status of this certificate today."),
            "withdrawn_on": nullable(DATE),
            "withdrawal_decision_no": nullable(string()),
            "withdrawal_reason": nullable(string()),
        }, "The last certificate of a product that is no longer certified."),
        "Image": obj({
            "url": {**URL, "description": "Largest WebP rendition."},
            "width": integer(1), "height": integer(1),
            "alt": string(),
            "srcset": string("Every WebP rendition with its width, for an <img srcset>."),
        }),
        "Address": obj({
            "province_code": integer(), "province": nullable(string()),
            "ward_code": nullable(integer()), "ward": nullable(string()),
            "former_district": nullable(enum(FORMER_DISTRICTS)),
            "former_district_name": nullable(string()),
            "street": nullable(string()),
        }, "2025 administrative units, plus the former district for history."),
        "SalesPoint": obj(_point_properties()),
        "TraceEvent": obj({
            "id": integer(1), "type": enum(TRACE_EVENT_TYPES), "occurred_at": string(format="date-time"),
            "place": nullable(string()), "province_code": nullable(integer()), "ward_code": nullable(integer()),
            "point": nullable(ref("SalesPoint")), "actor": string(), "previous_step": nullable(string()),
            "next_step": nullable(string()), "description": nullable(string()), "reference": nullable(string()),
            "automatic": BOOLEAN, "corrects": nullable(integer(1)), "corrected_by": nullable(integer(1)),
            "recorded_at": string(format="date-time"),
            "inputs": array(obj({"material": string(), "supplier": nullable(string()), "origin": nullable(string()),
                                 "quantity": string("Decimal, as text."), "unit": string(),
                                 "supplier_lot": nullable(string())})),
            "attachments": array(obj({"title": string(), "kind": enum(("document", "photo")),
                                      "content_type": string(), "size_bytes": integer(0), "sha256": string(),
                                      "url": URL})),
        }),
        "Trace": obj({
            "trace_code": string(), "url": URL, "digital_link": URL,
            "lot": obj({"lot_code": string(), "production_date": DATE, "expiry_date": nullable(DATE),
                        "quantity": nullable(integer(1)), "status": enum(("in_production", "released", "closed"))}),
            "recall": nullable(obj({"recalled_at": string(format="date-time"), "reason": string()})),
            "product": {"type": "object", "description": "Slug, name, URL, GTIN and cover image."},
            "producer": {"type": "object", "description": "Slug, name, address and URL."},
            "certificate_status": enum(("valid", "not_yet_valid", "expired", "withdrawn", "superseded", "none")),
            "certificate": nullable({"type": "object", "description": "The product's latest certificate."}),
            "events": array(ref("TraceEvent")),
            "on_sale_at": array(ref("SalesPoint")),
        }, "A lot and its journal."),
        **_point_schemas(max_per_page),
        "ProductSummary": obj(_product_properties(listed=True), "A certified product as listed."),
        "ProductDetail": obj({
            **_product_properties(listed=False),
            "description": string(),
            "story_html": string("The producer's story, sanitised HTML."),
            "gtin": nullable(string(pattern=r"^[0-9]{8,14}$")),
            "images": array(ref("Image")),
            "certified": {**BOOLEAN, "description": "True only with a valid certificate of 3 stars or more."},
            "certificate_status": enum(["valid", *(s.value for s in CertificateStatus if s.value != "valid"),
                                        "none"],
                                       "“valid” when certified; otherwise the status of the last "
                                       "certificate, or “none” when there never was one."),
            "last_certificate": nullable(ref("LapsedCertificate")),
            "points": array(ref("SalesPoint"),
                            description="Open sales points carrying it (empty unless certified)."),
        }),
        "FacetValue": obj({"key": string(), "label": string(), "count": integer(0)}),
        "ProductList": obj({
            "items": array(ref("ProductSummary")),
            "page": integer(1, MAX_PAGE),
            "per_page": integer(1, max_per_page),
            "total": integer(0),
            "pages": integer(1),
            "facets": obj({name: array(ref("FacetValue")) for name in facet_names},
                          "Counts beside each filter; a facet's counts ignore its own choice.",
                          optional=facet_names),
        }),
        "Document": obj({
            "kind": enum(k.value for k in DocumentKind),
            "number": string(),
            "issued_on": nullable(DATE),
            "valid_until": nullable(DATE),
            "valid": {**BOOLEAN, "description": "Still valid today (no end date counts as valid)."},
        }),
        "Producer": obj({
            "slug": string(maxLength=140), "name": string(),
            "legal_form": enum(f.value for f in LegalForm),
            "registration_no": nullable(string()),
            "address": ref("Address"),
            "story_html": string("Sanitised HTML."),
            "contact": obj({"phone": nullable(string()), "email": nullable(string()),
                            "website": nullable(string())}),
            "documents": array(ref("Document")),
            "logo": nullable(ref("Image")),
            "photos": array(ref("Image")),
            "url": URL,
            "products": array(ref("ProductSummary"), description="Its certified, published products."),
        }),
    }


def _list_parameters(max_per_page: int, default_per_page: int) -> list[dict]:
    price = integer(0, MAX_PRICE_VND)
    return [
        query_parameter("q", string(maxLength=MAX_QUERY_LENGTH),
                        "Search text; diacritics optional (“ca phe” finds “Cà phê”). Runs of spaces "
                        "count as one."),
        query_parameter("stars", integer(3, 5), "At least this many stars."),
        query_parameter("group", enum(GROUPS), "OCOP product group."),
        query_parameter("locality", enum(FORMER_DISTRICTS), "Former district of the producer."),
        query_parameter("producer", string(maxLength=140, pattern="^[A-Za-z0-9-]+$"), "Producer slug."),
        query_parameter("min_price", price, "Lowest price in đồng."),
        query_parameter("max_price", price, "Highest price in đồng; not below min_price."),
        query_parameter("sort", {**enum(SORTS), "default": "relevance"},
                        "relevance applies with q; without q it means newest."),
        *_page_parameters(max_per_page, default_per_page),
    ]


def _page_parameters(max_per_page: int, default_per_page: int) -> list[dict]:
    return [query_parameter("page", {**integer(1, MAX_PAGE), "default": 1}, "Page number."),
            query_parameter("per_page", {**integer(1, max_per_page), "default": default_per_page},
                            "Items per page.")]


def _point_paths(pages: list[dict], lang: dict) -> dict:
    code = path_parameter("code", "Point code, e.g. DN-XL-01 (any case).")
    detail = query_parameter("detail", enum(STOCK_DETAILS),
                             "bands: availability bands only; exact: quantities by lot (401 without "
                             "credentials, 403 for an account that may not read this point). Absent: the most "
                             "the caller may see.")
    return {
        "/points": {"get": {
            "operationId": "listPoints",
            "summary": "Open sales points, the provincial centre first",
            "tags": ["points"],
            "parameters": [*pages, lang],
            "responses": {"200": json_response("A page of points.", ref("SalesPointList"), cached=True),
                          **error_responses("400")},
        }},
        "/points/{code}": {"get": {
            "operationId": "getPoint",
            "summary": "One open sales point (planned, suspended and closed points are not found)",
            "tags": ["points"],
            "parameters": [code, lang],
            "responses": {"200": json_response("The point.", ref("SalesPointDetail"), cached=True),
                          **error_responses("404")},
        }},
        "/points/{code}/stock": {"get": {
            "operationId": "getPointStock",
            "summary": "What is available at an open point",
            "description": "Everyone gets the availability band of each product the point sells. The "
                           "point's managers, trade officers and administrators, authenticated by the "
                           "session cookie or by an API token (Authorization: Bearer ocop_…), get the "
                           "exact quantities by lot. A revoked or unknown token counts as no credentials. "
                           "Never cached by shared caches (Cache-Control: private, no-store).",
            "tags": ["points"],
            "security": [{}, {"bearerToken": []}, {"sessionCookie": []}],
            "parameters": [code, detail, *pages, lang],
            "responses": {"200": json_response("The point's products with their bands, or their quantities.",
                                               {"oneOf": [ref("PointStockBands"), ref("PointStockExact")]}),
                          **error_responses("400", "401", "403", "404")},
        }},
    }


def openapi_document(*, max_per_page: int = 100, default_per_page: int = 24,
                     languages: tuple[str, ...] = ("vi", "en")) -> dict:
    lang = query_parameter("lang", enum(languages), "Language of labels and messages (default Vietnamese).")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "OCOP Đồng Nai marketplace API",
            "version": API_VERSION,
            "description": "Read-only public API of the OCOP-certified products of Đồng Nai. Money is "
                           "integer VND; dates are ISO 8601; text is Unicode NFC. Lists contain only "
                           "products with a valid certificate of 3 stars or more; a point's stock lists what "
                           "the point may sell (a certificate or another qualifying basis). Any bad parameter "
                           "is a 400 with code invalid_parameter; unknown parameters are ignored.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/products": {"get": {
                "operationId": "listProducts",
                "summary": "Certified products, filtered, sorted and paginated, with facet counts",
                "tags": ["products"],
                "parameters": [*_list_parameters(max_per_page, default_per_page), lang],
                "responses": {"200": json_response("A page of products.", ref("ProductList"), cached=True),
                              **error_responses("400")},
            }},
            "/products/{slug}": {"get": {
                "operationId": "getProduct",
                "summary": "One published product, also when its certification has lapsed",
                "tags": ["products"],
                "parameters": [path_parameter("slug", "Product slug."), lang],
                "responses": {"200": json_response("The product.", ref("ProductDetail"), cached=True),
                              **error_responses("404")},
            }},
            "/producers/{slug}": {"get": {
                "operationId": "getProducer",
                "summary": "A producer's profile and its certified products",
                "tags": ["producers"],
                "parameters": [path_parameter("slug", "Producer slug."), lang],
                "responses": {"200": json_response("The producer.", ref("Producer"), cached=True),
                              **error_responses("404")},
            }},
            **_point_paths(_page_parameters(max_per_page, default_per_page), lang),
            "/trace/{code}": {"get": {
                "operationId": "getTrace",
                "summary": "A lot's traceability journal (the data of the QR code's trace page)",
                "description": "The lot, its product and producer, the certificate's status checked now, the "
                               "journal of events (critical tracking events with their inputs, places, one step "
                               "back and one step forward, attachments) and the open points holding the lot. "
                               "With format=epcis the same journal is an EPCIS 2.0 JSON-LD document "
                               "(application/ld+json). Never cached for long: a recall shows at once.",
                "tags": ["traceability"],
                "parameters": [path_parameter("code", "The lot's trace code (as printed under its QR code)."),
                               query_parameter("format", enum(("json", "epcis")), "json (default) or epcis."),
                               lang],
                "responses": {"200": {"description": "The lot's journal.", "content": {
                                  "application/json": {"schema": ref("Trace")},
                                  "application/ld+json": {"schema": {"type": "object",
                                                                     "description": "EPCISDocument (EPCIS 2.0)."}}}},
                              **error_responses("400", "404")},
            }},
            "/openapi.json": {"get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "tags": ["meta"],
                "responses": {"200": json_response("OpenAPI 3.1 document.", {"type": "object"}, cached=True),
                              **error_responses()},
            }},
        },
        "components": {
            "schemas": _schemas(max_per_page),
            "responses": {
                "InvalidParameter": json_response("A query parameter is invalid (code invalid_parameter).",
                                                  ref("Error")),
                "NotFound": json_response("No such published item (code not_found).", ref("Error")),
                "Unauthorized": json_response("Credentials are needed (code unauthorized).", ref("Error")),
                "Forbidden": json_response("These credentials do not allow it (code forbidden).", ref("Error")),
                "Error": json_response("Any other error (405 method_not_allowed, 429, 500…).", ref("Error")),
            },
            "headers": {"CacheControl": {"description": "Public reads may be cached for a minute.",
                                         "schema": string(examples=["public, max-age=60"])}},
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "An API token of the account (ocop_…), made on its profile."},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                                  "description": "The site's session cookie, when signed in."},
            },
        },
        "tags": [{"name": "products"}, {"name": "producers"}, {"name": "points"}, {"name": "meta"}],
    }
