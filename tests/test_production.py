"""SHOP_ENV=production refuses the development defaults, keeps cookies Secure, refuses the demo accounts, and
behind the documented reverse proxy (PROXY_HOPS) sees the client's real address and scheme."""
import pytest

from shop.accounts.services import DemoAccountRefused, authenticate
from shop.extensions import db
from tests.conftest import PRODUCTION, post_form
from tests.factories import make_user

PASSWORD = "password123"


@pytest.mark.parametrize("setting, unsafe", [
    ("STRIPE_WEBHOOK_SECRET", "whsec_localstripe"),
    ("STRIPE_SECRET_KEY", "sk_test_localstripe"),
    ("PUBLIC_URL", "http://127.0.0.1:5000"),
])
def test_production_refuses_each_development_default_naming_it(make_app, setting, unsafe):
    with pytest.raises(RuntimeError, match=f"SHOP_ENV=production.*{setting}"):
        make_app(**{**PRODUCTION, setting: unsafe})


def test_development_and_tests_accept_the_defaults(make_app):
    app = make_app(STRIPE_WEBHOOK_SECRET="whsec_localstripe", STRIPE_SECRET_KEY="sk_test_localstripe",
                   PUBLIC_URL="http://127.0.0.1:5000", WORKERS=4)
    assert app.config["SHOP_ENV"] == "testing"


def test_production_with_safe_values_starts(make_app):
    app = make_app(**PRODUCTION)
    assert app.config["SHOP_ENV"] == "production"
    assert app.test_client().get("/healthz").status_code == 200


def test_production_refuses_the_memory_limiter_store_with_several_workers(make_app):
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI.*2 workers"):
        make_app(**PRODUCTION, WORKERS=2)
    assert make_app(**PRODUCTION, WORKERS=1).config["RATELIMIT_STORAGE_URI"] == "memory://"
    # A shared store is fine (building the app does not connect to it), and so is a disabled limiter.
    pytest.importorskip("redis")
    assert make_app(**PRODUCTION, WORKERS=2, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379")
    assert make_app(**PRODUCTION, WORKERS=2, RATELIMIT_ENABLED=False)


def test_the_worker_count_and_proxy_hops_come_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("PROXY_HOPS", "2")
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI.*3 workers"):
        make_app(**PRODUCTION)
    app = make_app()
    assert (app.config["WORKERS"], app.config["PROXY_HOPS"]) == (3, 2)


def test_production_cookies_are_secure_and_development_ones_are_not(make_app):
    for n, (config, secure) in enumerate(((PRODUCTION, True), ({}, False))):
        app = make_app(**config)
        with app.app_context():  # on PostgreSQL both apps share the database
            make_user(email=f"hoa{n}@example.vn", password=PASSWORD)
            db.session.commit()
        response = post_form(app.test_client(), "/account/login",
                             {"email": f"hoa{n}@example.vn", "password": PASSWORD, "remember": "y"})
        assert response.status_code == 302
        cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
        for name in (app.config["SESSION_COOKIE_NAME"], app.config.get("REMEMBER_COOKIE_NAME", "remember_token")):
            assert ("; Secure" in cookies[name]) is secure, (config, cookies[name])


def test_a_demo_account_cannot_log_in_in_production_even_with_its_password(make_app):
    app = make_app(**PRODUCTION)
    with app.app_context():
        make_user(email="customer@demo.ocop.vn", password=PASSWORD)  # a database seeded before going live
        make_user(email="hoa@example.vn", password=PASSWORD)
        db.session.commit()
        with pytest.raises(DemoAccountRefused):
            authenticate("Customer@Demo.OCOP.vn", PASSWORD)
    client = app.test_client()
    client.get("/lang/en")
    refused = post_form(client, "/account/login", {"email": "customer@demo.ocop.vn", "password": PASSWORD})
    assert refused.status_code == 400
    assert "Demo accounts cannot log in on the live site" in refused.get_data(as_text=True)
    assert client.get("/account/").status_code == 302, "not logged in"
    assert post_form(client, "/account/login", {"email": "hoa@example.vn", "password": PASSWORD}).status_code == 302


def test_the_same_demo_account_logs_in_outside_production(make_app):
    app = make_app()
    with app.app_context():
        make_user(email="customer@demo.ocop.vn", password=PASSWORD)
        db.session.commit()
    response = post_form(app.test_client(), "/account/login", {"email": "customer@demo.ocop.vn",
                                                               "password": PASSWORD})
    assert response.status_code == 302


HSTS = "Strict-Transport-Security"


def test_hsts_is_sent_behind_the_tls_proxy_and_only_over_https(make_app):
    behind = make_app(**PRODUCTION, PROXY_HOPS=1).test_client()
    assert "max-age=" in behind.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers[HSTS]
    assert HSTS not in behind.get("/healthz", headers={"X-Forwarded-Proto": "http"}).headers
    assert HSTS not in behind.get("/healthz").headers
    # Without PROXY_HOPS the header is a client's claim: not trusted.
    direct = make_app(**PRODUCTION).test_client()
    assert HSTS not in direct.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers
    assert HSTS in direct.get("/healthz", base_url="https://localhost").headers
