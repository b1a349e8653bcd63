"""GET /api/v1/points, /points/<code> and /points/<code>/stock: open points only; stock as bands for everyone
and as exact quantities by lot only for that point's managers, trade officers and admins (session or token)."""
from datetime import time, timedelta
from io import BytesIO

import pytest

from shop.accounts.models import Role, User
from shop.accounts.services import create_api_token, revoke_api_token
from shop.core.clock import today
from shop.core.images import make_placeholder
from shop.extensions import db
from shop.inventory.services import reserve_stock
from shop.sales_points.services import add_point_photo, carry_product
from tests.api.conftest import assert_documented, local_path
from tests.conftest import login
from tests.factories import make_point, make_point_manager, make_product, make_stock, make_user


@pytest.fixture
def points(app):
    """DN-TT-01 (centre) holds cashews in two lots (one expiring soon, 2 of its units held for an order) and
    coffee (3 left, not perishable);
    DN-XL-01 carries coffee but has none left; DN-BH-01 is suspended; DN-NT-01 is planned."""
    with app.app_context():
        admin = make_user(Role.ADMIN, email="admin@example.vn")
        cashew = make_product(name="Hạt điều rang muối")
        coffee = make_product(name="Cà phê Robusta")
        centre = make_point("DN-TT-01", name="Trung tâm OCOP tỉnh Đồng Nai", tier="centre",
                            street="1 Nguyễn Ái Quốc", latitude=10.9574, longitude=106.8427,
                            opens_at=time(7, 30), closes_at=time(17), phone="0251 3822 111")
        xuan_loc = make_point("DN-XL-01", name="Điểm bán OCOP Xuân Lộc", former_district="xuan-loc")
        make_point("DN-BH-01", status="suspended")
        make_point("DN-NT-01", status="planned")
        add_point_photo(centre, BytesIO(make_placeholder("front", (800, 600))), alt="Mặt tiền trung tâm",
                        actor=admin)
        make_stock(centre, cashew, admin, lot_code="L-SOON", quantity=6, expires_in_days=20)
        make_stock(centre, cashew, admin, lot_code="L-LATE", quantity=10, expires_in_days=200)
        make_stock(centre, coffee, admin, lot_code="C-1", quantity=3, expires_in_days=None)
        reserve_stock(centre, cashew, 2, reference="DH-000001", actor=admin)  # an online order holds 2 (FEFO)
        carry_product(xuan_loc, coffee)
        make_point_manager(centre, email="trungtam@example.vn")
        make_point_manager(xuan_loc, email="xuanloc@example.vn")
        make_user(Role.TRADE_OFFICER, email="socongthuong@example.vn")
        make_user(Role.CUSTOMER, email="khach@example.vn")
        db.session.commit()
    return app


def token_for(app, email: str, *, revoked: bool = False) -> str:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        token, secret = create_api_token(user, "Máy bán hàng")
        if revoked:
            revoke_api_token(token, actor=user)
        db.session.commit()
    return secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


# --- points ---------------------------------------------------------------------------------------------------

def test_open_points_are_listed_centre_first(client, points, openapi):
    response = client.get("/api/v1/points")
    body = assert_documented(openapi, "/points", response)
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert [p["code"] for p in body["items"]] == ["DN-TT-01", "DN-XL-01"], "suspended and planned are not open"
    assert (body["page"], body["total"], body["pages"]) == (1, 2, 1)
    centre = body["items"][0]
    assert centre["tier"] == "centre" and centre["name"] == "Trung tâm OCOP tỉnh Đồng Nai"
    assert centre["location"] == {"latitude": 10.9574, "longitude": 106.8427}
    assert centre["hours"] == {"opens": "07:30", "closes": "17:00"}
    assert centre["phone"] == "0251 3822 111"
    assert centre["address"]["street"] == "1 Nguyễn Ái Quốc" and centre["address"]["ward"] == "Xã Phú Hòa"
    assert local_path(centre["url"]) == "/points/DN-TT-01"
    assert body["items"][1]["location"] is None and body["items"][1]["hours"] is None


def test_points_are_paginated(client, points, openapi):
    body = assert_documented(openapi, "/points", client.get("/api/v1/points?per_page=1&page=2"))
    assert [p["code"] for p in body["items"]] == ["DN-XL-01"] and (body["pages"], body["total"]) == (2, 2)


@pytest.mark.parametrize("query, parameter", [("page=0", "page"), ("per_page=1000", "per_page"),
                                              ("page=abc", "page"), ("lang=fr", "lang")])
def test_bad_list_parameters_are_a_400_naming_them(client, points, openapi, query, parameter):
    response = client.get(f"/api/v1/points?{query}")
    assert response.status_code == 400
    assert assert_documented(openapi, "/points", response)["error"]["parameter"] == parameter


def test_one_point_with_photos(client, points, openapi):
    body = assert_documented(openapi, "/points/{code}", client.get("/api/v1/points/dn-tt-01"))
    assert body["code"] == "DN-TT-01"
    [photo] = body["photos"]
    assert photo["alt"] == "Mặt tiền trung tâm" and photo["url"].endswith("-800.webp")


@pytest.mark.parametrize("code", ["DN-BH-01", "DN-NT-01", "KHONG-CO"])
def test_a_point_that_is_not_open_is_not_found(client, points, openapi, code):
    for path, documented in ((f"/api/v1/points/{code}", "/points/{code}"),
                             (f"/api/v1/points/{code}/stock", "/points/{code}/stock")):
        response = client.get(path)
        assert response.status_code == 404, path
        assert assert_documented(openapi, documented, response)["error"]["code"] == "not_found"


# --- stock: public bands --------------------------------------------------------------------------------------

def test_anyone_gets_bands_and_no_quantity(client, points, openapi):
    response = client.get("/api/v1/points/DN-TT-01/stock")
    body = assert_documented(openapi, "/points/{code}/stock", response)
    assert body["detail"] == "bands" and body["point"]["code"] == "DN-TT-01"
    assert [(i["product"]["name"], i["band"]) for i in body["items"]] == [
        ("Cà phê Robusta", "few_left"), ("Hạt điều rang muối", "in_stock")]
    assert all(set(item) == {"product", "band"} for item in body["items"]), "no quantity, no lot"
    assert "L-SOON" not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert {"Cookie", "Authorization"} <= set(response.vary)


def test_a_sold_out_product_is_out_of_stock(client, points, openapi):
    body = assert_documented(openapi, "/points/{code}/stock", client.get("/api/v1/points/DN-XL-01/stock"))
    assert [(i["product"]["name"], i["band"]) for i in body["items"]] == [("Cà phê Robusta", "out_of_stock")]


def test_an_anonymous_caller_asking_for_exact_quantities_gets_a_401(client, points, openapi):
    response = client.get("/api/v1/points/DN-TT-01/stock?detail=exact")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert assert_documented(openapi, "/points/{code}/stock", response)["error"]["code"] == "unauthorized"


def test_an_unknown_detail_is_a_400(client, points, openapi):
    response = client.get("/api/v1/points/DN-TT-01/stock?detail=all")
    assert response.status_code == 400
    assert assert_documented(openapi, "/points/{code}/stock", response)["error"]["parameter"] == "detail"


# --- stock: exact quantities ----------------------------------------------------------------------------------

def assert_exact(openapi, response) -> dict:
    body = assert_documented(openapi, "/points/{code}/stock", response)
    assert body["detail"] == "exact"
    items = {item["product"]["name"]: item for item in body["items"]}
    cashew = items["Hạt điều rang muối"]
    assert cashew["available"] == 14 and cashew["band"] == "in_stock"
    assert [(lot["lot_code"], lot["on_hand"], lot["reserved"], lot["available"], lot["status"])
            for lot in cashew["lots"]] == [("L-SOON", 6, 2, 4, "sellable"), ("L-LATE", 10, 0, 10, "sellable")]
    assert cashew["lots"][0]["expiry_date"] == (today() + timedelta(days=20)).isoformat()
    assert items["Cà phê Robusta"]["lots"][0]["expiry_date"] is None
    return body


def test_the_points_manager_gets_exact_quantities_by_session(client, points, openapi):
    login(client, "trungtam@example.vn")
    assert_exact(openapi, client.get("/api/v1/points/DN-TT-01/stock"))
    bands_only = client.get("/api/v1/points/DN-TT-01/stock?detail=bands").get_json()
    assert bands_only["detail"] == "bands" and "lots" not in bands_only["items"][0]


def test_the_points_manager_gets_exact_quantities_by_token(client, points, openapi):
    secret = token_for(points, "trungtam@example.vn")
    assert_exact(openapi, client.get("/api/v1/points/DN-TT-01/stock?detail=exact", headers=bearer(secret)))


@pytest.mark.parametrize("email", ["socongthuong@example.vn", "admin@example.vn"])
def test_trade_officers_and_admins_get_exact_quantities(client, points, openapi, email):
    assert_exact(openapi, client.get("/api/v1/points/DN-TT-01/stock", headers=bearer(token_for(points, email))))


def test_the_manager_of_another_point_gets_only_bands(client, points, openapi):
    secret = token_for(points, "xuanloc@example.vn")
    body = client.get("/api/v1/points/DN-TT-01/stock", headers=bearer(secret)).get_json()
    assert body["detail"] == "bands" and "lots" not in str(body)
    response = client.get("/api/v1/points/DN-TT-01/stock?detail=exact", headers=bearer(secret))
    assert response.status_code == 403
    assert assert_documented(openapi, "/points/{code}/stock", response)["error"]["code"] == "forbidden"
    # Their own point, by the same token: exact.
    own = client.get("/api/v1/points/DN-XL-01/stock", headers=bearer(secret)).get_json()
    assert own["detail"] == "exact" and own["items"][0]["available"] == 0


def test_a_customer_gets_only_bands(client, points):
    login(client, "khach@example.vn")
    assert client.get("/api/v1/points/DN-TT-01/stock").get_json()["detail"] == "bands"
    assert client.get("/api/v1/points/DN-TT-01/stock?detail=exact").status_code == 403


def test_a_revoked_token_is_anonymous(client, points):
    secret = token_for(points, "trungtam@example.vn", revoked=True)
    assert client.get("/api/v1/points/DN-TT-01/stock", headers=bearer(secret)).get_json()["detail"] == "bands"
    assert client.get("/api/v1/points/DN-TT-01/stock?detail=exact", headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize("tamper", [lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"), lambda s: s[5:],
                                    lambda s: "ocop_", lambda s: s + "x"])
def test_a_tampered_token_is_anonymous(client, points, tamper):
    secret = tamper(token_for(points, "trungtam@example.vn"))
    assert client.get("/api/v1/points/DN-TT-01/stock", headers=bearer(secret)).get_json()["detail"] == "bands"
    assert client.get("/api/v1/points/DN-TT-01/stock?detail=exact", headers=bearer(secret)).status_code == 401


def test_a_token_gives_exact_data_on_the_api_only(client, points):
    """Bearer tokens authenticate the JSON API, not pages: the back office still asks for a login."""
    secret = token_for(points, "trungtam@example.vn")
    response = client.get("/manage/points/DN-TT-01/stock", headers=bearer(secret))
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_stock_is_paginated_by_product(client, points, openapi):
    login(client, "trungtam@example.vn")
    body = assert_documented(openapi, "/points/{code}/stock",
                             client.get("/api/v1/points/DN-TT-01/stock?per_page=1&page=2"))
    assert [i["product"]["name"] for i in body["items"]] == ["Hạt điều rang muối"]
    assert (body["total"], body["pages"]) == (2, 2)
