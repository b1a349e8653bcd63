"""The OpenAPI document: valid OpenAPI 3.1, complete for the routes, truthful about parameters, and real
responses match its schemas."""
import re

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from shop.extensions import db
from shop.sales_points.services import carry_product
from tests.api.conftest import add_picture, assert_documented, lapse
from tests.factories import make_point, make_producer, make_product

HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def test_document_is_valid_openapi_3_1(client, openapi):
    assert openapi["openapi"].startswith("3.1")
    validate(openapi, cls=OpenAPIV31SpecValidator)
    assert client.get("/api/v1/openapi.json").headers["Cache-Control"] == "public, max-age=60"


def test_every_api_route_is_documented(app, openapi):
    server = openapi["servers"][0]["url"]
    documented = {(server + path, key.upper())  # besides its operations, a path item may list `parameters`
                  for path, item in openapi["paths"].items() for key in item if key.upper() in HTTP_METHODS}
    routes = {(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              for method in rule.methods & HTTP_METHODS}
    assert routes, "no /api/v1 routes registered"
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented operations that do not exist"


def _query_parameters(openapi):
    parameters = openapi["paths"]["/products"]["get"]["parameters"]
    return {p["name"]: p["schema"] for p in parameters if p["in"] == "query"}


def _outside(schema) -> list[str]:
    """Values the document says are not allowed."""
    values = []
    if "enum" in schema:
        values.append("zz-not-listed")
    if "minimum" in schema:
        values.append(str(schema["minimum"] - 1))
    if "maximum" in schema:
        values.append(str(schema["maximum"] + 1))
    if schema.get("type") == "integer":
        values.append("1.5")
    if "maxLength" in schema:
        values.append("a" * (schema["maxLength"] + 1))
    if "pattern" in schema:
        values.append("not a slug!")
    return values


def _inside(schema) -> list[str]:
    values = [str(v) for v in schema.get("enum", [])]
    values += [str(schema[k]) for k in ("minimum", "maximum") if k in schema]
    if "maxLength" in schema:
        values.append("a" * schema["maxLength"])
    return values


def test_list_parameters_are_those_the_endpoint_checks(openapi):
    names = set(_query_parameters(openapi))
    assert names == {"q", "stars", "group", "locality", "producer", "min_price", "max_price", "sort", "page",
                     "per_page", "lang"}


def test_documented_ranges_and_enums_are_enforced(client, openapi):
    """Each value the document rules out is a 400 naming that parameter; each value it allows is accepted."""
    for name, schema in _query_parameters(openapi).items():
        if name == "q":
            continue  # allowed texts go to the search index; its length limit is checked below
        for value in _outside(schema):
            response = client.get("/api/v1/products", query_string={name: value})
            assert response.status_code == 400, (name, value)
            assert response.get_json()["error"]["parameter"] == name, (name, value)
        for value in _inside(schema):
            response = client.get("/api/v1/products", query_string={name: value})
            assert response.status_code == 200, (name, value, response.get_json())
    too_long = "a" * (_query_parameters(openapi)["q"]["maxLength"] + 1)
    response = client.get("/api/v1/products", query_string={"q": too_long})
    assert response.status_code == 400 and response.get_json()["error"]["parameter"] == "q"


@pytest.fixture
def full_catalogue(app):
    """Data that fills every optional part of the shapes: pictures, points, a lapsed product, documents."""
    with app.app_context():
        producer = make_producer("HTX Bưởi Tân Triều", former_district="vinh-cuu",
                                 registration_no="3600111222", website="https://buoi.example.vn")
        product = make_product(producer, "Bưởi đường lá cam", stars=5, gtin="8935049500018",
                               subgroup_code="1.1a")
        add_picture(product)
        point = make_point("DN-VC-01")
        carry_product(point, product)
        lapsed = make_product(producer, "Bưởi sấy dẻo", stars=None)
        lapse(lapsed, "withdrawn")
        make_product(make_producer(former_district=None), "Mật ong rừng", stars=3, subgroup_code=None)
        db.session.commit()
        return {"producer": producer.slug, "product": product.slug, "lapsed": lapsed.slug}


def test_real_responses_match_the_documented_schemas(client, openapi, full_catalogue):
    listing = assert_documented(openapi, "/products", client.get("/api/v1/products"))
    assert len(listing["items"]) == 2 and listing["facets"]
    empty = client.get("/api/v1/products", query_string={"group": "6", "lang": "en"})
    assert_documented(openapi, "/products", empty)
    detail = client.get(f"/api/v1/products/{full_catalogue['product']}")
    assert assert_documented(openapi, "/products/{slug}", detail)["images"] and detail.get_json()["points"]
    lapsed = assert_documented(openapi, "/products/{slug}",
                               client.get(f"/api/v1/products/{full_catalogue['lapsed']}"))
    assert lapsed["last_certificate"]["status"] == "withdrawn"
    producer = assert_documented(openapi, "/producers/{slug}",
                                 client.get(f"/api/v1/producers/{full_catalogue['producer']}"))
    assert len(producer["products"]) == 1
    points = assert_documented(openapi, "/points", client.get("/api/v1/points"))
    assert [p["code"] for p in points["items"]] == ["DN-VC-01"]
    assert_documented(openapi, "/points/{code}", client.get("/api/v1/points/DN-VC-01"))
    stock = assert_documented(openapi, "/points/{code}/stock", client.get("/api/v1/points/DN-VC-01/stock"))
    assert stock["items"][0]["band"] == "out_of_stock"


@pytest.mark.parametrize("method, path, documented, status", [
    ("get", "/api/v1/products?stars=9", "/products", 400),
    ("get", "/api/v1/products/khong-co", "/products/{slug}", 404),
    ("get", "/api/v1/producers/khong-co", "/producers/{slug}", 404),
    ("get", "/api/v1/points?per_page=0", "/points", 400),
    ("get", "/api/v1/points/khong-co", "/points/{code}", 404),
    ("get", "/api/v1/points/khong-co/stock", "/points/{code}/stock", 404),
    ("post", "/api/v1/points", "/points", 405),
    ("post", "/api/v1/products", "/products", 405),
])
def test_errors_match_the_documented_schema(client, openapi, method, path, documented, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    body = assert_documented(openapi, documented, response)
    codes = {400: "invalid_parameter", 404: "not_found", 405: "method_not_allowed"}
    assert body["error"]["code"] == codes[status]


def test_schema_check_is_strict(openapi):
    """The validation above would notice an undocumented field, a wrong type or a missing key."""
    from tests.api.conftest import validator_for

    validator = validator_for(openapi, {"$ref": "#/components/schemas/ProducerRef"})
    assert validator.is_valid({"slug": "a", "name": "b"})
    assert not validator.is_valid({"slug": "a", "name": "b", "extra": 1})
    assert not validator.is_valid({"slug": "a"})
    item = validator_for(openapi, {"$ref": "#/components/schemas/Certificate"})
    good = {"stars": 4, "score": 80, "level": "province", "decision_no": "1/QĐ",
            "decision_date": "2025-01-31", "valid_until": "2028-01-31"}
    assert item.is_valid(good)
    assert not item.is_valid({**good, "decision_date": "31/01/2025"})
    assert not item.is_valid({**good, "stars": 2})
