"""The public JSON API under /api/v1, declared with flask-smorest: marshmallow schemas validate the query
parameters (shop.api.arguments), serialise the responses (shop.api.schemas, shop.api.trace_schemas) and, through
apispec, write the OpenAPI 3.1 document served at /api/v1/openapi.json. Errors keep the app's JSON shape
(shop.web.json_error), which shop.api.errors documents."""
from flask import Flask, current_app
from flask_smorest import Api
from flask_smorest.spec.plugins import FlaskPlugin

from .arguments import InvalidParameters, parameter_error
from .errors import DOCUMENT_INFO, SECURITY_SCHEMES, ErrorSchema
from .schemas import PointStockBandsSchema, PointStockExactSchema
from .trace_views import trace
from .views import ApiBlueprint, catalog, points, producers, public_cache, stock

PREFIX = "/api/v1"
API_VERSION = "1.0.0"

meta = ApiBlueprint("api", __name__, description="This document.")
meta.after_request(public_cache)


@meta.route("/openapi.json")
@meta.response(200, description="OpenAPI 3.1 document.")
def openapi_json():
    """This document"""
    # Where flask-smorest keeps the app's Api (the one without a config prefix).
    return current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


class PathsBelowServer(FlaskPlugin):
    """Paths relative to the document's server URL (/api/v1), as clients join them."""

    def path_helper(self, rule, operations, parameters, **kwargs):
        return super().path_helper(rule, operations, parameters, **kwargs).removeprefix(PREFIX)


class ShopApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """None: shop.web already answers every error under /api/ as JSON in the shape ErrorSchema documents."""


def empty_value_allowed(self, field, **kwargs) -> dict:
    """Every optional query parameter may be sent empty (a form does), which counts as absent."""
    return {"allowEmptyValue": True} if kwargs["ret"].get("in") == "query" and not field.required else {}


def init_app(app: Flask) -> None:
    api = ShopApi(spec_kwargs={"title": "OCOP Đồng Nai marketplace API", "version": API_VERSION,
                               "openapi_version": "3.1.0", "flask_plugin": PathsBelowServer(),
                               "info": DOCUMENT_INFO, "servers": [{"url": PREFIX}]})
    api.init_app(app)
    api.ma_plugin.converter.add_parameter_attribute_function(empty_value_allowed)
    api.spec.components.schema("PointStockBands", schema=PointStockBandsSchema)
    api.spec.components.schema("PointStockExact", schema=PointStockExactSchema)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    for blueprint in (meta, catalog, producers, points, stock, trace):
        api.register_blueprint(blueprint, url_prefix=PREFIX)
    app.register_error_handler(InvalidParameters, parameter_error)
