"""Qualifying bases other than a certificate (criteria P-02…P-04 of Decision 950): the trade department
records and revokes them, and a point may receive a product only while one is valid."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from shop.accounts.models import Role, User
from shop.catalog.models import Product
from shop.certification.models import QualifyingBasis
from shop.certification.queries import basis_status, current_basis
from shop.certification.services import record_basis, revoke_basis
from shop.core.audit_trail import AuditEntry
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.extensions import db
from tests.conftest import login, post_form
from tests.factories import make_point, make_product, make_stock, make_user
from tests.test_accessibility import assert_accessible

BASIS = {"reference": "Danh sách sản phẩm chủ lực 12/QĐ-UBND", "justification": "Sản phẩm chủ lực của tỉnh."}


@pytest.fixture
def officer(app_ctx):
    return make_user(Role.TRADE_OFFICER, email="officer@example.vn")


@pytest.fixture
def cashew(app_ctx):
    """A published product without any certificate: no point may stock it on its own."""
    return make_product(name="Hạt điều rang củi", stars=None)


def _record(product, actor, **changes):
    return record_basis(product, **{"criterion": "key_product", **BASIS, "actor": actor, **changes})


# --- services ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("criterion, code", [("key_product", "P-02"), ("typical_rural", "P-03"),
                                             ("local_speciality", "P-04")])
def test_each_criterion_gives_a_valid_basis(officer, cashew, criterion, code):
    basis = _record(cashew, officer, criterion=criterion)
    assert basis.criterion_code == code and basis.valid_from == today() and basis.valid_until is None
    assert current_basis(cashew.id, today()) == basis and basis_status(basis, today()) == "valid"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "certification.basis_recorded"))
    assert entry.actor_id == officer.id and entry.data["criterion"] == criterion


@pytest.mark.parametrize("changes, field", [
    ({"reference": "   "}, "reference"),
    ({"justification": ""}, "justification"),
    ({"criterion": "ocop_certificate"}, "criterion"),
    ({"reference": "x" * 121}, "reference"),
])
def test_an_incomplete_basis_is_refused_on_its_field(officer, cashew, changes, field):
    with pytest.raises(DomainError) as refused:
        _record(cashew, officer, **changes)
    assert refused.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QualifyingBasis)) == 0


def test_the_validity_cannot_end_before_it_starts(officer, cashew):
    with pytest.raises(DomainError) as refused:
        _record(cashew, officer, valid_from=today(), valid_until=today() - timedelta(days=1))
    assert (refused.value.field, refused.value.code) == ("valid_until", "invalid_dates")


def test_a_basis_is_revoked_once(officer, cashew):
    basis = _record(cashew, officer)
    with pytest.raises(DomainError) as no_reason:
        revoke_basis(basis, reason="  ", actor=officer)
    assert no_reason.value.code == "reason_required" and basis.revoked_on is None
    revoke_basis(basis, reason="Removed from the province's list.", actor=officer)
    assert basis_status(basis, today()) == "revoked" and current_basis(cashew.id, today()) is None
    with pytest.raises(DomainError) as twice:
        revoke_basis(basis, reason="Again.", actor=officer)
    assert (twice.value.code, twice.value.field) == ("already_revoked", "reason")
    assert basis.revocation_reason == "Removed from the province's list."


def test_a_basis_lets_a_point_receive_the_product_and_its_revocation_stops_it(officer, cashew):
    point = make_point("DN-XL-01")
    with pytest.raises(DomainError) as before:
        make_stock(point, cashew, officer, lot_code="L1")
    assert before.value.code == "no_qualifying_basis"

    basis = _record(cashew, officer, criterion="typical_rural")
    movement = make_stock(point, cashew, officer, lot_code="L1", quantity=12)
    assert movement.quantity == 12 and movement.point_id == point.id

    revoke_basis(basis, reason="The product record was cancelled.", actor=officer)
    with pytest.raises(DomainError) as after:
        make_stock(point, cashew, officer, lot_code="L2")
    assert after.value.code == "no_qualifying_basis"


def test_an_expired_or_future_basis_does_not_qualify(officer, cashew):
    past = _record(cashew, officer, valid_from=today() - timedelta(days=60), valid_until=today() - timedelta(days=1))
    future = _record(cashew, officer, valid_from=today() + timedelta(days=5))
    assert (basis_status(past, today()), basis_status(future, today())) == ("expired", "not_yet_valid")
    assert current_basis(cashew.id, today()) is None
    with pytest.raises(DomainError):
        make_stock(make_point("DN-XL-01"), cashew, officer)


# --- views ------------------------------------------------------------------------------------------------

@pytest.fixture
def desk(app, client):
    """A logged-in trade officer and two products: one uncertified, one certified 4★."""
    with app.app_context():
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        ids = {"cashew": make_product(name="Hạt điều rang củi", stars=None).id,
               "honey": make_product(name="Mật ong hoa cà phê", stars=4).id}
        db.session.commit()
    login(client, "officer@example.vn")
    client.get("/lang/en")
    return ids


def _form(product_id, **changes):
    return {"product": str(product_id), "criterion": "local_speciality", **BASIS, "valid_from": today().isoformat(),
            "valid_until": "", **changes}


def _bases(app) -> list[QualifyingBasis]:
    with app.app_context():
        return list(db.session.scalars(sa.select(QualifyingBasis).order_by(QualifyingBasis.id)))


def test_officer_records_a_basis_and_sees_it_listed(app, client, desk):
    page = client.get("/department/bases/new")
    html = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert_accessible(html, "/department/bases/new")
    options = [o["value"] for o in html.select("#product option")]
    assert options[1:] == [str(desk["cashew"]), str(desk["honey"])]  # the uncertified product first

    response = post_form(client, "/department/bases/new", _form(desk["cashew"]))
    assert response.status_code == 302 and response.headers["Location"].endswith("/department/bases")
    [basis] = _bases(app)
    assert (basis.product_id, basis.criterion, basis.valid_until) == (desk["cashew"], "local_speciality", None)

    listing = client.get("/department/bases")
    html = BeautifulSoup(listing.get_data(as_text=True), "html.parser")
    assert_accessible(html, "/department/bases")
    row = html.select_one(f'tr[data-basis="{basis.id}"]').get_text(" ", strip=True)
    assert "Hạt điều rang củi" in row and "P-04" in row and "12/QĐ-UBND" in row and "Valid" in row


def test_the_product_search_folds_diacritics(client, desk):
    html = BeautifulSoup(client.get("/department/bases/new?q=mat ong").get_data(as_text=True), "html.parser")
    assert [o["value"] for o in html.select("#product option")][1:] == [str(desk["honey"])]


@pytest.mark.parametrize("changes, field", [
    ({"justification": ""}, "justification"),
    ({"reference": ""}, "reference"),
    ({"criterion": ""}, "criterion"),
    ({"product": ""}, "product"),
    ({"product": "99999"}, "product"),
    ({"valid_until": "2020-01-01"}, "valid_until"),
    ({"valid_from": "31/02/2026"}, "valid_from"),
])
def test_a_refused_basis_shows_the_error_on_its_field(app, client, desk, changes, field):
    response = post_form(client, "/department/bases/new", _form(desk["cashew"], **changes),
                         form_url="/department/bases/new")
    assert response.status_code == 400
    html = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert html.select_one(f'#{field}[aria-invalid="true"]') is not None
    assert_accessible(html, "/department/bases/new (errors)")
    assert _bases(app) == []


def test_a_draft_product_cannot_be_chosen(app, client, desk):
    with app.app_context():
        draft = make_product(name="Bánh pía chưa đăng", stars=None, publish=False).id
        db.session.commit()
    response = post_form(client, "/department/bases/new", _form(draft), form_url="/department/bases/new")
    assert response.status_code == 400 and _bases(app) == []


def test_officer_revokes_a_basis_with_a_reason(app, client, desk):
    post_form(client, "/department/bases/new", _form(desk["cashew"]))
    [basis] = _bases(app)
    url = f"/department/bases/{basis.id}/revoke"

    refused = post_form(client, url, {"reason": ""}, form_url="/department/bases")
    assert refused.status_code == 400 and _bases(app)[0].revoked_on is None
    html = BeautifulSoup(refused.get_data(as_text=True), "html.parser")
    assert html.select_one(f'#reason-{basis.id}[aria-invalid="true"]') is not None
    assert_accessible(html, "/department/bases (revoke refused)")

    done = post_form(client, url, {"reason": "Removed from the key-product list."}, form_url="/department/bases")
    assert done.status_code == 302 and _bases(app)[0].revoked_on == today()
    assert f'data-basis="{basis.id}"' in client.get("/department/bases?status=revoked").get_data(as_text=True)
    assert f'data-basis="{basis.id}"' not in client.get("/department/bases?status=valid").get_data(as_text=True)

    again = post_form(client, url, {"reason": "Twice."}, form_url="/department/bases")
    assert again.status_code == 400 and _bases(app)[0].revocation_reason == "Removed from the key-product list."
    assert post_form(client, "/department/bases/999/revoke", {"reason": "x"},
                     form_url="/department/bases").status_code == 404


def test_the_list_filters_by_status(app, client, desk):
    with app.app_context():
        actor = db.session.scalar(sa.select(User).where(User.email == "officer@example.vn"))
        product = db.session.get(Product, desk["cashew"])
        valid = _record(product, actor).id
        expired = _record(product, actor, valid_from=today() - timedelta(days=30),
                          valid_until=today() - timedelta(days=2)).id
        db.session.commit()
    shown = {status: client.get(f"/department/bases?status={status}").get_data(as_text=True)
             for status in ("valid", "expired", "revoked", "bogus")}
    assert f'data-basis="{valid}"' in shown["valid"] and f'data-basis="{expired}"' not in shown["valid"]
    assert f'data-basis="{expired}"' in shown["expired"] and f'data-basis="{valid}"' not in shown["expired"]
    assert "data-basis=" not in shown["revoked"]
    assert f'data-basis="{valid}"' in shown["bogus"] and f'data-basis="{expired}"' in shown["bogus"]  # unknown: all


@pytest.mark.parametrize("role", [Role.POINT_MANAGER, Role.PRODUCER, Role.CUSTOMER])
def test_other_roles_cannot_reach_the_register(app, client, role):
    with app.app_context():
        make_user(role, email="someone@example.vn")
        db.session.commit()
    login(client, "someone@example.vn")
    assert client.get("/department/bases").status_code == 403
    assert client.get("/department/bases/new").status_code == 403
    assert post_form(client, "/department/bases/1/revoke", {"reason": "x"}, form_url="/").status_code == 403


def test_a_guest_is_sent_to_login(client):
    response = client.get("/department/bases/new")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
