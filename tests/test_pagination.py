"""Tampered page numbers: every list that takes ?page= (and ?per_page=) answers a page or a 400, never a 500."""
import ast
import inspect
from pathlib import Path

import pytest

from shop.accounts.models import Role
from shop.extensions import db
from shop.sales_points.services import carry_product
from tests.conftest import login
from tests.factories import make_point, make_product, make_stock, make_user

SHOP = Path(__file__).resolve().parent.parent / "shop"
BAD_QUERIES = ["page=99999999999999999999", "page=-5", "page=abc", "page=" + "9" * 5000, "per_page=1000000000000",
               "page=2&per_page=-1"]
# The readers of a page number: web.page_arg for pages, search.filters.parse_filters for the catalogue, and for
# the API the query schemas of shop.api.arguments (PageQuery and its subclasses, named *PageQuery). A view using
# one of them is a list that takes ?page=.
PAGE_READERS = ("page_arg(", "parse_filters(", "PageQuery)")
# Lists known to take ?page=: guards the discovery below (it must find at least these).
KNOWN = {"orders.my_orders", "orders_point_manage.orders", "sales_points.point_detail", "producers.producer_list",
         "stock_point_manage.stock", "stock_point_manage.receipts", "stock_point_manage.movements",
         "stock_point_manage.transfers", "trace_producer.lot_list", "certificates.registry", "catalog.product_list",
         "catalog_api.product_list", "sales_points_api.point_list", "inventory_api.point_stock"}


def paginated_endpoints(app) -> dict[str, str]:
    """endpoint → URL rule of every GET route whose view reads a page number."""
    found = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if "GET" not in rule.methods:
            continue
        try:
            source = inspect.getsource(inspect.unwrap(view))
        except (OSError, TypeError):
            continue
        if any(reader in source for reader in PAGE_READERS):
            found[rule.endpoint] = rule.rule
    return found


@pytest.fixture
def data(app):
    with app.app_context():
        admin = make_user(Role.ADMIN, email="admin@example.vn")
        point = make_point("DN-PG-01", name="Điểm phân trang")
        product = make_product(name="Trà phân trang")
        carry_product(point, product)
        make_stock(point, product, admin, lot_code="LOT-PAGE-1")
        db.session.commit()
        return {"code": point.code}


def test_no_list_breaks_on_a_tampered_page_number(app, client, data):
    endpoints = paginated_endpoints(app)
    assert KNOWN <= set(endpoints), f"discovery missed {KNOWN - set(endpoints)}"
    login(client, "admin@example.vn")
    for endpoint, rule in sorted(endpoints.items()):
        path = rule.replace("<code>", data["code"])
        assert "<" not in path, f"{endpoint}: fill in the arguments of {rule}"
        for query in BAD_QUERIES:
            response = client.get(f"{path}?{query}")
            assert response.status_code in (200, 400), f"{path}?{query[:40]} answered {response.status_code}"


def test_a_page_past_the_end_shows_the_last_page(client, data):
    login(client, "admin@example.vn")
    for query in ("page=99999999999999999999", "page=500"):
        response = client.get(f"/manage/points/{data['code']}/movements?{query}")
        assert response.status_code == 200
        assert "LOT-PAGE-1" in response.get_data(as_text=True), "the last page (here the only one) is shown"


def test_the_api_refuses_a_huge_page_with_a_message(client, data):
    response = client.get("/api/v1/points?page=99999999999999999999")
    assert response.status_code == 400
    assert response.get_json()["error"]["parameter"] == "page"
    response = client.get("/api/v1/points?per_page=1000000000000")
    assert response.status_code == 400
    assert response.get_json()["error"]["parameter"] == "per_page"


def test_only_the_shared_helpers_read_a_page_number_from_the_request():
    # A view reading request.args["page"] by itself would bring the 500 back: it must call web.page_arg.
    offenders = []
    for path in SHOP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and node.args[0].value in ("page", "per_page")
                    and "args" in ast.unparse(node.func.value)):
                offenders.append(f"{path.relative_to(SHOP)}:{node.lineno}")
    allowed = {"web.py"}
    assert [o for o in offenders if o.split(":")[0] not in allowed] == []
