"""The trade department's registry rules: validation, status transitions with history, managers."""
from datetime import date, time

import pytest
import sqlalchemy as sa

from shop.accounts.models import Role
from shop.core.audit_trail import AuditEntry
from shop.core.errors import Conflict, DomainError
from shop.extensions import db
from shop.sales_points import queries
from shop.sales_points.models import LocationType, PointManager, PointStatus, PointStatusChange, SalesPoint
from shop.sales_points.services import (
    assign_manager,
    assign_manager_by_email,
    change_point_status,
    create_point,
    remove_manager,
    update_point,
)
from tests.factories import DONG_NAI, PHU_HOA, make_point, make_user

HO_CHI_MINH = 79


def _actions(point) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.subject_type == "SalesPoint", AuditEntry.subject_id == point.id).order_by(AuditEntry.id)))


def test_create_point_stores_the_registry_fields(app_ctx):
    point = create_point(code="dn-xl-02", name="Điểm Xuân Lộc 2", province_code=DONG_NAI, ward_code=PHU_HOA,
                         location_types=["post_office", LocationType.CRAFT_VILLAGE, "post_office"],
                         floor_area_m2=45, operator_name="HTX Xuân Lộc", operator_kind="organisation",
                         operator_registration_no="3600123456", opened_on=date(2025, 9, 1),
                         opens_at=time(7, 0), closes_at=time(21, 0))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(SalesPoint, point.id)
    assert stored.code == "DN-XL-02"
    assert stored.location_types == [LocationType.CRAFT_VILLAGE, LocationType.POST_OFFICE]
    assert (stored.floor_area_m2, stored.operator_kind, stored.opened_on) == (45, "organisation", date(2025, 9, 1))
    assert _actions(stored) == ["sales_points.point_created"]


@pytest.mark.parametrize("fields, field", [
    ({"code": "DN XL 01"}, "code"),
    ({"code": "dn_xl_01"}, "code"),
    ({"code": "-DN-01"}, "code"),
    ({"code": "DN-" + "X" * 20}, "code"),
    ({"code": "  "}, "code"),
    ({"name": "  "}, "name"),
    ({"ward_code": 26734}, "ward_code"),  # a ward of Hồ Chí Minh City, not of Đồng Nai
    ({"latitude": 90.5}, "latitude"),
    ({"latitude": -91.0}, "latitude"),
    ({"longitude": 181.0}, "longitude"),
    ({"longitude": -180.5}, "longitude"),
    ({"floor_area_m2": 0}, "floor_area_m2"),
    ({"floor_area_m2": -5}, "floor_area_m2"),
    ({"floor_area_m2": 12.5}, "floor_area_m2"),
    ({"opens_at": time(18, 0), "closes_at": time(8, 0)}, "closes_at"),
    ({"opens_at": time(8, 0), "closes_at": time(8, 0)}, "closes_at"),
    ({"former_district": "atlantis"}, "former_district"),
])
def test_update_point_refuses_bad_values_and_changes_nothing(app_ctx, fields, field):
    point = make_point("DN-VC-01", opens_at=time(7, 0), closes_at=time(20, 0))
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        update_point(point, None, **fields)
    assert caught.value.field == field
    db.session.rollback()
    stored = db.session.get(SalesPoint, point.id)
    assert stored.code == "DN-VC-01" and stored.floor_area_m2 is None and stored.latitude is None
    assert _actions(stored) == ["sales_points.point_created"]


def test_ward_must_be_in_the_province(app_ctx):
    with pytest.raises(DomainError) as caught:
        create_point(code="DN-XX-01", name="Điểm", province_code=HO_CHI_MINH, ward_code=PHU_HOA)
    assert caught.value.field == "ward_code"


def test_codes_are_unique_on_create_and_update(app_ctx):
    make_point("DN-LK-01")
    other = make_point("DN-LK-02")
    with pytest.raises(Conflict):
        create_point(code="dn-lk-01", name="Trùng mã", province_code=DONG_NAI)
    with pytest.raises(Conflict):
        update_point(other, None, code="DN-LK-01")
    update_point(other, None, code="DN-LK-02", name="Điểm Long Khánh 2")  # its own code is fine
    assert other.name == "Điểm Long Khánh 2"


def test_update_point_saves_valid_changes_with_an_audit_entry(app_ctx):
    point = make_point("DN-TP-01", location_types=["fair_exhibition"])
    update_point(point, None, latitude=11.27, longitude=107.43, floor_area_m2=80, opens_at=time(7, 30),
                 closes_at=time(21, 0), location_types=["highway_rest_stop", "tourist_restaurant_hotel"])
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(SalesPoint, point.id)
    assert (stored.latitude, stored.longitude, stored.floor_area_m2) == (11.27, 107.43, 80)
    assert stored.location_types == [LocationType.HIGHWAY_REST_STOP, LocationType.TOURIST_RESTAURANT_HOTEL]
    assert _actions(stored) == ["sales_points.point_created", "sales_points.point_updated"]
    with pytest.raises(TypeError):
        update_point(stored, None, status="closed")  # the status has its own use case


@pytest.mark.parametrize("path", [
    ["open"], ["closed"], ["open", "suspended"], ["open", "suspended", "open"], ["open", "closed"],
    ["open", "suspended", "closed"],
])
def test_allowed_status_changes_write_history(app_ctx, path):
    officer = make_user(Role.TRADE_OFFICER)
    point = make_point("DN-DQ-01", status="planned")
    for step in path:
        change_point_status(point, step, f"Lý do {step}", officer)
    db.session.commit()
    rows = list(db.session.scalars(sa.select(PointStatusChange).where(PointStatusChange.point_id == point.id)
                                   .order_by(PointStatusChange.id)))
    assert [(r.from_status.value, r.to_status.value) for r in rows] == list(zip(["planned", *path[:-1]], path))
    assert all(r.actor_id == officer.id and r.reason.startswith("Lý do") for r in rows)
    assert point.status == path[-1]
    assert _actions(point).count("sales_points.status_changed") == len(path)


@pytest.mark.parametrize("start, path, refused", [
    ("planned", [], "suspended"),
    ("planned", [], "planned"),
    ("planned", ["open"], "planned"),
    ("planned", ["open"], "open"),
    ("planned", ["open", "suspended"], "planned"),
    ("planned", ["closed"], "open"),
    ("planned", ["open", "closed"], "suspended"),
])
def test_refused_status_changes_leave_no_history(app_ctx, start, path, refused):
    point = make_point("DN-CM-01", status=start)
    for step in path:
        change_point_status(point, step, "Theo kế hoạch", None)
    before = point.status
    with pytest.raises(DomainError) as caught:
        change_point_status(point, refused, "Thử", None)
    assert caught.value.code == "invalid_transition"
    assert point.status == before
    count = db.session.scalar(sa.select(sa.func.count()).select_from(PointStatusChange))
    assert count == len(path)


def test_a_status_change_needs_a_reason(app_ctx):
    point = make_point("DN-TN-01", status="open")
    with pytest.raises(DomainError) as caught:
        change_point_status(point, "suspended", "   ", None)
    assert caught.value.field == "reason" and point.status == PointStatus.OPEN


def test_a_closed_point_leaves_the_public_list(app_ctx):
    point = make_point("DN-TB-01", status="open")
    assert point in queries.list_open_points()
    change_point_status(point, "closed", "Hết hợp đồng thuê", None)
    assert point not in queries.list_open_points()


def test_managers_are_added_by_email_and_removed(app_ctx):
    point = make_point("DN-LT-01")
    manager = make_user(Role.POINT_MANAGER, email="ql@example.vn")
    make_user(Role.CUSTOMER, email="khach@example.vn")
    assign_manager_by_email(point, " QL@example.vn ", actor=None)
    assert [u.email for u in queries.managers_of(point.id)] == ["ql@example.vn"]
    with pytest.raises(Conflict):
        assign_manager_by_email(point, "ql@example.vn")
    with pytest.raises(DomainError) as caught:
        assign_manager_by_email(point, "khach@example.vn")
    assert caught.value.field == "email"
    with pytest.raises(DomainError):
        assign_manager_by_email(point, "nobody@example.vn")
    remove_manager(point, manager)
    assert queries.managers_of(point.id) == []
    with pytest.raises(DomainError):
        remove_manager(point, manager)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointManager)) == 0
    assert _actions(point)[-2:] == ["sales_points.manager_assigned", "sales_points.manager_removed"]


def test_assign_manager_keeps_working_for_the_seed(app_ctx):
    point = make_point("DN-NT-01")
    user = make_user(Role.POINT_MANAGER)
    assert assign_manager(point, user) is assign_manager(point, user)
