"""Login is throttled per account (the email tried, from any address) as well as per client address, and behind
the reverse proxy (PROXY_HOPS) the address is the client's, never one the client made up."""
import pytest

from shop.extensions import db
from tests.conftest import post_form
from tests.factories import make_user

EMAIL, PASSWORD = "hoa@example.vn", "password123"


def _app(make_app, **config):
    app = make_app(**config)
    with app.app_context():
        make_user(email=EMAIL, password=PASSWORD)
        db.session.commit()
    return app


def attempt(client, email=EMAIL, password="guess-1234", **kwargs):
    return post_form(client, "/account/login", {"email": email, "password": password}, **kwargs)


def test_many_addresses_guessing_one_account_are_throttled_together(make_app):
    app = _app(make_app, LOGIN_ACCOUNT_RATE_LIMIT="3 per minute")
    client = app.test_client()
    client.get("/lang/en")
    # The same account however it is typed (case, spaces): one counter.
    for n, email in enumerate((EMAIL, " HOA@example.VN ", "Hoa@Example.vn")):
        response = attempt(client, email, environ_overrides={"REMOTE_ADDR": f"203.0.113.{n + 1}"})
        assert response.status_code == 400, f"attempt {n + 1} refused too early"
    throttled = attempt(client, password=PASSWORD, environ_overrides={"REMOTE_ADDR": "203.0.113.50"})
    assert throttled.status_code == 429, "the 4th attempt on the account, from a 4th address, is refused"
    assert "Too many attempts" in throttled.get_data(as_text=True)
    assert client.get("/account/").status_code == 302, "not logged in, even with the right password"
    # Another account from the same addresses is not affected.
    with app.app_context():
        make_user(email="lan@example.vn", password=PASSWORD)
        db.session.commit()
    other = attempt(client, "lan@example.vn", PASSWORD, environ_overrides={"REMOTE_ADDR": "203.0.113.1"})
    assert other.status_code == 302


def test_the_default_account_limit_is_looser_than_the_address_limit(app):
    assert app.config["LOGIN_ACCOUNT_RATE_LIMIT"] == "20 per minute;100 per hour"
    assert app.config["LOGIN_RATE_LIMIT"] == "10 per minute;50 per hour"


@pytest.fixture
def behind_proxy(make_app):
    """One trusted proxy, at 127.0.0.1 (the test client's address), 2 attempts a minute per address."""
    return _app(make_app, PROXY_HOPS=1, LOGIN_RATE_LIMIT="2 per minute").test_client()


def via_proxy(client, forwarded_for: str):
    return attempt(client, headers={"X-Forwarded-For": forwarded_for})


def test_behind_the_proxy_each_forwarded_client_has_its_own_limit(behind_proxy):
    assert [via_proxy(behind_proxy, "198.51.100.7").status_code for _ in range(3)] == [400, 400, 429]
    assert via_proxy(behind_proxy, "198.51.100.8").status_code == 400, "another client is not throttled"


def test_hops_a_client_adds_in_front_are_not_trusted(behind_proxy):
    """A client sends its own X-Forwarded-For; the proxy appends the address it saw. Only that last one counts,
    so changing the made-up part does not give a fresh limit."""
    answers = [via_proxy(behind_proxy, f"10.0.0.{n}, 198.51.100.7").status_code for n in range(3)]
    assert answers == [400, 400, 429]


def test_without_proxy_hops_the_forwarded_header_is_ignored(make_app):
    client = _app(make_app, LOGIN_RATE_LIMIT="2 per minute").test_client()
    answers = [via_proxy(client, f"198.51.100.{n}").status_code for n in range(3)]
    assert answers == [400, 400, 429], "every attempt counts against the real peer, 127.0.0.1"
