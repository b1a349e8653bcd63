"""schemathesis against the document the app serves, over the demo data: for every operation, requests inside the
document (positive) are answered as it says, and requests outside it (negative: bad or unknown parameters) are
refused; every built-in check of schemathesis runs on each response.

Driven through schemathesis' Python API (`as_strategy` with Hypothesis) rather than its pytest plugin, whose
`parametrize` reads a pytest attribute that pytest 9.2 no longer has."""
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from shop.extensions import db
from shop.seeding import seed_demo
from shop.traceability.models import Lot

# What schemathesis tests (guards the run: an operation missing from the document would go untested). It leaves
# out GET /openapi.json, the document it was loaded from.
OPERATIONS = {"GET /products", "GET /products/{slug}", "GET /producers/{slug}", "GET /points", "GET /points/{code}",
              "GET /points/{code}/stock", "GET /trace/{code}"}
EXAMPLES = 30


@pytest.fixture
def demo_ids(app, client) -> dict[str, dict]:
    """Path parameters of real demo items, by operation: generated ones are almost never found."""
    with app.app_context():
        seed_demo(images=False)
        db.session.commit()
        trace_code = db.session.scalar(sa.select(Lot.trace_code).order_by(Lot.id).limit(1))
    product = client.get("/api/v1/products?per_page=1").get_json()["items"][0]
    point = client.get("/api/v1/points?per_page=1").get_json()["items"][0]
    return {"GET /products/{slug}": {"slug": product["slug"]},
            "GET /producers/{slug}": {"slug": product["producer"]["slug"]},
            "GET /points/{code}": {"code": point["code"]}, "GET /points/{code}/stock": {"code": point["code"]},
            "GET /trace/{code}": {"code": trace_code}}


def strategies(operation, real_ids: dict | None):
    yield operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    yield operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    if real_ids:
        yield operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=real_ids)


@pytest.mark.slow
def test_the_api_does_what_its_document_says(app, demo_ids):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} == OPERATIONS
    for operation in operations:
        for strategy in strategies(operation, demo_ids.get(operation.label)):

            @given(case=strategy)
            @settings(max_examples=EXAMPLES, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
            def answers_as_documented(case):
                case.call_and_validate()

            answers_as_documented()
