"""A change of a certified product's name or group is flagged to the trade department rather than applied silently:
the producer's other edits save at once, the name waits as a pending request, the department approves (the change
reaches the catalogue) or rejects with a note. An uncertified product changes directly. Only the department
decides; guests go to login."""
import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from shop.accounts.models import Role, User
from shop.catalog.models import Product
from shop.certification import change_requests
from shop.certification.models import ChangeRequestStatus, ProductChangeRequest
from shop.core.errors import Conflict, DomainError, NotAllowed
from shop.extensions import db
from shop.producers.services import attach_member
from tests.conftest import csrf_token, login, post_form
from tests.factories import make_point, make_point_manager, make_product, make_user
from tests.test_accessibility import assert_accessible


def with_change_pages(app):
    """Until the lead registers the blueprint, the test app does."""
    from shop.certification.change_views import bp

    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    return app


@pytest.fixture
def app(make_app):
    return with_change_pages(make_app())


@pytest.fixture
def client(app):
    client = app.test_client()
    client.get("/lang/en")  # messages are asserted in English
    return client


class Catalogue:
    """'Cà phê Robusta' (certified 4★) and 'Trà mãng cầu' (no certificate) of one producer (owner@); officer@,
    a manager and a customer."""

    def __init__(self, app):
        self.app = app
        with app.app_context():
            certified = make_product(name="Cà phê Robusta", price_vnd=150_000)
            plain = make_product(certified.producer, name="Trà mãng cầu", stars=None)
            attach_member(certified.producer, make_user(Role.PRODUCER, email="owner@example.vn"))
            make_user(Role.TRADE_OFFICER, email="officer@example.vn")
            make_user(Role.CUSTOMER, email="buyer@example.vn")
            make_point_manager(make_point("DN-XL-01"), email="manager@example.vn")
            db.session.commit()
            self.certified, self.plain = certified.slug, plain.slug
            self.certified_id = certified.id

    def product(self, slug) -> Product:
        return db.session.scalar(sa.select(Product).where(Product.slug == slug))

    def user(self, email) -> User:
        return db.session.scalar(sa.select(User).where(User.email == email))

    def edit(self, client, slug, **changes):
        url = f"/manage/catalog/products/{slug}/edit"
        with self.app.app_context():
            product = self.product(slug)
            data = {"name": product.name, "group_code": product.group_code,
                    "subgroup_code": product.subgroup_code or "", "price_vnd": str(product.price_vnd),
                    "unit": product.unit, "description": product.description, "story_md": product.story_md}
        data.update(changes)
        return post_form(client, url, data)

    def requested(self) -> ProductChangeRequest:
        """A pending request to rename the certified product, made through the service."""
        with self.app.app_context():
            _, request = change_requests.request_or_apply(self.product(self.certified), {"name": "Cà phê Chồn"},
                                                          self.user("owner@example.vn"))
            db.session.commit()
            return request.id


@pytest.fixture
def shop(app) -> Catalogue:
    return Catalogue(app)


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


# ---------------------------------------------------------------------------------------------- producers

def test_renaming_a_certified_product_sends_the_name_to_the_department_and_saves_the_rest(client, shop):
    login(client, "owner@example.vn")
    response = shop.edit(client, shop.certified, name="Cà phê Chồn Đắk Lắk", price_vnd="160000")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert "sent to the trade department" in text
    assert "Cà phê Chồn Đắk Lắk" in text  # the pending request is shown on the edit page
    assert_accessible(soup(page), "edit")
    with shop.app.app_context():
        product = shop.product(shop.certified)
        assert product.name == "Cà phê Robusta" and product.price_vnd == 160_000
        request = change_requests.pending_for(product.id)
        assert request.changes == {"name": ["Cà phê Robusta", "Cà phê Chồn Đắk Lắk"]}
        assert request.status == ChangeRequestStatus.PENDING


def test_a_change_of_group_of_a_certified_product_waits_too(client, shop):
    login(client, "owner@example.vn")
    response = shop.edit(client, shop.certified, group_code="2", subgroup_code="2.2")
    assert response.status_code == 302
    with shop.app.app_context():
        product = shop.product(shop.certified)
        assert (product.group_code, product.subgroup_code) == ("1", "1.6")
        assert change_requests.pending_for(product.id).changes == {"group_code": ["1", "2"],
                                                                   "subgroup_code": ["1.6", "2.2"]}


def test_an_uncertified_product_is_renamed_at_once(client, shop):
    login(client, "owner@example.vn")
    response = shop.edit(client, shop.plain, name="Trà mãng cầu Xiêm")
    assert response.status_code == 302
    assert "sent to the trade department" not in client.get(response.headers["Location"]).get_data(as_text=True)
    with shop.app.app_context():
        product = shop.product(shop.plain)
        assert product.name == "Trà mãng cầu Xiêm"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductChangeRequest)) == 0


def test_a_second_change_waits_for_the_first_decision(client, shop):
    shop.requested()
    login(client, "owner@example.vn")
    response = shop.edit(client, shop.certified, name="Cà phê Mộc", price_vnd="170000")
    assert response.status_code == 400
    assert "already waiting" in response.get_data(as_text=True)
    with shop.app.app_context():
        product = shop.product(shop.certified)
        assert product.price_vnd == 150_000  # nothing of the refused form was saved
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductChangeRequest)) == 1
    # Other fields still save while the request waits.
    assert shop.edit(client, shop.certified, price_vnd="170000").status_code == 302


@pytest.mark.parametrize("changes, field", [
    ({"name": "  "}, "name"),
    ({"group_code": "9"}, "group_code"),
    ({"group_code": "2", "subgroup_code": "1.6"}, "subgroup_code"),
])
def test_a_bad_proposal_is_refused_before_it_reaches_the_department(app_ctx, changes, field):
    product = make_product(name="Cà phê Robusta")
    with pytest.raises(DomainError) as refused:
        change_requests.request_or_apply(product, changes, make_user(Role.PRODUCER))
    assert refused.value.field == field


# -------------------------------------------------------------------------------------------- the department

def test_the_department_approves_and_the_change_reaches_the_catalogue(client, shop):
    request_id = shop.requested()
    login(client, "officer@example.vn")
    listing = client.get("/department/changes")
    assert listing.status_code == 200 and "Cà phê Chồn" in listing.get_data(as_text=True)
    assert_accessible(soup(listing), "/department/changes")
    detail = client.get(f"/department/changes/{request_id}")
    assert detail.status_code == 200
    page = soup(detail)
    assert_accessible(page, "detail")
    cells = [td.get_text(strip=True) for td in page.find("table").tbody.find_all("td")]
    assert cells == ["Cà phê Robusta", "Cà phê Chồn"]

    response = post_form(client, f"/department/changes/{request_id}/approve", {"approve-note": "Đúng hồ sơ"},
                         form_url=f"/department/changes/{request_id}")
    assert response.status_code == 302
    with shop.app.app_context():
        assert shop.product(shop.certified).name == "Cà phê Chồn"
        request = db.session.get(ProductChangeRequest, request_id)
        assert (request.status, request.decision_note) == (ChangeRequestStatus.APPROVED, "Đúng hồ sơ")
        assert request.decided_by_id == shop.user("officer@example.vn").id
    again = post_form(client, f"/department/changes/{request_id}/approve", {},
                      form_url=f"/department/changes/{request_id}")
    assert again.status_code == 400 and "already been decided" in again.get_data(as_text=True)


def test_a_rejection_needs_a_note(client, shop):
    request_id = shop.requested()
    login(client, "officer@example.vn")
    url, form_url = f"/department/changes/{request_id}/reject", f"/department/changes/{request_id}"
    refused = post_form(client, url, {"reject-note": "  "}, form_url=form_url)
    assert refused.status_code == 400
    with shop.app.app_context():
        assert db.session.get(ProductChangeRequest, request_id).status == ChangeRequestStatus.PENDING
    response = post_form(client, url, {"reject-note": "Tên mới chưa được Hội đồng đánh giá"}, form_url=form_url)
    assert response.status_code == 302
    with shop.app.app_context():
        request = db.session.get(ProductChangeRequest, request_id)
        assert request.status == ChangeRequestStatus.REJECTED
        assert shop.product(shop.certified).name == "Cà phê Robusta"
    # The producer reads the decision on the edit page, and may ask again.
    producer = shop.app.test_client()
    login(producer, "owner@example.vn")
    page = producer.get(f"/manage/catalog/products/{shop.certified}/edit").get_data(as_text=True)
    assert "Tên mới chưa được Hội đồng đánh giá" in page


def test_the_services_refuse_wrong_deciders_and_empty_notes(app_ctx):
    product = make_product(name="Cà phê Robusta")
    owner = make_user(Role.PRODUCER)
    _, request = change_requests.request_or_apply(product, {"name": "Cà phê Chồn"}, owner)
    for actor in (owner, make_user(Role.POINT_MANAGER), make_user(Role.CUSTOMER)):
        with pytest.raises(NotAllowed):
            change_requests.approve(request, actor)
    with pytest.raises(DomainError) as refused:
        change_requests.reject(request, make_user(Role.TRADE_OFFICER), "")
    assert refused.value.code == "note_required"
    change_requests.reject(request, make_user(Role.ADMIN), "Chưa đủ hồ sơ")
    with pytest.raises(Conflict):
        change_requests.approve(request, make_user(Role.TRADE_OFFICER))
    assert product.name == "Cà phê Robusta"


@pytest.mark.parametrize("email", ["owner@example.vn", "buyer@example.vn", "manager@example.vn"])
def test_other_roles_are_refused_the_department_pages(client, shop, email):
    request_id = shop.requested()
    login(client, email)
    for url in ("/department/changes", f"/department/changes/{request_id}"):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/")
    for action in ("approve", "reject"):
        response = client.post(f"/department/changes/{request_id}/{action}",
                               data={"csrf_token": token, f"{action}-note": "x"})
        assert response.status_code == 403
    with shop.app.app_context():
        assert db.session.get(ProductChangeRequest, request_id).status == ChangeRequestStatus.PENDING


def test_guests_are_sent_to_login(client, shop):
    request_id = shop.requested()
    for url in ("/department/changes", f"/department/changes/{request_id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_an_unknown_request_is_not_found(client, shop):
    login(client, "officer@example.vn")
    assert client.get("/department/changes/9999").status_code == 404
