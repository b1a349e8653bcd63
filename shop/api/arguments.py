"""The query parameters of the API, as marshmallow schemas: webargs validates each request with them and
apispec documents them, so the document and the checks are one thing. An unknown parameter is refused, a bad
value too; an empty value counts as absent (as a form sends it), which the document says with
`allowEmptyValue`. Every refusal is a 400 `invalid_parameter` in the app's JSON error shape."""
import re
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, pre_load
from marshmallow.validate import Length, OneOf, Range, Regexp
from webargs.flaskparser import FlaskParser

from shop.catalog.groups import GROUPS
from shop.catalog.services import MAX_PRICE_VND
from shop.certification.models import MIN_CERTIFIED_STARS
from shop.config import DefaultConfig
from shop.core.admin_units import FORMER_DISTRICTS
from shop.core.pagination import MAX_PAGE
from shop.search.filters import MAX_QUERY_LENGTH, SORTS, ProductFilters
from shop.web import json_error

from .shapes import MAX_STARS, SLUG_LENGTH

STOCK_DETAILS = ("bands", "exact")
TRACE_FORMATS = ("json", "epcis")
WHOLE_NUMBER = re.compile(r"[0-9]+(\.0+)?")


class WholeNumber(fields.Integer):
    """An integer written in ASCII digits; int() alone would also take " 4", "4_0" or "٤". A zero fraction
    ("30.0") is accepted: JSON Schema counts 30.0 as an integer, so the document allows it."""

    default_error_messages: ClassVar[dict] = {"invalid": _l("Not a whole number.")}

    def _deserialize(self, value, attr, data, **kwargs):
        if not (isinstance(value, str) and WHOLE_NUMBER.fullmatch(value)):
            raise self.make_error("invalid")
        return super()._deserialize(value.split(".")[0], attr, data, **kwargs)


def between(low: int, high: int) -> Range:
    return Range(low, high, error=_l("Must be a whole number between {min} and {max}."))


def one_of(values) -> OneOf:
    return OneOf(list(values), error=_l("Must be one of: {choices}."))


def at_most(length: int) -> Length:
    return Length(max=length, error=_l("At most {max} characters."))


class QuerySchema(Schema):
    """The parameters every endpoint takes: `lang` picks the language of labels (web.select_locale reads it)."""

    error_messages: ClassVar[dict] = {"unknown": _l("Unknown parameter.")}

    lang = fields.String(validate=one_of(DefaultConfig.LANGUAGES),
                         metadata={"description": "Language of labels and messages (default Vietnamese)."})

    @pre_load
    def empty_is_absent(self, data, **kwargs) -> dict:
        return {name: data[name] for name in data if data[name] != ""}


class PageQuery(QuerySchema):
    page = WholeNumber(validate=between(1, MAX_PAGE), load_default=1, metadata={"description": "Page number."})
    per_page = WholeNumber(validate=between(1, DefaultConfig.MAX_PER_PAGE), load_default=DefaultConfig.PER_PAGE,
                           metadata={"description": "Items per page."})


class ProductPageQuery(PageQuery):
    q = fields.String(validate=at_most(MAX_QUERY_LENGTH),
                      metadata={"description": "Search text; diacritics optional (“ca phe” finds “Cà phê”). Runs "
                                               "of spaces count as one."})
    stars = WholeNumber(validate=between(MIN_CERTIFIED_STARS, MAX_STARS),
                        metadata={"description": "At least this many stars."})
    group = fields.String(validate=one_of(GROUPS), metadata={"description": "OCOP product group."})
    locality = fields.String(validate=one_of(FORMER_DISTRICTS),
                             metadata={"description": "Former district of the producer."})
    producer = fields.String(validate=[at_most(SLUG_LENGTH),
                                       Regexp("^[A-Za-z0-9-]+$", error=_l("Only letters, digits and hyphens."))],
                             metadata={"description": "Producer slug."})
    min_price = WholeNumber(validate=between(0, MAX_PRICE_VND), metadata={"description": "Lowest price in đồng."})
    max_price = WholeNumber(validate=between(0, MAX_PRICE_VND),
                            metadata={"description": "Highest price in đồng. Below min_price, nothing is in the "
                                                     "range: the list is empty."})
    sort = fields.String(validate=one_of(SORTS), load_default="relevance",
                         metadata={"description": "relevance applies with q; without q it means newest."})


def product_filters(query: dict) -> ProductFilters:
    """The search's filters from a validated ProductPageQuery (runs of spaces in `q` count as one)."""
    return ProductFilters(q=" ".join(query.get("q", "").split()), min_stars=query.get("stars"),
                          group=query.get("group"), locality=query.get("locality"), producer=query.get("producer"),
                          min_price=query.get("min_price"), max_price=query.get("max_price"), sort=query["sort"],
                          page=query["page"], per_page=query["per_page"])


class StockPageQuery(PageQuery):
    detail = fields.String(validate=one_of(STOCK_DETAILS),
                           metadata={"description": "bands: availability bands only; exact: quantities by lot "
                                                    "(401 without credentials, 403 for an account that may not read "
                                                    "this point). Absent: the most the caller may see."})


class TraceQuery(QuerySchema):
    format = fields.String(validate=one_of(TRACE_FORMATS), load_default="json",
                           metadata={"description": "json (default) or epcis."})


# --- refusals -------------------------------------------------------------------------------------------------

class InvalidParameters(Exception):
    def __init__(self, messages: dict):
        super().__init__(messages)
        self.problems = [(name, str(message)) for name, found in messages.items()
                         for message in (found if isinstance(found, list) else [found])]


class QueryParser(FlaskParser):
    """webargs' parser with our refusal: InvalidParameters, answered by `parameter_error`."""

    DEFAULT_VALIDATION_STATUS = 400
    # None: the schema's own `unknown` applies (RAISE), where webargs would drop unknown query parameters.
    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict] = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None}

    def handle_error(self, error: ValidationError, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        raise InvalidParameters(messages.get("query", messages) if isinstance(messages, dict) else {"": messages})


def parameter_error(error: InvalidParameters):
    """A 400 naming the first bad parameter; `details` lists every one, so a client fixes them at once."""
    parameter, message = error.problems[0]
    return json_error(400, "invalid_parameter", f"{parameter}: {message}", parameter=parameter,
                      details=[{"parameter": p, "message": m} for p, m in error.problems])
