"""Cross-cutting security behaviour a visitor or an attacker would notice."""
import os
import re
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from shop.accounts.models import User
from shop.extensions import db
from tests.conftest import login, post_form
from tests.factories import make_user

EMAIL, PASSWORD = "hoa@example.vn", "password123"
# A signed token (itsdangerous: payload.timestamp.signature), e.g. the CSRF token: differs on every page.
SIGNED_TOKEN = re.compile(r"[\w-]{16,}\.[\w-]{4,}\.[\w-]{16,}")


@pytest.fixture
def account(app):
    with app.app_context():
        make_user(email=EMAIL, password=PASSWORD)
        db.session.commit()
    return EMAIL


@pytest.fixture
def english(client):
    client.get("/lang/en")
    return client


def landing_host(location: str) -> str:
    """The host a browser goes to for this Location header: browsers read `\\` as `/` and drop tabs."""
    cleaned = re.sub(r"[\t\r\n]", "", location).replace("\\", "/").strip()
    return urlsplit(urljoin("http://localhost/account/", cleaned)).netloc


@pytest.mark.parametrize("path", ["/", "/products", "/account/login", "/no-such-page", "/api/v1/products/no-such"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'"):
        assert directive in csp
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "http" not in script_src, "scripts come from static/ only"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_a_post_without_csrf_token_is_refused_with_a_friendly_page(client, account, english):
    response = client.post("/account/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "did not come from this site" in body and "<html" in body.lower()
    forged = client.post("/account/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert client.get("/account/").status_code == 302, "a refused login must not log anyone in"


def test_login_is_rate_limited_to_ten_attempts_a_minute(client, account, english):
    for attempt in range(1, 11):
        response = post_form(client, "/account/login", {"email": EMAIL, "password": f"guess-{attempt}"})
        assert response.status_code == 400, f"attempt {attempt} was refused too early"
    response = post_form(client, "/account/login", {"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 429, "the 11th attempt in a minute must be refused, even with the right password"
    assert "Too many attempts" in response.get_data(as_text=True)
    assert client.get("/account/").status_code == 302
    # The limit is per client: someone else can still log in.
    other = post_form(client, "/account/login", {"email": EMAIL, "password": PASSWORD},
                      environ_overrides={"REMOTE_ADDR": "203.0.113.9"})
    assert other.status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(client, account, english):
    wrong = post_form(client, "/account/login", {"email": EMAIL, "password": "not-her-password"})
    unknown = post_form(client, "/account/login", {"email": "nobody@example.vn", "password": "not-her-password"})
    assert wrong.status_code == unknown.status_code == 400
    assert "Wrong email or password." in wrong.get_data(as_text=True)

    def page_without(response, email):
        return SIGNED_TOKEN.sub("TOKEN", response.get_data(as_text=True).replace(email, "EMAIL"))

    assert page_without(wrong, EMAIL) == page_without(unknown, "nobody@example.vn")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "/\t/evil.example", "https:evil.example", "javascript:alert(1)"])
def test_language_switch_never_redirects_off_site(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    assert landing_host(response.headers["Location"]) == "localhost"
    assert not response.headers["Location"].lower().startswith("javascript")


def test_language_switch_returns_to_the_page_and_ignores_a_foreign_referrer(client):
    back = client.get("/lang/en", query_string={"next": "/products?group=1"})
    assert back.headers["Location"].endswith("/products?group=1")
    foreign = client.get("/lang/vi", headers={"Referer": "https://evil.example/page"})
    assert landing_host(foreign.headers["Location"]) == "localhost"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil.example"])
def test_login_ignores_an_off_site_next(client, account, target):
    response = post_form(client, "/account/login", {"email": EMAIL, "password": PASSWORD},
                         form_url="/account/login", query_string={"next": target})
    assert response.status_code == 302, "the login itself must succeed"
    assert landing_host(response.headers["Location"]) == "localhost"


def test_login_follows_a_local_next(client, account):
    response = post_form(client, "/account/login", {"email": EMAIL, "password": PASSWORD},
                         query_string={"next": "/account/"})
    assert urlsplit(response.headers["Location"]).path == "/account/"


def test_session_and_remember_cookies_are_http_only(app, client, account):
    response = post_form(client, "/account/login", {"email": EMAIL, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in (app.config["SESSION_COOKIE_NAME"], app.config.get("REMEMBER_COOKIE_NAME", "remember_token")):
        assert name in cookies, f"{name} cookie not set"
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]


def test_passwords_are_stored_hashed_and_nowhere_in_plain_text(app, client):
    password = "correct-horse-battery-9"
    response = post_form(client, "/account/register", {"full_name": "Trần Thị Hoa", "email": EMAIL,
                                                       "password": password, "confirm": password})
    assert response.status_code == 302
    assert login(app.test_client(), EMAIL, password).status_code == 302, "the new account logs in"
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == EMAIL))
        assert password not in user.password_hash
        assert check_password_hash(user.password_hash, password)
        for table in db.metadata.sorted_tables:  # audit trail included
            for row in db.session.execute(sa.select(table)):
                assert not any(password in str(value) for value in row), f"plain password in {table.name}"


def test_two_workers_share_the_login_limit_through_redis(make_app):
    """With several server processes the attempts of one client are counted together (Redis storage)."""
    import uuid

    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis server on 127.0.0.1:6379")
    settings = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
                "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}  # this test's own counters
    workers = [make_app(**settings).test_client() for _ in range(2)]
    for attempt in range(10):
        response = post_form(workers[attempt % 2], "/account/login", {"email": EMAIL, "password": "guess"})
        assert response.status_code == 400, f"attempt {attempt + 1} refused too early"
    for worker in workers:
        assert post_form(worker, "/account/login", {"email": EMAIL, "password": "guess"}).status_code == 429


def test_media_serves_only_the_public_pictures_not_attachments_or_evidence(app, client):
    """Trace attachments and audit evidence sit in the upload folder too, but only their own routes (which check
    who may see them) serve them; /media answers for picture renditions only."""
    from pathlib import Path

    upload = Path(app.config["UPLOAD_DIR"])
    for relative in ("evidence/ab/abcdef.pdf", "trace/ab/abcdef.pdf", "images/ab/abcdef-320.jpg"):
        (upload / relative).parent.mkdir(parents=True, exist_ok=True)
        (upload / relative).write_bytes(b"%PDF-1.7 private" if relative.endswith(".pdf") else b"\xff\xd8 jpeg")
    def status(url: str) -> int:
        response = client.get(url)
        response.close()
        return response.status_code

    assert status("/media/images/ab/abcdef-320.jpg") == 200
    assert status("/media/evidence/ab/abcdef.pdf") == 404
    assert status("/media/trace/ab/abcdef.pdf") == 404
    assert status("/media/images/../evidence/ab/abcdef.pdf") == 404
