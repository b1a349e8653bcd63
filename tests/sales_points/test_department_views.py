"""The trade department keeps the registry of sales points through the real forms (CSRF on)."""
import re

import pytest
import sqlalchemy as sa

from shop.accounts.models import Role
from shop.extensions import db
from shop.sales_points.models import LocationType, PointManager, PointStatusChange, SalesPoint
from tests.conftest import csrf_token, login, post_form
from tests.factories import PHU_HOA, make_point, make_user

NEW_POINT = {"code": "dn-xl-02", "name": "Điểm OCOP chợ Xuân Lộc", "tier": "point",
             "location_types": ["shopping_centre_market", "post_office"], "ward_code": str(PHU_HOA),
             "former_district": "xuan-loc", "street": "12 Hùng Vương", "latitude": "10,93", "longitude": "107.24",
             "floor_area_m2": "60", "opens_at": "07:00", "closes_at": "20:30", "phone": "0251 3822 111",
             "operator_kind": "organisation", "operator_name": "HTX Thương mại Xuân Lộc",
             "operator_registration_no": "3600123456", "opened_on": "2025-10-01"}


@pytest.fixture
def officer(app, client):
    with app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        db.session.commit()
    login(client, "officer@example.vn")
    client.get("/lang/en")
    return client


def _point(app, code):
    with app.app_context():
        point = db.session.scalar(sa.select(SalesPoint).where(SalesPoint.code == code))
        if point is not None:
            assert point.location_type_rows is not None  # load before the session closes
        return point


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_officer_registers_a_point(app, officer):
    response = post_form(officer, "/department/points/new", NEW_POINT)
    assert response.status_code == 302 and response.headers["Location"].endswith("/department/points/DN-XL-02")
    point = _point(app, "DN-XL-02")
    assert point.status == "planned" and point.province_code == app.config["HOME_PROVINCE_CODE"]
    assert point.location_types == [LocationType.SHOPPING_CENTRE_MARKET, LocationType.POST_OFFICE]
    assert (point.latitude, point.floor_area_m2, point.operator_kind) == (10.93, 60, "organisation")
    page = officer.get("/department/points/DN-XL-02").get_data(as_text=True)
    assert "Điểm OCOP chợ Xuân Lộc" in page and "Post office or commune cultural post office" in page
    listing = officer.get("/department/points").get_data(as_text=True)
    assert "DN-XL-02" in listing and "1 sales point" in listing


@pytest.mark.parametrize("changes, message", [
    ({"code": "DN XL 02"}, "capital letters, digits and hyphens"),
    ({"latitude": "95"}, "latitude must be between -90 and 90"),
    ({"longitude": "abc"}, "Enter a number"),
    ({"floor_area_m2": "0"}, "whole number of square metres above zero"),
    ({"floor_area_m2": "12.5"}, "Enter a whole number"),
    ({"opens_at": "21:00", "closes_at": "08:00"}, "opening time must be before the closing time"),
    ({"opens_at": "25:99"}, "Enter a time"),
    ({"opened_on": "2025-13-45"}, "Enter a date."),
    ({"name": ""}, "Please fill in this field."),
])
def test_bad_input_is_refused_with_a_message(app, officer, changes, message):
    response = post_form(officer, "/department/points/new", {**NEW_POINT, **changes})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(app, SalesPoint) == 0


def test_a_duplicate_code_is_refused(app, officer):
    with app.app_context():
        make_point("DN-XL-02")
        db.session.commit()
    response = post_form(officer, "/department/points/new", NEW_POINT)
    assert response.status_code == 400
    assert "A sales point with this code already exists." in response.get_data(as_text=True)
    assert _count(app, SalesPoint) == 1


def test_forms_without_csrf_are_refused(app, officer):
    response = officer.post("/department/points/new", data=NEW_POINT)
    assert response.status_code == 400 and _count(app, SalesPoint) == 0


def test_officer_edits_a_point(app, officer):
    with app.app_context():
        make_point("DN-VC-01", location_types=["fair_exhibition"])
        db.session.commit()
    form = officer.get("/department/points/DN-VC-01/edit").get_data(as_text=True)
    checkbox = re.search(r'<input[^>]*value="fair_exhibition"[^>]*>', form).group(0)
    assert "checked" in checkbox
    response = post_form(officer, "/department/points/DN-VC-01/edit",
                         {**NEW_POINT, "code": "DN-VC-01", "name": "Điểm Vĩnh Cửu", "location_types": ["craft_village"],
                          "floor_area_m2": "75"})
    assert response.status_code == 302
    point = _point(app, "DN-VC-01")
    assert (point.name, point.floor_area_m2, point.location_types) == ("Điểm Vĩnh Cửu", 75,
                                                                       [LocationType.CRAFT_VILLAGE])
    bad = post_form(officer, "/department/points/DN-VC-01/edit", {**NEW_POINT, "code": "DN-VC-01",
                                                                   "longitude": "200"})
    assert bad.status_code == 400 and "longitude must be between -180 and 180" in bad.get_data(as_text=True)
    assert _point(app, "DN-VC-01").longitude == 107.24


def test_status_changes_through_the_detail_page(app, officer):
    with app.app_context():
        make_point("DN-TB-01", status="open")
        db.session.commit()
    assert "DN-TB-01" in officer.get("/points").get_data(as_text=True)
    url = "/department/points/DN-TB-01/status"
    missing = post_form(officer, url, {"to_status": "suspended", "reason": ""}, form_url="/department/points/DN-TB-01")
    assert missing.status_code == 400 and "Please fill in this field." in missing.get_data(as_text=True)
    refused = post_form(officer, url, {"to_status": "planned", "reason": "Thử"}, form_url="/department/points/DN-TB-01")
    assert refused.status_code == 400
    assert "A point cannot go from “Open” to “Planned”." in refused.get_data(as_text=True)
    assert _count(app, PointStatusChange) == 0
    closed = post_form(officer, url, {"to_status": "closed", "reason": "Hết hợp đồng thuê mặt bằng"},
                       form_url="/department/points/DN-TB-01")
    assert closed.status_code == 302
    page = officer.get("/department/points/DN-TB-01").get_data(as_text=True)
    assert "Hết hợp đồng thuê mặt bằng" in page and "officer@example.vn" in page
    assert "DN-TB-01" not in officer.get("/points").get_data(as_text=True)
    assert officer.get("/points/DN-TB-01").status_code == 404


def test_managers_are_added_and_removed(app, officer):
    with app.app_context():
        make_point("DN-LT-01")
        manager = make_user(Role.POINT_MANAGER, email="ql@example.vn")
        make_user(Role.CUSTOMER, email="khach@example.vn")
        db.session.commit()
        manager_id = manager.id
    detail = "/department/points/DN-LT-01"
    wrong = post_form(officer, f"{detail}/managers", {"email": "khach@example.vn"}, form_url=detail)
    assert wrong.status_code == 400 and "This account is not a point manager account." in wrong.get_data(as_text=True)
    unknown = post_form(officer, f"{detail}/managers", {"email": "ai@example.vn"}, form_url=detail)
    assert unknown.status_code == 400 and "No account has this email address." in unknown.get_data(as_text=True)
    added = post_form(officer, f"{detail}/managers", {"email": "QL@example.vn"}, form_url=detail)
    assert added.status_code == 302 and _count(app, PointManager) == 1
    assert "ql@example.vn" in officer.get(detail).get_data(as_text=True)
    removed = post_form(officer, f"{detail}/managers/{manager_id}/remove", {}, form_url=detail)
    assert removed.status_code == 302 and _count(app, PointManager) == 0
    again = post_form(officer, f"{detail}/managers/{manager_id}/remove", {}, form_url=detail)
    assert again.status_code == 404


def test_list_filters_by_tier_status_and_district(app, officer):
    with app.app_context():
        make_point("DN-TT-01", tier="centre", former_district="bien-hoa")
        make_point("DN-XL-01", former_district="xuan-loc", status="planned")
        db.session.commit()
    assert "DN-XL-01" not in officer.get("/department/points?tier=centre").get_data(as_text=True)
    planned = officer.get("/department/points?status=planned").get_data(as_text=True)
    assert "DN-XL-01" in planned and "DN-TT-01" not in planned
    by_district = officer.get("/department/points?district=bien-hoa").get_data(as_text=True)
    assert "DN-TT-01" in by_district and "DN-XL-01" not in by_district
    everything = officer.get("/department/points?tier=bogus").get_data(as_text=True)
    assert "DN-TT-01" in everything and "DN-XL-01" in everything and "2 sales points" in everything


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.POINT_MANAGER, Role.PRODUCER])
def test_other_roles_are_refused(app, client, role):
    with app.app_context():
        make_point("DN-CM-01")
        make_user(role, email="someone@example.vn")
        db.session.commit()
    login(client, "someone@example.vn")
    assert client.get("/department/points").status_code == 403
    assert client.get("/department/points/DN-CM-01").status_code == 403
    token = csrf_token(client, "/")
    response = client.post("/department/points/new", data={"csrf_token": token, **NEW_POINT})
    assert response.status_code == 403 and _count(app, SalesPoint) == 1


def test_guests_are_sent_to_login(client):
    response = client.get("/department/points")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_admins_pass(app, client):
    with app.app_context():
        make_user(Role.ADMIN, email="admin@example.vn")
        db.session.commit()
    login(client, "admin@example.vn")
    assert client.get("/department/points").status_code == 200
    assert client.get("/department/points/new").status_code == 200


def test_a_closed_point_leaves_the_cached_public_list(app, officer):
    with app.app_context():
        make_point("DN-NT-01", status="open", name="Điểm OCOP Nhơn Trạch")
        db.session.commit()
    visitor = app.test_client()
    assert "Điểm OCOP Nhơn Trạch" in visitor.get("/points").get_data(as_text=True)  # now in the page cache
    response = post_form(officer, "/department/points/DN-NT-01/status",
                         {"to_status": "closed", "reason": "Đơn vị vận hành xin dừng"},
                         form_url="/department/points/DN-NT-01")
    assert response.status_code == 302
    assert "Điểm OCOP Nhơn Trạch" not in visitor.get("/points").get_data(as_text=True)
    assert visitor.get("/points/DN-NT-01").status_code == 404
