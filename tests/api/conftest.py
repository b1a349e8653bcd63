"""Helpers for the JSON API tests: a catalogue to browse, and validation of responses against the OpenAPI
document the app serves."""
from datetime import timedelta
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from shop.catalog.services import add_product_image
from shop.certification.services import withdraw_certificate
from shop.core.clock import today
from shop.core.images import make_placeholder
from shop.extensions import db
from shop.search import index as search_index
from tests.factories import make_certificate, make_producer, make_product

needs_search = pytest.mark.skipif(not hasattr(search_index, "search_products"),
                                  reason="shop.search.index.search_products is not written yet")

DOC_URI = "urn:ocop:openapi"


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["slug"] for item in response.get_json()["items"]]


def local_path(url: str) -> str:
    """An absolute URL from the API, as a path the test client can request."""
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.netloc, url
    return parts.path


def add_picture(product, width: int = 800, height: int = 600, alt: str = ""):
    return add_product_image(product, BytesIO(make_placeholder(product.name, (width, height))), alt=alt)


def lapse(product, how: str):
    """Give `product` a certificate that no longer certifies it: "expired" or "withdrawn"."""
    if how == "expired":
        return make_certificate(product, stars=4, decision_date=today() - timedelta(days=37 * 31))
    certificate = make_certificate(product, stars=4)
    return withdraw_certificate(certificate, decision_no="12/QĐ-UBND", reason="Không duy trì chất lượng.",
                                on=today() - timedelta(days=1))


@pytest.fixture
def catalogue(app):
    """Three certified products (5★, 4★, 3★) of two producers in two localities, plus products that must
    never be listed: a draft, a 2★, an expired, a withdrawn and a never-certified one."""
    with app.app_context():
        tan_phu = make_producer("HTX Cà phê Tân Phú", former_district="tan-phu")
        xuan_loc = make_producer("Công ty TNHH Xuân Lộc Food", legal_form="enterprise",
                                 former_district="xuan-loc")
        coffee = make_product(tan_phu, "Cà phê bột nguyên chất", stars=5, group_code="1", subgroup_code="1.6",
                              price_vnd=90_000)
        wine = make_product(xuan_loc, "Rượu sim Xuân Lộc", stars=4, group_code="2", subgroup_code="2.1",
                            price_vnd=250_000, is_alcohol=True)
        cashew = make_product(xuan_loc, "Hạt điều rang muối", stars=3, group_code="1", subgroup_code="1.3c",
                              price_vnd=600_000)
        hidden = {
            "draft": make_product(tan_phu, "Cà phê hạt rang bản nháp", publish=False),
            "two_stars": make_product(tan_phu, "Cà phê hòa tan hai sao", stars=2),
            "expired": make_product(xuan_loc, "Chuối sấy hết hạn", stars=None),
            "withdrawn": make_product(xuan_loc, "Mật ong thu hồi", stars=None),
            "uncertified": make_product(tan_phu, "Trà mãng cầu chưa chứng nhận", stars=None),
        }
        lapse(hidden["expired"], "expired")
        lapse(hidden["withdrawn"], "withdrawn")
        add_picture(coffee, alt="Gói cà phê bột")
        db.session.commit()
        data = {"coffee": coffee.slug, "wine": wine.slug, "cashew": cashew.slug,
                "tan_phu": tan_phu.slug, "xuan_loc": xuan_loc.slug,
                **{name: product.slug for name, product in hidden.items()}}
    return data


# --- OpenAPI ------------------------------------------------------------------------------------------------

@pytest.fixture
def openapi(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def validator_for(document: dict, schema: dict) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator for `schema`; "#/components/..." references resolve in `document`."""
    registry = Registry().with_resource(DOC_URI, Resource.from_contents(document, DRAFT202012))

    def anchor(node):
        if isinstance(node, dict):
            return {k: (DOC_URI + v if k == "$ref" and v.startswith("#") else anchor(v))
                    for k, v in node.items()}
        if isinstance(node, list):
            return [anchor(v) for v in node]
        return node

    return Draft202012Validator(anchor(schema), registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def documented_schema(document: dict, path: str, status: int, method: str = "get") -> dict:
    """The schema the document promises for `status` on `path` (falling back to the `default` response)."""
    responses = document["paths"][path][method]["responses"]
    response = responses.get(str(status)) or responses["default"]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response["content"]["application/json"]["schema"]


def assert_documented(document: dict, path: str, response, method: str = "get") -> dict:
    """The response's body validates against what the document says for this path and status."""
    body = response.get_json()
    assert response.mimetype == "application/json"
    validator = validator_for(document, documented_schema(document, path, response.status_code, method))
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    return body
