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
    "_producer": {"producer"},
}
# Blueprints whose names do not end in an area suffix.
NAMED_AREAS = {
    "department": "_department", "audits": "_department", "audit_criteria": "_department",
    "reports": "_department", "certificates": "_department",
    "point_audits": "_point_manage",
    "trace_producer": "_producer", "trace_labels": "_producer", "recalls_producer_manage": "_producer",
}


def _area(endpoint: str) -> str | None:
    blueprint = endpoint.split(".", 1)[0]
    if blueprint in NAMED_AREAS:
        return NAMED_AREAS[blueprint]
    return next((suffix for suffix in AREAS if blueprint.endswith(suffix)), None)


def _sample(rule, arg: str):
    """A value the rule's converter accepts: the first choice of an `any(…)`, 1 for ids, "x" otherwise."""
    converter = rule._converters.get(arg)
    choices = getattr(converter, "items", None)
    if choices:
        return min(choices)
    return 1 if "id" in arg else "x"


def _guarded_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        area = _area(rule.endpoint)
        if area:
            values = {arg: _sample(rule, arg) for arg in rule.arguments}
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


def _point_rules(app):
    """Back-office routes of one point (their URL names the point's code)."""
    return [rule for rule in app.url_map.iter_rules()
            if _area(rule.endpoint) == "_point_manage" and "code" in rule.arguments]


def _url_for_point(rule, code: str) -> str:
    values = {arg: (1 if "id" in arg else "x") for arg in rule.arguments}
    values["code"] = code
    if "what" in rule.arguments:
        values["what"] = "stock"
    if "fmt" in rule.arguments:
        values["fmt"] = "csv"
    return rule.build(values, append_unknown=False)[1]


@pytest.fixture
def two_points(app):
    from tests.factories import make_point, make_point_manager

    with app.app_context():
        mine = make_point("DN-XL-01")
        make_point("DN-BH-01")
        make_point_manager(mine, email="mine@example.vn")
        make_user(Role.TRADE_OFFICER, email="officer@example.vn")
        db.session.commit()


def test_a_manager_is_refused_every_page_of_a_point_they_do_not_manage(app, client, two_points):
    assert _point_rules(app), "no route of a point's back office was found"
    login(client, "mine@example.vn")
    token = csrf_token(client, "/")
    for rule in _point_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = _url_for_point(rule, "DN-BH-01")
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 403, f"{method} {url} gave {response.status_code}"


def test_an_unknown_point_code_is_not_found(app, client, two_points):
    login(client, "mine@example.vn")
    for rule in _point_rules(app):
        if "GET" in rule.methods:
            assert client.get(_url_for_point(rule, "DN-XX-99")).status_code == 404, rule.rule


def test_trade_officers_read_every_point_but_change_none(app, client, two_points):
    login(client, "officer@example.vn")
    token = csrf_token(client, "/")
    assert client.get("/manage/points").status_code == 200
    for rule in _point_rules(app):
        url = _url_for_point(rule, "DN-XL-01")
        if "POST" in rule.methods:
            assert client.post(url, data={"csrf_token": token}).status_code == 403, url
