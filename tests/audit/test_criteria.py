"""Criteria sets as data: the two sets of section 9, editing with history, refusals, the department pages."""
import unicodedata

import pytest

from shop.accounts.models import Role
from shop.audit.criteria.services import (
    current_set,
    history_of,
    load_criteria_sets,
    read_criteria_file,
    set_binding,
    update_criterion,
)
from shop.audit.models import AutoCheck, CheckKind, CriteriaSet, Criterion, CriterionChange
from shop.core.errors import DomainError, NotAllowed
from shop.extensions import db
from shop.seeding.demo import DemoReport
from shop.seeding.demo_audit_criteria import seed_criteria
from tests.audit.conftest import criterion
from tests.conftest import login, post_form
from tests.factories import make_user


def codes(criteria_set):
    return [c.code for c in criteria_set.criteria]


# --- the seeded sets -----------------------------------------------------------------------------------------

def test_both_sets_are_seeded_with_the_criteria_of_their_decision(criteria_sets):
    s920, s950 = criteria_sets["920"], criteria_sets["950"]
    assert (s920.period_start.year, s920.period_end.year, str(s920.decision_date)) == (2019, 2020, "2019-04-16")
    assert (str(s950.period_start), str(s950.period_end), str(s950.decision_date)) == (
        "2023-01-01", "2025-12-31", "2023-04-18")
    assert "L-08" not in codes(s920) and "L-08" in codes(s950)
    assert {"L-05", "L-06", "P-05"} <= set(codes(s920)) and not {"L-05b", "L-06b", "P-RULE"} & set(codes(s920))
    assert {"L-05b", "L-06b", "P-01", "P-RULE", "M-05"} <= set(codes(s950)) and not {"L-05", "P-05"} & set(codes(s950))
    assert "post_office" not in s920.allowed_location_types and len(s920.allowed_location_types) == 7
    assert "post_office" in s950.allowed_location_types and len(s950.allowed_location_types) == 8


def test_unconfirmed_rows_are_advisory_and_check_kinds_follow_the_table(criteria_sets):
    s950 = criteria_sets["950"]
    rule, area, staff, shelf = (criterion(s950, code) for code in ("L-RULE", "F-01", "M-02", "P-SHELF"))
    assert rule.confirmed and rule.binding and rule.check_kind == CheckKind.AUTOMATIC
    assert rule.auto_check == AutoCheck.LOCATION_TYPE
    assert not area.confirmed and not area.binding and area.params == {"min_m2": None}
    assert area.check_kind == CheckKind.BOTH and area.auto_check == AutoCheck.FLOOR_AREA
    assert staff.check_kind == CheckKind.EVIDENCE and staff.auto_check is None and not staff.binding
    assert shelf.auto_check == AutoCheck.CLEAN_SHELF and shelf.source.startswith("derived")
    assert criterion(s950, "M-SALES").params == {"days": 30}
    assert criterion(s950, "P-RULE").auto_check == AutoCheck.QUALIFYING_BASIS
    for c in s950.criteria:
        assert c.binding == c.confirmed
        assert unicodedata.is_normalized("NFC", c.requirement_vi) and c.requirement_en


def test_the_file_is_nfc_and_every_automatic_check_is_used(criteria_sets):
    data = read_criteria_file()
    for entry in data["sets"]:
        for row in entry["criteria"]:
            assert unicodedata.is_normalized("NFC", row["requirement_vi"]), row["code"]
    used = {c.auto_check for c in criteria_sets["950"].criteria if c.auto_check}
    assert used == set(AutoCheck)


def test_loading_is_idempotent_and_keeps_officers_edits(criteria_sets, officer):
    count = db.session.query(Criterion).count()
    area = criterion(criteria_sets["950"], "F-01")
    update_criterion(area, officer, params={"min_m2": 20})
    staff = criterion(criteria_sets["950"], "M-02")
    staff.requirement_en = "stale text"  # never edited through the service: the file wins
    report = load_criteria_sets()
    assert (report.sets_created, report.criteria_created) == (0, 0)
    assert db.session.query(Criterion).count() == count and db.session.query(CriteriaSet).count() == 2
    assert area.params == {"min_m2": 20}
    assert staff.requirement_en == "Trained sales staff."


def test_demo_seed_function_is_idempotent(app_ctx):
    first, second = DemoReport(), DemoReport()
    seed_criteria(first)
    seed_criteria(second)
    assert first.created["criteria sets"] == 2 and first.created["criteria"] == 54
    assert not second.created


def test_current_set_is_the_one_in_force_else_the_latest(criteria_sets):
    from datetime import date
    assert current_set(date(2020, 5, 1)).code == "920/QĐ-BCT"
    assert current_set(date(2024, 5, 1)).code == "950/QĐ-BCT"
    assert current_set(date(2022, 5, 1)).code == "950/QĐ-BCT"  # between periods: the latest
    assert current_set(date(2026, 11, 24)).code == "950/QĐ-BCT"


# --- editing ----------------------------------------------------------------------------------------------------

def test_an_edit_writes_who_changed_what(criteria_sets, officer):
    area = criterion(criteria_sets["950"], "F-01")
    change = update_criterion(area, officer, params={"min_m2": 25}, binding=True,
                              requirement_vi="Diện tích tối thiểu 25 m².", source=area.source)
    assert change.actor_id == officer.id and change.changed_at is not None
    assert change.changes == {"params": [{"min_m2": None}, {"min_m2": 25}], "binding": [False, True],
                              "requirement_vi": [change.changes["requirement_vi"][0], "Diện tích tối thiểu 25 m²."]}
    assert update_criterion(area, officer, binding=True) is None  # nothing changed: no history row
    set_binding(area, False, officer)
    assert [list(c.changes) for c in history_of(area)] == [["binding"], ["params", "binding", "requirement_vi"]]


def test_changing_the_check_resets_its_parameters(criteria_sets, officer):
    sales = criterion(criteria_sets["950"], "M-SALES")
    update_criterion(sales, officer, auto_check="floor_area")
    assert sales.params == {"min_m2": None}
    update_criterion(sales, officer, auto_check=None)
    assert sales.auto_check is None and sales.params == {}


@pytest.mark.parametrize("fields, field", [
    ({"requirement_vi": "   "}, "requirement_vi"),
    ({"requirement_en": ""}, "requirement_en"),
    ({"source": ""}, "source"),
    ({"params": {"min_m2": -5}}, "min_m2"),
    ({"params": {"min_m2": 2.5}}, "min_m2"),
    ({"params": {"min_m2": "20"}}, "min_m2"),
    ({"params": {"min_m2": True}}, "min_m2"),
    ({"params": {"Bad Name": 1}}, "params"),
    ({"params": ["x"]}, "params"),
    ({"check_kind": "evidence"}, "auto_check"),   # F-01 has an automatic check
    ({"check_kind": "sometimes"}, "check_kind"),
    ({"auto_check": "astrology"}, "auto_check"),
])
def test_bad_edits_are_refused_and_change_nothing(criteria_sets, officer, fields, field):
    area = criterion(criteria_sets["950"], "F-01")
    with pytest.raises(DomainError) as refused:
        update_criterion(area, officer, **fields)
    assert refused.value.field == field
    assert area.check_kind == CheckKind.BOTH and area.params == {"min_m2": None} and not history_of(area)


def test_evidence_only_criterion_cannot_get_an_automatic_check(criteria_sets, officer):
    staff = criterion(criteria_sets["950"], "M-02")
    with pytest.raises(DomainError) as refused:
        update_criterion(staff, officer, auto_check="prices")
    assert refused.value.code == "auto_check_on_evidence" and refused.value.field == "auto_check"
    update_criterion(staff, officer, check_kind="both", auto_check="prices")
    assert staff.auto_check == AutoCheck.PRICES


def test_recent_sales_needs_at_least_one_day(criteria_sets, officer):
    sales = criterion(criteria_sets["950"], "M-SALES")
    for days in (0, None):
        with pytest.raises(DomainError):
            update_criterion(sales, officer, params={"days": days})
    update_criterion(sales, officer, params={"days": 7})
    assert sales.params == {"days": 7}


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PRODUCER, Role.POINT_MANAGER])
def test_only_officers_and_admins_edit(criteria_sets, role):
    area = criterion(criteria_sets["950"], "F-01")
    with pytest.raises(NotAllowed):
        update_criterion(area, make_user(role), binding=True)
    admin = make_user(Role.ADMIN)
    assert update_criterion(area, admin, binding=True).actor_id == admin.id
    assert db.session.query(CriterionChange).count() == 1


# --- the department pages ----------------------------------------------------------------------------------------

@pytest.fixture
def pages(app, client):
    with app.app_context():
        load_criteria_sets()
        make_user(Role.TRADE_OFFICER, email="officer@example.vn", full_name="Trần Thị Cán Bộ")
        for role in (Role.CUSTOMER, Role.PRODUCER, Role.POINT_MANAGER):
            make_user(role, email=f"{role.value}@example.vn")
        db.session.commit()
        s950 = db.session.query(CriteriaSet).filter_by(code="950/QĐ-BCT").one()
        area = next(c for c in s950.criteria if c.code == "F-01")
        return {"set": s950.id, "area": area.id, "urls": [
            "/department/criteria", f"/department/criteria/{s950.id}",
            f"/department/criteria/criterion/{area.id}/edit"]}


def test_officer_sees_sets_and_criteria_in_the_current_language(client, pages):
    login(client, "officer@example.vn")
    listing = client.get("/department/criteria").get_data(as_text=True)
    assert "920/QĐ-BCT" in listing and "950/QĐ-BCT" in listing
    page = client.get(f"/department/criteria/{pages['set']}").get_data(as_text=True)
    assert "L-08" in page and "Tại bưu cục, bưu điện văn hóa xã" in page  # Vietnamese is the default
    client.get("/lang/en")
    page = client.get(f"/department/criteria/{pages['set']}").get_data(as_text=True)
    assert "In a post office or a commune cultural post office" in page
    assert "Advisory" in page and "Binding" in page


def test_officer_edits_a_criterion_and_sees_its_history(app, client, pages):
    login(client, "officer@example.vn")
    url = f"/department/criteria/criterion/{pages['area']}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'name="min_m2"' in form and 'name="days"' not in form
    response = post_form(client, url, {
        "requirement_vi": "Diện tích mặt bằng tối thiểu 20 m².", "requirement_en": "At least 20 m² of floor.",
        "source": "Quyết định của UBND tỉnh", "binding": "y", "check_kind": "both", "auto_check": "floor_area",
        "min_m2": "20"})
    assert response.status_code == 302
    with app.app_context():
        area = db.session.get(Criterion, pages["area"])
        assert area.params == {"min_m2": 20} and area.binding and area.requirement_en == "At least 20 m² of floor."
    page = client.get(url).get_data(as_text=True)
    assert "Trần Thị Cán Bộ" in page and "Diện tích mặt bằng tối thiểu 20 m²." in page


def test_a_refused_edit_shows_the_message_on_the_form(app, client, pages):
    login(client, "officer@example.vn")
    url = f"/department/criteria/criterion/{pages['area']}/edit"
    response = post_form(client, url, {"requirement_vi": "x", "requirement_en": "x", "source": "x",
                                       "check_kind": "evidence", "auto_check": "floor_area"})
    assert response.status_code == 400
    assert "field--error" in response.get_data(as_text=True)
    response = post_form(client, url, {"requirement_vi": "", "requirement_en": "x", "source": "x",
                                       "check_kind": "both", "auto_check": "floor_area", "min_m2": "-3"})
    assert response.status_code == 400
    with app.app_context():
        assert not db.session.get(Criterion, pages["area"]).changes


def test_officer_marks_an_advisory_criterion_binding(app, client, pages):
    login(client, "officer@example.vn")
    response = post_form(client, f"/department/criteria/criterion/{pages['area']}/binding", {"binding": "1"},
                         form_url=f"/department/criteria/{pages['set']}")
    assert response.status_code == 302
    with app.app_context():
        area = db.session.get(Criterion, pages["area"])
        assert area.binding and area.changes[0].changes == {"binding": [False, True]}


def test_the_pages_follow_the_accessibility_rules(client, pages):
    from bs4 import BeautifulSoup

    from tests.test_accessibility import assert_accessible

    login(client, "officer@example.vn")
    for url in pages["urls"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_accessible(BeautifulSoup(response.get_data(as_text=True), "html.parser"), url)


@pytest.mark.parametrize("role", ["customer", "producer", "point_manager"])
def test_other_roles_are_refused(client, pages, role):
    login(client, f"{role}@example.vn")
    for url in pages["urls"]:
        assert client.get(url).status_code == 403, url
    response = post_form(client, f"/department/criteria/criterion/{pages['area']}/binding", {"binding": "1"},
                         form_url="/")
    assert response.status_code == 403


def test_guests_are_sent_to_login(client, pages):
    for url in pages["urls"]:
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_unknown_set_or_criterion_is_not_found(client, pages):
    login(client, "officer@example.vn")
    assert client.get("/department/criteria/999").status_code == 404
    assert client.get("/department/criteria/criterion/999/edit").status_code == 404
