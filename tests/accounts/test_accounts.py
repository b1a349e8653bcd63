import pytest

from shop.accounts.models import Role, User
from shop.accounts.services import InvalidCredentials, authenticate, create_user
from shop.core.errors import Conflict, DomainError
from shop.extensions import db
from tests.conftest import PRODUCTION, login, post_form


def test_passwords_are_hashed_and_emails_normalised(app_ctx):
    user = create_user("  Lan@Example.VN ", "mat-khau-dai", role=Role.PRODUCER)
    assert user.email == "lan@example.vn"
    assert "mat-khau-dai" not in user.password_hash and user.password_hash.startswith("pbkdf2:")
    assert authenticate("LAN@example.vn", "mat-khau-dai") is user


def test_authentication_gives_one_message_for_every_failure(app_ctx):
    create_user("an@example.vn", "dung-mat-khau")
    with pytest.raises(InvalidCredentials) as unknown:
        authenticate("nobody@example.vn", "whatever1")
    with pytest.raises(InvalidCredentials) as wrong:
        authenticate("an@example.vn", "sai-mat-khau")
    assert unknown.value.message == wrong.value.message


def test_inactive_user_cannot_log_in(app_ctx):
    user = create_user("off@example.vn", "password123")
    user.is_active = False
    with pytest.raises(InvalidCredentials):
        authenticate("off@example.vn", "password123")


@pytest.mark.parametrize("email, password, error", [
    ("not-an-email", "password123", DomainError),
    ("a@example.vn", "short", DomainError),
])
def test_bad_registration_input(app_ctx, email, password, error):
    with pytest.raises(error):
        create_user(email, password)


def test_duplicate_email_is_refused(app_ctx):
    create_user("dup@example.vn", "password123")
    with pytest.raises(Conflict):
        create_user("DUP@example.vn", "password123")


def test_demo_password_is_refused_in_production(make_app):
    app = make_app(**PRODUCTION)
    with app.app_context(), pytest.raises(DomainError, match="mật khẩu demo"):
        create_user("x@example.vn", app.config["DEMO_PASSWORD"])


def test_register_then_log_out_and_in_through_the_pages(client, app):
    response = post_form(client, "/account/register", {
        "full_name": "Trần Thị Bình", "email": "binh@example.vn", "password": "password123",
        "confirm": "password123"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "binh@example.vn"))
        assert user.role == Role.CUSTOMER and user.full_name == "Trần Thị Bình"
    assert client.get("/account/").status_code == 200
    post_form(client, "/account/logout", {}, form_url="/account/")
    assert client.get("/account/").status_code == 302
    assert login(client, "binh@example.vn").status_code == 302
    assert client.get("/account/").status_code == 200


def test_wrong_password_page_does_not_log_in(client, app):
    with app.app_context():
        create_user("c@example.vn", "password123")
        db.session.commit()
    response = login(client, "c@example.vn", "wrong-password")
    assert response.status_code == 400
    assert client.get("/account/").status_code == 302


def test_registration_form_errors_are_shown(client):
    response = post_form(client, "/account/register", {
        "full_name": "X", "email": "x@example.vn", "password": "password123", "confirm": "different1"})
    assert response.status_code == 400
