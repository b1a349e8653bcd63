"""A point manager sees their own point's audits (submitted and concluded, read only, with findings and deadlines)
and submits evidence; nothing else. Another point's manager is refused, officers read but cannot post here."""
from datetime import timedelta
from io import BytesIO

import pytest
import sqlalchemy as sa

from shop.accounts.models import Role, User
from shop.audit.audits import services
from shop.audit.audits.evidence import Upload, add_evidence
from shop.audit.models import Evidence
from shop.core.clock import today
from shop.extensions import db
from tests.audit.test_audits import ALL_PASS, fake_checks, make_criteria_set, record_all
from tests.audit.test_evidence import PDF, photo_with_exif
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_point, make_point_manager, make_user

POINT, OTHER = "DN-XL-01", "DN-TT-01"


@pytest.fixture
def world(app):
    """At DN-XL-01: a concluded audit with an open finding, a submitted one and a draft; at DN-TT-01 a concluded
    audit and a piece of evidence. A manager for each point, an officer, a customer."""
    with app.app_context():
        officer = make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        point, other = make_point(POINT), make_point(OTHER)
        make_point_manager(point, email="manager@example.vn")
        make_point_manager(other, email="other@example.vn")
        make_user(Role.CUSTOMER, email="customer@example.vn")
        criteria_set = make_criteria_set()
        second_set = make_criteria_set("920/QĐ-BCT")
        ids = {}
        concluded = services.start_audit(point, criteria_set, officer, run_checks=fake_checks)
        record_all(concluded, officer, ALL_PASS)
        services.add_finding(concluded, "Thay biển hiệu theo mẫu 3041", today() + timedelta(days=45), actor=officer)
        services.submit(concluded, officer)
        services.conclude(concluded, "meets_with_conditions", "Đạt có điều kiện", officer)
        submitted = services.start_audit(point, second_set, officer, run_checks=fake_checks)
        record_all(submitted, officer, ALL_PASS)
        services.submit(submitted, officer)
        draft = services.start_audit(point, criteria_set, officer, previous=concluded, run_checks=fake_checks)
        elsewhere = services.start_audit(other, criteria_set, officer, run_checks=fake_checks)
        record_all(elsewhere, officer, ALL_PASS)
        services.submit(elsewhere, officer)
        services.conclude(elsewhere, "meets", "", officer)
        foreign = add_evidence(other, "S-01", Upload(BytesIO(PDF), "hd.pdf"), "Hợp đồng", officer,
                               upload_dir=app.config["UPLOAD_DIR"])
        db.session.commit()
        ids.update(concluded=concluded.id, submitted=submitted.id, draft=draft.id, elsewhere=elsewhere.id,
                   foreign_evidence=foreign.id)
    return ids


def _as(client, email):
    login(client, email)
    client.get("/lang/en")
    return client


def test_a_manager_sees_submitted_and_concluded_audits_with_findings(client, world):
    _as(client, "manager@example.vn")
    page = client.get(f"/manage/points/{POINT}/audits").get_data(as_text=True)
    assert f"Audit {world['concluded']}" in page and f"Audit {world['submitted']}" in page
    assert f"Audit {world['draft']}" not in page and f"Audit {world['elsewhere']}" not in page
    assert "Meets the criteria with conditions" in page
    assert (today() + timedelta(days=45)).strftime("%d/%m/%Y") in page  # the next deadline
    detail = client.get(f"/manage/points/{POINT}/audits/{world['concluded']}").get_data(as_text=True)
    assert "Thay biển hiệu theo mẫu 3041" in detail and "Requirement S-01" in detail and "Open" in detail
    assert "<form" not in detail.split('id="main"', 1)[1].split("</main>")[0]  # read only: no form in the page


def test_a_manager_cannot_open_a_draft_or_another_points_audit(client, world):
    _as(client, "manager@example.vn")
    assert client.get(f"/manage/points/{POINT}/audits/{world['draft']}").status_code == 404
    assert client.get(f"/manage/points/{POINT}/audits/{world['elsewhere']}").status_code == 404
    assert client.get(f"/manage/points/{POINT}/evidence/{world['foreign_evidence']}").status_code == 404


def test_a_manager_submits_evidence_that_the_officer_sees(app, client, world):
    _as(client, "manager@example.vn")
    url = f"/manage/points/{POINT}/audits"
    response = post_form(client, f"/manage/points/{POINT}/evidence",
                         {"criterion_code": "S-01", "title": "Biển hiệu mới",
                          "file": (BytesIO(photo_with_exif()), "bien-hieu-moi.jpg")},
                         form_url=url, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{url}#evidence-title")
    page = client.get(url).get_data(as_text=True)
    assert "Biển hiệu mới" in page and "Taken 12/05/2025 09:30" in page and "GPS 10.93, 107.24" in page
    with app.app_context():
        evidence = db.session.scalar(sa.select(Evidence).where(Evidence.title == "Biển hiệu mới"))
        assert evidence.submitted_by_manager and evidence.audit_id is None and evidence.point.code == POINT
        evidence_id = evidence.id
    file = client.get(f"/manage/points/{POINT}/evidence/{evidence_id}")
    assert file.status_code == 200 and file.mimetype == "image/jpeg"
    file.close()

    officer = app.test_client()
    _as(officer, "officer@example.vn")
    draft = officer.get(f"/department/audits/{world['draft']}").get_data(as_text=True)
    assert "Biển hiệu mới" in draft and "submitted by the point" in draft
    # The concluded audit shows only what it rested on: the later submission is not part of it.
    concluded = officer.get(f"/department/audits/{world['concluded']}").get_data(as_text=True)
    assert "Biển hiệu mới" not in concluded


def test_a_bad_submission_is_refused_with_its_reason(app, client, world):
    _as(client, "manager@example.vn")
    url = f"/manage/points/{POINT}/audits"
    response = post_form(client, f"/manage/points/{POINT}/evidence",
                         {"criterion_code": "S-01", "title": "Ảnh", "file": (BytesIO(b"plain text"), "a.txt")},
                         form_url=url, content_type="multipart/form-data")
    assert response.status_code == 400 and "Only a PDF document or a photo" in response.get_data(as_text=True)
    response = post_form(client, f"/manage/points/{POINT}/evidence",
                         {"criterion_code": "Z-99", "title": "Ảnh", "file": (BytesIO(PDF), "a.pdf")},
                         form_url=url, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a criterion of one of the criteria sets" in response.get_data(
        as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Evidence.id))) == 1  # only the fixture's


def test_a_manager_of_another_point_is_refused(client, world):
    _as(client, "other@example.vn")
    assert client.get(f"/manage/points/{POINT}/audits").status_code == 403
    assert client.get(f"/manage/points/{POINT}/audits/{world['concluded']}").status_code == 403
    token = csrf_token(client, f"/manage/points/{OTHER}/audits")
    response = client.post(f"/manage/points/{POINT}/evidence", content_type="multipart/form-data",
                           data={"csrf_token": token, "criterion_code": "S-01", "title": "Ảnh",
                                 "file": (BytesIO(PDF), "a.pdf")})
    assert response.status_code == 403
    assert client.get(f"/manage/points/{OTHER}/audits").status_code == 200  # their own point


def test_an_officer_reads_but_cannot_post(client, world):
    _as(client, "officer@example.vn")
    page = client.get(f"/manage/points/{POINT}/audits")
    assert page.status_code == 200 and "Submit evidence" not in page.get_data(as_text=True)
    token = csrf_token(client, "/")
    response = client.post(f"/manage/points/{POINT}/evidence", content_type="multipart/form-data",
                           data={"csrf_token": token, "criterion_code": "S-01", "title": "Ảnh",
                                 "file": (BytesIO(PDF), "a.pdf")})
    assert response.status_code == 403


def test_customers_are_refused_and_guests_sent_to_log_in(app, world):
    guest = app.test_client()
    for url in (f"/manage/points/{POINT}/audits", f"/manage/points/{POINT}/audits/{world['concluded']}"):
        response = guest.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    customer = _as(app.test_client(), "customer@example.vn")
    assert customer.get(f"/manage/points/{POINT}/audits").status_code == 403
    token = csrf_token(customer, "/")
    assert customer.post(f"/manage/points/{POINT}/evidence", data={"csrf_token": token}).status_code == 403


def test_a_manager_is_refused_the_department_pages(client, world):
    _as(client, "manager@example.vn")
    assert client.get("/department/audits").status_code == 403
    assert client.get(f"/department/audits/{world['concluded']}").status_code == 403


def test_the_audit_pages_follow_the_accessibility_rules(app, client, world):
    from bs4 import BeautifulSoup

    from tests.test_accessibility import assert_accessible

    with app.app_context():
        from shop.sales_points.queries import get_by_code

        officer = db.session.scalar(sa.select(User).where(User.email == "officer@example.vn"))
        add_evidence(get_by_code(POINT), "S-01", Upload(BytesIO(photo_with_exif()), "a.jpg"), "Biển hiệu", officer,
                     upload_dir=app.config["UPLOAD_DIR"])
        db.session.commit()
    officer = _as(app.test_client(), "officer@example.vn")
    urls = ["/department/audits", "/department/audits/new", "/department/audits?status=draft&verdict=meets"]
    urls += [f"/department/audits/{world[key]}" for key in ("draft", "submitted", "concluded")]
    urls += [f"/manage/points/{POINT}/audits", f"/manage/points/{POINT}/audits/{world['concluded']}"]
    for url in urls:
        response = officer.get(url)
        assert response.status_code == 200, url
        assert_accessible(BeautifulSoup(response.get_data(as_text=True), "html.parser"), url)
    manager = _as(client, "manager@example.vn")
    page = manager.get(f"/manage/points/{POINT}/audits")
    assert_accessible(BeautifulSoup(page.get_data(as_text=True), "html.parser"), "manager audits")
