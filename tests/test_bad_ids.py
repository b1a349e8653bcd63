"""A tampered id in a URL (`/department/recalls/99999999999999999999`, `?set=…`) is an unknown page or no choice,
never a 500: SQLite cannot even compare a number beyond 64 bits with a column."""
from werkzeug.routing import IntegerConverter

from shop.accounts.models import Role
from shop.extensions import db
from tests.conftest import login
from tests.factories import make_point, make_user

HUGE = "99999999999999999999"


def test_no_page_breaks_on_a_huge_id_in_its_url(app, client):
    with app.app_context():
        make_user(Role.ADMIN, email="admin@example.vn")
        make_point("DN-ID-01")
        db.session.commit()
    login(client, "admin@example.vn")
    tried = []
    for rule in app.url_map.iter_rules():
        ints = {name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)}
        others = set(rule.arguments) - ints
        if "GET" not in rule.methods or not ints or others - {"code"}:
            continue
        path = rule.rule.replace("<code>", "DN-ID-01")
        for name in ints:
            path = path.replace(f"<int:{name}>", HUGE)
        response = client.get(path)
        assert response.status_code != 500, path
        tried.append(path)
    assert len(tried) >= 10, tried  # guards the walk itself


def test_a_huge_id_in_the_query_string_is_no_choice(app, client):
    with app.app_context():
        make_user(Role.ADMIN, email="admin@example.vn")
        make_point("DN-ID-01")
        db.session.commit()
    login(client, "admin@example.vn")
    assert client.get(f"/department/audits?set={HUGE}").status_code == 200
    assert client.get(f"/manage/points/DN-ID-01/adjustments/new?level={HUGE}").status_code == 200
