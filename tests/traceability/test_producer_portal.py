"""The producer portal: who may see which lot, creating lots, recording steps with inputs and files through the
form, corrections, status changes and attachment downloads."""
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.core.clock import VN_TZ, today
from shop.core.models import utcnow
from shop.extensions import db
from shop.traceability.models import Lot, LotStatus, TraceAttachment, TraceEvent
from tests.conftest import post_form
from tests.traceability.conftest import pdf_bytes, uploaded_files


def now_local(hours_ago: int = 1) -> str:
    return (utcnow() - timedelta(hours=hours_ago)).astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M")


def step(**changes) -> dict:
    data = {"event_type": "packing", "occurred_at": now_local(), "place": "Xưởng đóng gói, Xuân Lập",
            "ward_code": "0", "actor_name": "Tổ đóng gói", "previous_step": "Xưởng sấy", "next_step": "Kho thành phẩm",
            "description": "Đóng túi 500 g", "corrects": "",
            "inputs-0-material": "Túi zip 500 g", "inputs-0-supplier": "Bao bì Tân Vạn", "inputs-0-origin": "Biên Hòa",
            "inputs-0-quantity": "1000", "inputs-0-unit": "cái", "inputs-0-supplier_lot": "BB-77"}
    data.update(changes)
    return data


# ------------------------------------------------------------------------------------------------ access

@pytest.mark.parametrize("path", ["", "/lots", "/lots/new", "/lots/{lot}"])
def test_guests_are_sent_to_log_in(portal, path):
    response = portal.client.get("/manage/producer" + path.format(lot=portal.lot_id))
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


@pytest.mark.parametrize("email", ["customer@example.vn", "manager@example.vn", "officer@example.vn"])
@pytest.mark.parametrize("path", ["", "/lots", "/lots/new", "/lots/{lot}"])
def test_other_roles_are_refused(portal, email, path):
    portal.login(email)
    assert portal.client.get("/manage/producer" + path.format(lot=portal.lot_id)).status_code == 403


def test_another_producers_lot_is_not_found(portal):
    portal.login()
    assert portal.client.get(f"/manage/producer/lots/{portal.other_lot_id}").status_code == 404
    assert post_form(portal.client, f"/manage/producer/lots/{portal.other_lot_id}/events", step(),
                     form_url=f"/manage/producer/lots/{portal.lot_id}").status_code == 404
    assert post_form(portal.client, f"/manage/producer/lots/{portal.other_lot_id}/status", {"status": "closed"},
                     form_url=f"/manage/producer/lots/{portal.lot_id}").status_code == 404
    assert portal.client.get("/manage/producer/lots/999999").status_code == 404


def test_a_producer_lists_only_its_own_lots(portal):
    portal.login()
    html = portal.client.get("/manage/producer/lots").get_data(as_text=True)
    assert "L-001" in html and "B-001" not in html
    home = portal.client.get("/manage/producer").get_data(as_text=True)
    assert "Mít sấy giòn Long Khánh" in home and "Mứt vỏ bưởi" not in home


def test_an_admin_sees_every_producers_lots(portal):
    portal.login("admin@example.vn")
    html = portal.client.get("/manage/producer/lots").get_data(as_text=True)
    assert "L-001" in html and "B-001" in html
    assert portal.client.get(f"/manage/producer/lots/{portal.other_lot_id}").status_code == 200


def test_the_lot_list_filters_by_text_and_status(portal):
    portal.login("admin@example.vn")
    html = portal.client.get("/manage/producer/lots?q=b-00").get_data(as_text=True)
    assert "B-001" in html and "L-001" not in html
    html = portal.client.get("/manage/producer/lots?status=released").get_data(as_text=True)
    assert "B-001" not in html and "L-001" not in html


# ------------------------------------------------------------------------------------------------- lots

def test_a_producer_creates_a_lot_of_its_own_product(portal):
    portal.login()
    response = post_form(portal.client, "/manage/producer/lots/new", {
        "product_id": str(portal.product_id), "lot_code": "L-250401", "production_date": today().isoformat(),
        "expiry_date": (today() + timedelta(days=365)).isoformat(), "quantity": "600", "status": "in_production",
        "note": ""})
    assert response.status_code == 302
    with portal.app.app_context():
        lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "L-250401"))
        assert lot.product_id == portal.product_id and lot.quantity == 600
    assert response.headers["Location"].endswith(f"/manage/producer/lots/{lot.id}")


def test_a_producer_cannot_create_a_lot_of_another_producers_product(portal):
    portal.login()
    response = post_form(portal.client, "/manage/producer/lots/new", {
        "product_id": str(portal.other_product_id), "lot_code": "X-1", "production_date": today().isoformat(),
        "quantity": "5", "status": "in_production"})
    assert response.status_code == 400
    with portal.app.app_context():
        assert db.session.scalar(sa.select(Lot.id).where(Lot.lot_code == "X-1")) is None


def test_a_duplicate_lot_code_is_shown_on_the_form(portal):
    portal.login()
    response = post_form(portal.client, "/manage/producer/lots/new", {
        "product_id": str(portal.product_id), "lot_code": "L-001", "production_date": today().isoformat(),
        "quantity": "5", "status": "in_production"})
    assert response.status_code == 400
    assert "already has a lot with the code L-001" in response.get_data(as_text=True)


def test_the_status_of_a_lot_changes(portal):
    portal.login()
    url = f"/manage/producer/lots/{portal.lot_id}"
    assert post_form(portal.client, url + "/status", {"status": "released"}, form_url=url).status_code == 302
    with portal.app.app_context():
        assert db.session.get(Lot, portal.lot_id).status == LotStatus.RELEASED


# ----------------------------------------------------------------------------------------------- events

def test_a_step_with_inputs_and_a_pdf_is_recorded_and_shown(portal):
    portal.login()
    url = f"/manage/producer/lots/{portal.lot_id}"
    data = step(**{"attachments-0-file": (io.BytesIO(pdf_bytes()), "ket-qua.pdf"),
                   "attachments-0-title": "Phiếu thử nghiệm vi sinh"})
    response = post_form(portal.client, url + "/events", data, form_url=url, content_type="multipart/form-data")
    assert response.status_code == 302
    html = portal.client.get(url).get_data(as_text=True)
    assert "Túi zip 500 g" in html and "BB-77" in html and "Phiếu thử nghiệm vi sinh" in html
    assert f"/t/{portal.trace_code}" in html and f"/manage/producer/lots/{portal.lot_id}/labels.pdf" in html
    with portal.app.app_context():
        attachment = db.session.scalar(sa.select(TraceAttachment))
        attachment_id = attachment.id
    download = portal.client.get(f"/manage/producer/attachments/{attachment_id}")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF-")
    download.close()


def test_an_attachment_is_not_served_to_another_producer(portal):
    test_a_step_with_inputs_and_a_pdf_is_recorded_and_shown(portal)
    with portal.app.app_context():
        attachment_id = db.session.scalar(sa.select(TraceAttachment.id))
    portal.client.post("/account/logout", data={})
    portal.client.delete_cookie("session")
    portal.login("other@example.vn")
    assert portal.client.get(f"/manage/producer/attachments/{attachment_id}").status_code == 404
    assert portal.client.get("/manage/producer/attachments/999999").status_code == 404


@pytest.mark.parametrize("changes, message", [
    ({"occurred_at": "2099-01-01T10:00"}, "The event cannot be in the future."),
    ({"event_type": "shipping", "occurred_at": (today() - timedelta(days=30)).isoformat() + "T10:00"},
     "This step cannot be dated before the lot&#39;s production date."),
    ({"inputs-0-quantity": "-5"}, "Each input needs a quantity greater than zero."),
])
def test_bad_steps_are_refused_on_the_form(portal, changes, message):
    portal.login()
    url = f"/manage/producer/lots/{portal.lot_id}"
    response = post_form(portal.client, url + "/events", step(**changes), form_url=url,
                         content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with portal.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(TraceEvent.id))) == 0


def test_a_file_that_is_not_a_pdf_or_an_image_is_refused_on_the_form(portal):
    portal.login()
    url = f"/manage/producer/lots/{portal.lot_id}"
    data = step(**{"attachments-0-file": (io.BytesIO(pdf_bytes()), "ok.pdf"),
                   "attachments-1-file": (io.BytesIO(b"MZ\x90\x00binary"), "setup.exe")})
    response = post_form(portal.client, url + "/events", data, form_url=url, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Only a PDF document or a photo" in response.get_data(as_text=True)
    with portal.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(TraceEvent.id))) == 0
    assert uploaded_files(portal.app) == []


def test_a_correction_is_prefilled_and_supersedes_the_entry(portal):
    portal.login()
    url = f"/manage/producer/lots/{portal.lot_id}"
    post_form(portal.client, url + "/events", step(description="Đóng 900 túi"), form_url=url,
              content_type="multipart/form-data")
    with portal.app.app_context():
        first_id = db.session.scalar(sa.select(TraceEvent.id))
    form = portal.client.get(f"{url}?corrects={first_id}").get_data(as_text=True)
    assert re.search(rf'name="corrects"[^>]*value="{first_id}"', form) and "Đóng 900 túi" in form
    response = post_form(portal.client, url + "/events", step(description="Đóng 1000 túi", corrects=str(first_id)),
                         form_url=url, content_type="multipart/form-data")
    assert response.status_code == 302
    html = portal.client.get(url).get_data(as_text=True)
    assert "Superseded by a correction" in html and "Đóng 1000 túi" in html
    with portal.app.app_context():
        assert db.session.scalar(sa.select(TraceEvent.corrects_id).where(TraceEvent.id != first_id)) == first_id


def test_a_correction_of_another_lots_event_is_not_found(portal):
    portal.login("admin@example.vn")
    url = f"/manage/producer/lots/{portal.other_lot_id}"
    post_form(portal.client, url + "/events", step(occurred_at=now_local()), form_url=url,
              content_type="multipart/form-data")
    with portal.app.app_context():
        other_event = db.session.scalar(sa.select(TraceEvent.id))
    assert portal.client.get(f"/manage/producer/lots/{portal.lot_id}?corrects={other_event}").status_code == 404
    mine = f"/manage/producer/lots/{portal.lot_id}"
    response = post_form(portal.client, mine + "/events", step(corrects=str(other_event)), form_url=mine,
                         content_type="multipart/form-data")
    assert response.status_code == 400
    assert "A correction must point at an event of the same lot." in response.get_data(as_text=True)


# --------------------------------------------------------------------------------------------- accessibility

@pytest.mark.parametrize("path", ["", "/lots", "/lots?q=zzz", "/lots/new", "/lots/{lot}",
                                  "/lots/{lot}?corrects={event}"])
def test_portal_pages_follow_the_accessibility_rules(portal, path):
    from bs4 import BeautifulSoup

    from tests.test_accessibility import assert_accessible

    portal.login()
    url = f"/manage/producer/lots/{portal.lot_id}"
    post_form(portal.client, url + "/events", step(), form_url=url, content_type="multipart/form-data")
    with portal.app.app_context():
        event_id = db.session.scalar(sa.select(TraceEvent.id))
    page = "/manage/producer" + path.format(lot=portal.lot_id, event=event_id)
    response = portal.client.get(page)
    assert response.status_code == 200
    assert_accessible(BeautifulSoup(response.get_data(as_text=True), "html.parser"), page)


def test_a_refused_step_form_follows_the_accessibility_rules(portal):
    from bs4 import BeautifulSoup

    from tests.test_accessibility import assert_accessible

    portal.login()
    url = f"/manage/producer/lots/{portal.lot_id}"
    response = post_form(portal.client, url + "/events", step(occurred_at="", actor_name="",
                                                              **{"inputs-1-quantity": "-1"}),
                         form_url=url, content_type="multipart/form-data")
    assert response.status_code == 400
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert_accessible(page, url + " (errors)")
    assert page.select_one('.error-summary[role="alert"]')


def test_a_producer_account_without_a_producer_sees_a_note_and_no_lots(portal):
    from shop.accounts.models import Role
    from tests.factories import make_user

    with portal.app.app_context():
        make_user(Role.PRODUCER, email="lonely@example.vn")
        db.session.commit()
    portal.login("lonely@example.vn")
    assert "not linked to a producer" in portal.client.get("/manage/producer").get_data(as_text=True)
    assert portal.client.get("/manage/producer/lots").status_code == 404
    assert portal.client.get(f"/manage/producer/lots/{portal.lot_id}").status_code == 404
