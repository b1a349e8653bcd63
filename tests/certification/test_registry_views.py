"""The certificates registry pages under /department/certificates: list, detail, recording by hand, withdrawal and
downgrade (seen by the storefront on the next request, cached pages included), the expiring list, and the import
from upload to preview to commit. Only trade officers and admins get in."""
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shop.accounts.models import Role
from shop.certification.models import Certificate, CertificateStatus
from shop.core.clock import today
from shop.extensions import db
from shop.producers.models import Producer
from tests.certification.fixtures import csv_bytes, row, xlsx_bytes
from tests.conftest import at_run_time, csrf_token, login, post_form
from tests.factories import make_certificate, make_producer, make_product, make_user

PAGES = ["/department/certificates", "/department/certificates/expiring", "/department/certificates/new",
         "/department/certificates/import", "/department/certificates/template.xlsx"]


@pytest.fixture
def desk(app, client):
    """A logged-in trade officer (English pages) and a published product certified 4★ by a known decision."""
    with app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        producer = make_producer("HTX Cà phê Xuân Lộc")
        product = make_product(producer, "Cà phê hạt rang xay", stars=None)
        certificate = make_certificate(product, stars=4, score=80, decision_no="55/QĐ-UBND",
                                       decision_date=today() - timedelta(days=100))
        db.session.commit()
        ids = {"product": product.id, "slug": product.slug, "certificate": certificate.id}
    login(client, "officer@example.vn")
    client.get("/lang/en")
    return ids


def certificates(app) -> list[Certificate]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Certificate).order_by(Certificate.id)))


# --- who gets in -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PRODUCER, Role.POINT_MANAGER])
def test_other_roles_are_refused(app, client, role):
    with app.app_context():
        make_user(role, email="someone@example.vn")
        db.session.commit()
    login(client, "someone@example.vn")
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/")
    assert client.post("/department/certificates/1/withdraw", data={"csrf_token": token}).status_code == 403
    assert client.post("/department/certificates/import", data={"csrf_token": token}).status_code == 403


def test_a_guest_is_sent_to_login(client):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], url


def test_officers_and_admins_get_in(app, client, desk):
    for url in PAGES:
        assert client.get(url).status_code == 200, url
    with app.app_context():
        make_user(Role.ADMIN, email="admin@example.vn")
        db.session.commit()
    other = app.test_client()
    login(other, "admin@example.vn")
    assert other.get("/department/certificates").status_code == 200


# --- list and detail ---------------------------------------------------------------------------------------

def test_the_list_filters_by_status_stars_level_year_and_search(app, client, desk):
    with app.app_context():
        old = make_certificate(make_product(make_producer("Cơ sở Bánh pía Long Khánh"), "Bánh pía sầu riêng",
                                            stars=None), stars=3, decision_date=date(2019, 11, 20))
        expiring = make_certificate(make_product(stars=None), stars=5,
                                    decision_date=today() - timedelta(days=1080))  # ends in about 15 days
        db.session.commit()
        old_id, expiring_id = old.id, expiring.id
    current = desk["certificate"]

    def shown(query: str) -> set[int]:
        html = client.get(f"/department/certificates?{query}").get_data(as_text=True)
        return {cid for cid in (old_id, expiring_id, current) if f'data-certificate="{cid}"' in html}

    assert shown("") == {old_id, expiring_id, current}
    assert shown("status=expired") == {old_id}
    assert shown("status=valid") == {expiring_id, current}
    assert shown("status=expiring") == {expiring_id}
    assert shown("stars=4") == {current}
    assert shown("level=central") == {expiring_id}
    assert shown("year=2019") == {old_id}
    assert shown("q=banh+pia") == {old_id}          # without diacritics, on the product name
    assert shown("q=xuan+loc") == {current}         # on the producer's name
    assert shown("status=bogus&stars=9") == {old_id, expiring_id, current}  # unknown values: no filter


def test_the_list_is_paginated(app, client, desk, monkeypatch):
    from shop.certification import registry_views

    monkeypatch.setattr(registry_views, "PER_PAGE", 2)
    with app.app_context():
        for _ in range(3):
            make_product(stars=3)
        db.session.commit()
    first = client.get("/department/certificates").get_data(as_text=True)
    third = client.get("/department/certificates?page=2").get_data(as_text=True)
    assert first.count("data-certificate=") == 2 and third.count("data-certificate=") == 2
    assert "4 certificates" in first and 'rel="next"' in first


def test_the_detail_shows_the_history_of_the_product(app, client, desk):
    with app.app_context():
        product = db.session.get(Certificate, desk["certificate"]).product
        older = make_certificate(product, stars=3, decision_no="9/QĐ-UBND", decision_date=today() - timedelta(days=900))
        db.session.commit()
        older_id = older.id
    html = client.get(f"/department/certificates/{desk['certificate']}").get_data(as_text=True)
    assert "55/QĐ-UBND" in html and "9/QĐ-UBND" in html and f'data-certificate="{older_id}"' in html
    assert client.get("/department/certificates/999999").status_code == 404


# --- recording by hand -------------------------------------------------------------------------------------

def _form(product_id, **changes):
    return {"product": str(product_id), "stars": "3", "score": "60", "level": "province",
            "decision_no": "77/QĐ-UBND", "decision_date": (today() - timedelta(days=3)).isoformat(),
            "valid_until": "", **changes}


def test_an_officer_records_a_certificate_valid_36_months_by_default(app, client, desk):
    with app.app_context():
        product_id = make_product(stars=None, name="Mắm tôm chua").id
        db.session.commit()
    page = client.get("/department/certificates/new?q=mam+tom").get_data(as_text=True)
    assert "Mắm tôm chua" in page and "Cà phê hạt rang xay" not in page
    response = post_form(client, "/department/certificates/new", _form(product_id))
    assert response.status_code == 302
    created = certificates(app)[-1]
    assert created.product_id == product_id and created.stars == 3 and created.score == 60
    assert created.valid_until == date(created.decision_date.year + 3, created.decision_date.month,
                                       created.decision_date.day)
    assert response.headers["Location"].endswith(f"/department/certificates/{created.id}")


@pytest.mark.parametrize("changes, message", [
    ({"score": "75"}, "does not give 3 stars"),
    ({"decision_date": lambda: (today() + timedelta(days=1)).isoformat()}, "cannot be in the future"),
    ({"level": "central"}, "Only 5-star products"),
    ({"stars": "7"}, "Not a valid choice"),
    ({"decision_no": ""}, "Please fill in this field"),
    ({"product": "999999"}, "Choose a product"),
])
def test_a_wrong_certificate_is_refused_on_the_form(app, client, desk, changes, message):
    changes = at_run_time(changes)
    before = len(certificates(app))
    response = post_form(client, "/department/certificates/new", _form(desk["product"], **changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert len(certificates(app)) == before


# --- withdraw and downgrade: the storefront changes on the next request --------------------------------------

def _storefront(app, slug: str) -> tuple[str, str]:
    visitor = app.test_client()
    return (visitor.get(f"/products/{slug}?lang=en").get_data(as_text=True),
            visitor.get("/products?lang=en").get_data(as_text=True))


def test_withdrawing_delists_the_product_at_once(app, client, desk):
    page, listing = _storefront(app, desk["slug"])  # and the page cache keeps them
    assert "4-star OCOP product" in page and "Cà phê hạt rang xay" in listing
    response = post_form(client, f"/department/certificates/{desk['certificate']}/withdraw",
                         {"withdraw-decision_no": "12/QĐ-UBND", "withdraw-reason": "Vi phạm an toàn thực phẩm.",
                          "withdraw-on": today().isoformat()},
                         form_url=f"/department/certificates/{desk['certificate']}")
    assert response.status_code == 302
    page, listing = _storefront(app, desk["slug"])
    assert "4-star OCOP product" not in page and "Cà phê hạt rang xay" not in listing
    with app.app_context():
        certificate = db.session.get(Certificate, desk["certificate"])
        assert certificate.status_on(today()) == CertificateStatus.WITHDRAWN
        assert certificate.withdrawal_decision_no == "12/QĐ-UBND"
    detail = client.get(f"/department/certificates/{desk['certificate']}").get_data(as_text=True)
    assert "Vi phạm an toàn thực phẩm." in detail


def test_a_withdrawal_needs_its_decision_and_reason(app, client, desk):
    response = post_form(client, f"/department/certificates/{desk['certificate']}/withdraw",
                         {"withdraw-decision_no": "", "withdraw-reason": ""},
                         form_url=f"/department/certificates/{desk['certificate']}")
    assert response.status_code == 400
    assert certificates(app)[0].withdrawn_on is None


def test_downgrading_changes_the_badge_at_once(app, client, desk):
    page, _listing = _storefront(app, desk["slug"])
    assert "4-star OCOP product" in page
    url = f"/department/certificates/{desk['certificate']}"
    response = post_form(client, f"{url}/downgrade",
                         {"downgrade-stars": "3", "downgrade-score": "62", "downgrade-decision_no": "13/QĐ-UBND",
                          "downgrade-reason": "Bao bì không đạt.", "downgrade-on": today().isoformat()}, form_url=url)
    assert response.status_code == 302
    page, listing = _storefront(app, desk["slug"])
    assert "3-star OCOP product" in page and "4-star OCOP product" not in page and "Cà phê hạt rang xay" in listing
    old, new = certificates(app)
    assert old.superseded_by_id == new.id and old.superseded_on == today()
    assert (new.stars, new.score, new.decision_no, new.valid_until) == (3, 62, "13/QĐ-UBND", old.valid_until)
    detail = client.get(f"/department/certificates/{new.id}").get_data(as_text=True)
    assert "Bao bì không đạt." in detail and "Downgraded to 3★ by 13/QĐ-UBND" in detail


def test_a_downgrade_below_three_stars_delists_and_equal_stars_are_refused(app, client, desk):
    url = f"/department/certificates/{desk['certificate']}"
    fields = {"downgrade-score": "", "downgrade-decision_no": "14/QĐ-UBND", "downgrade-reason": "Tái đánh giá.",
              "downgrade-on": today().isoformat()}
    refused = post_form(client, f"{url}/downgrade", {**fields, "downgrade-stars": "4"}, form_url=url)
    assert refused.status_code == 400 and "fewer stars than the current 4" in refused.get_data(as_text=True)
    assert len(certificates(app)) == 1
    assert post_form(client, f"{url}/downgrade", {**fields, "downgrade-stars": "2"}, form_url=url).status_code == 302
    _page, listing = _storefront(app, desk["slug"])
    assert "Cà phê hạt rang xay" not in listing


# --- expiring ----------------------------------------------------------------------------------------------

def test_the_expiring_list_shows_certificates_ending_within_90_days(app, client, desk):
    with app.app_context():
        soon = make_certificate(make_product(stars=None, name="Rượu đế Bàu Sen"), stars=3,
                                decision_date=today() - timedelta(days=300), valid_until=today() + timedelta(days=40))
        later = make_certificate(make_product(stars=None, name="Nấm linh chi"), stars=3,
                                 decision_date=today() - timedelta(days=300), valid_until=today() + timedelta(days=120))
        db.session.commit()
        soon_id, later_id = soon.id, later.id
    html = client.get("/department/certificates/expiring").get_data(as_text=True)
    assert f'data-certificate="{soon_id}"' in html and f'data-certificate="{later_id}"' not in html
    assert "<td>40</td>" in html


# --- import ------------------------------------------------------------------------------------------------

def _upload(client, content: bytes, name: str):
    return post_form(client, "/department/certificates/import", {"file": (io.BytesIO(content), name)},
                     content_type="multipart/form-data")


def test_the_import_previews_then_commits_all_rows(app, client, desk):
    content = xlsx_bytes([row(), row(number=2, producer="HTX Cà phê Xuân Lộc", product="cà phê hạt rang xay",
                                     stars=5, score=91, level="trung ương", decision_no="200/QĐ-UBND")])
    response = _upload(client, content, "danh-sach.xlsx")
    assert response.status_code == 303
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "new producer" in page and "new product" in page and "Import 2 certificates" in page
    assert len(certificates(app)) == 1  # the preview writes nothing
    token = preview_url.rsplit("/", 1)[1]
    assert client.get(f"/media/imports/certificates-{token}.xlsx").status_code == 404  # kept out of /media
    committed = post_form(client, preview_url, {}, form_url=preview_url)
    assert committed.status_code == 303 and committed.headers["Location"].endswith("/department/certificates")
    assert "2 certificates imported." in client.get("/department/certificates").get_data(as_text=True)
    assert len(certificates(app)) == 3
    assert client.get(preview_url).status_code == 404  # the stored file is gone once imported


def test_a_file_with_an_error_shows_it_and_imports_nothing(app, client, desk):
    content = csv_bytes([row(), row(number=2, decision_no="2/QĐ", stars=6, score=95)])
    response = _upload(client, content, "list.csv")
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "Row 3, column Số sao: Stars must be a whole number from 1 to 5" in page
    assert "Import 2 certificates" not in page
    refused = post_form(client, preview_url, {}, form_url=preview_url)
    assert refused.status_code == 400
    assert len(certificates(app)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(Producer).where(Producer.name == "HTX Nông nghiệp Phú Hòa")) is None


def test_wrong_headers_are_one_error_on_the_preview(client, desk):
    content = csv_bytes([["1", "x"]], header=["STT", "Sản phẩm khác"])
    page = client.get(_upload(client, content, "list.csv").headers["Location"]).get_data(as_text=True)
    assert "1 problem" in page and "missing: Tên sản phẩm" in page and "unknown: Sản phẩm khác" in page


def test_an_unreadable_upload_is_refused_on_the_form(client, desk):
    response = _upload(client, b"not a workbook", "list.xlsx")
    assert response.status_code == 400 and "not a valid .xlsx workbook" in response.get_data(as_text=True)
    assert _upload(client, b"%PDF-1.4", "list.pdf").status_code == 400


def test_an_unknown_preview_token_is_not_found(client, desk):
    assert client.get("/department/certificates/import/" + "x" * 32).status_code == 404
    assert client.get("/department/certificates/import/..%2F..%2Fetc").status_code == 404


def test_the_template_downloads(client, desk):
    xlsx = client.get("/department/certificates/template.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    assert xlsx.headers["Content-Disposition"].startswith("attachment")
    csv = client.get("/department/certificates/template.csv")
    text = csv.get_data().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("STT,Tên sản phẩm,Chủ thể,Loại hình,Nhóm")
    assert client.get("/department/certificates/template.pdf").status_code == 404


def test_every_registry_page_follows_the_accessibility_rules(app, client, desk):
    from bs4 import BeautifulSoup

    from tests.test_accessibility import assert_accessible

    with app.app_context():
        make_certificate(make_product(stars=None), stars=3, decision_date=today() - timedelta(days=300),
                         valid_until=today() + timedelta(days=30))
        db.session.commit()
    detail = f"/department/certificates/{desk['certificate']}"
    clean = _upload(client, csv_bytes([row()]), "ok.csv").headers["Location"]
    broken = _upload(client, csv_bytes([row(stars=9)]), "bad.csv").headers["Location"]
    responses = {url: client.get(url) for url in ("/department/certificates", "/department/certificates/expiring",
                                                  "/department/certificates/new", "/department/certificates/import",
                                                  detail, clean, broken)}
    responses["new (errors)"] = post_form(client, "/department/certificates/new", _form(desk["product"], score="99"))
    responses["withdraw (errors)"] = post_form(client, f"{detail}/withdraw", {"withdraw-reason": ""}, form_url=detail)
    responses["downgrade (errors)"] = post_form(client, f"{detail}/downgrade", {"downgrade-stars": "5"},
                                                form_url=detail)
    responses["import (errors)"] = _upload(client, b"x", "x.xlsx")
    for url, response in responses.items():
        assert response.status_code in (200, 400), url
        assert_accessible(BeautifulSoup(response.get_data(as_text=True), "html.parser"), url)
