"""Everything under /api/ answers JSON, also for routes and methods that do not exist."""
import pytest


@pytest.mark.parametrize("path", ["/api/v1/whatever", "/api/v1/products/a/b", "/api/v2/products", "/api/"])
def test_unknown_api_route_is_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method, path", [
    ("post", "/api/v1/products"), ("put", "/api/v1/products/abc"), ("delete", "/api/v1/producers/abc"),
    ("patch", "/api/v1/openapi.json"),
])
def test_writes_are_405_json(client, method, path):
    response = getattr(client, method)(path, json={"name": "x"})
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "public" not in response.headers.get("Cache-Control", "")


def test_head_of_a_public_read(client):
    response = client.head("/api/v1/products")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "public, max-age=60"


@pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/products/abc", "/api/v1/producers/abc", "/api/v1/points",
                                  "/api/v1/points/abc", "/api/v1/points/abc/stock", "/api/v1/trace/abc"])
@pytest.mark.parametrize("query, parameter", [({"lang": "fr"}, "lang"), ({"colour": "red"}, "colour")])
def test_every_endpoint_refuses_parameters_outside_its_document(client, path, query, parameter):
    """Checked before anything is looked up: a bad request is a 400 whether or not the item exists."""
    response = client.get(path, query_string=query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["parameter"]) == ("invalid_parameter", parameter)
