"""Every back-office route refuses guests and the wrong roles, whatever its URL: one walk over the URL map
catches a route that forgot its guard."""
import pytest

from shop.accounts.models import Role
from shop.extensions import db
from tests.conftest import csrf_token, login
from tests.factories import make_user

# Which roles each area admits (admins are admitted everywhere).
# Checked in this order: "_point_manage" before "_manage".
AREAS = {
    "_point_manage": {"point_manager", "trade_officer"},
    "_manage": {"producer", "point_manager"},
    "_department": {"trade_officer"},
    "_admin": set(),
}


def _area(endpoint: str) -> str | None:
    blueprint = endpoint.split(".", 1)[0]
    return next((suffix for suffix in AREAS if blueprint.endswith(suffix)), None)


def _guarded_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        area = _area(rule.endpoint)
        if area:
            values = {arg: (1 if "id" in arg else "x") for arg in rule.arguments}
            rules.append((rule, area, rule.build(values, append_unknown=False)[1]))
    return rules


def test_there_are_guarded_routes(app):
    assert _guarded_rules(app), "the walk found no back-office route"


def test_guests_are_sent_to_login(app, client):
    token = csrf_token(client, "/account/login")
    for rule, _, url in _guarded_rules(app):
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], url


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_roles_outside_the_area_are_refused(app, client, role):
    with app.app_context():
        make_user(role, email=f"{role.value}@example.vn")
        db.session.commit()
    login(client, f"{role.value}@example.vn")
    token = csrf_token(client, "/")  # a valid token, so that the role guard itself must refuse
    for rule, area, url in _guarded_rules(app):
        if role.value in AREAS[area]:
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert response.status_code == 403, f"{role} reached {url}"
