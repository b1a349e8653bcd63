"""GET /api/v1/products/<slug>: the full product, a lapsed product's status, and 404s."""
import pytest

from shop.extensions import db
from shop.sales_points.services import carry_product
from tests.api.conftest import add_picture, lapse, local_path
from tests.factories import make_point, make_product


def url(slug: str) -> str:
    return f"/api/v1/products/{slug}"


@pytest.fixture
def coffee(app):
    with app.app_context():
        product = make_product(name="Cà phê Robusta Định Quán", stars=4, gtin="8935049500018",
                               story_md="Trồng **không hóa chất**.\n\n<script>alert(1)</script>",
                               description="Cà phê rang mộc.")
        add_picture(product, 800, 600, alt="Túi cà phê")
        add_picture(product, 500, 500)
        centre = make_point("DN-TT-01", name="Trung tâm OCOP tỉnh", tier="centre", former_district="bien-hoa",
                            street="1 Nguyễn Ái Quốc")
        closed = make_point("DN-DQ-01", status="closed")
        make_point("DN-XL-01")  # open, but does not carry it
        carry_product(centre, product)
        carry_product(closed, product)
        db.session.commit()
        return product.slug


def test_certified_product(client, coffee):
    response = client.get(url(coffee))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    body = response.get_json()
    assert body["slug"] == coffee and body["name"] == "Cà phê Robusta Định Quán"
    assert (body["certified"], body["certificate_status"], body["last_certificate"]) == (True, "valid", None)
    assert body["stars"] == 4
    assert (body["certificate"]["stars"], body["certificate"]["level"]) == (4, "province")
    assert body["gtin"] == "8935049500018" and body["is_alcohol"] is False
    assert body["description"] == "Cà phê rang mộc."
    assert "<strong>không hóa chất</strong>" in body["story_html"]
    assert "<script" not in body["story_html"]


def test_images_with_renditions(client, coffee):
    body = client.get(url(coffee)).get_json()
    first, second = body["images"]
    assert (first["width"], first["height"], first["alt"]) == (800, 600, "Túi cà phê")
    assert first["url"].endswith("-800.webp")
    widths = [part.rsplit(" ", 1)[1] for part in first["srcset"].split(", ")]
    assert widths == ["320w", "640w", "800w"]
    # A smaller picture has no 640 rendition: its own width is the largest, the list image falls back to it.
    assert (second["width"], second["height"]) == (500, 500) and second["url"].endswith("-500.webp")
    assert body["image"].endswith("-640.webp")
    for candidate in first["srcset"].split(", "):
        with client.get(local_path(candidate.split(" ")[0])) as picture:
            assert picture.status_code == 200 and picture.mimetype == "image/webp"


def test_points_are_open_points_carrying_it(client, coffee):
    points = client.get(url(coffee)).get_json()["points"]
    assert [p["code"] for p in points] == ["DN-TT-01"]
    centre = points[0]
    assert centre["tier"] == "centre" and centre["name"] == "Trung tâm OCOP tỉnh"
    assert (centre["address"]["province_code"], centre["address"]["province"]) == (75, "Đồng Nai")
    assert centre["address"]["ward"] == "Xã Phú Hòa"
    address = centre["address"]
    assert (address["former_district"], address["street"]) == ("bien-hoa", "1 Nguyễn Ái Quốc")
    assert local_path(centre["url"]) == "/points/DN-TT-01"


@pytest.mark.parametrize("how", ["expired", "withdrawn"])
def test_lapsed_product_stays_readable_and_says_so(app, client, how):
    with app.app_context():
        product = make_product(name="Mứt chuối Tân Phú", stars=None)
        lapse(product, how)
        point = make_point()
        carry_product(point, product)
        db.session.commit()
        slug = product.slug
    assert slug not in [item["slug"] for item in client.get("/api/v1/products").get_json()["items"]]
    body = client.get(url(slug)).get_json()
    assert body["certified"] is False
    assert body["certificate_status"] == how
    assert body["certificate"] is None and body["stars"] is None
    assert body["points"] == []  # not offered as OCOP at the points any more
    last = body["last_certificate"]
    assert last["status"] == how and last["stars"] == 4
    if how == "withdrawn":
        assert last["withdrawal_decision_no"] == "12/QĐ-UBND"
        assert last["withdrawal_reason"] == "Không duy trì chất lượng."
        assert last["withdrawn_on"] < last["valid_until"]
    else:
        assert last["withdrawn_on"] is None and last["withdrawal_reason"] is None


def test_never_certified_product(app, client):
    with app.app_context():
        slug = make_product(stars=None).slug
        db.session.commit()
    body = client.get(url(slug)).get_json()
    assert (body["certified"], body["certificate_status"], body["last_certificate"]) == (False, "none", None)


def test_two_star_product_is_not_certified(app, client):
    with app.app_context():
        slug = make_product(stars=2).slug
        db.session.commit()
    body = client.get(url(slug)).get_json()
    assert body["certified"] is False and body["stars"] is None and body["certificate"] is None
    assert body["last_certificate"]["stars"] == 2


def test_language(client, coffee):
    assert client.get(url(coffee), query_string={"lang": "en"}).get_json()["group_name"] == "Food"
    response = client.get(url(coffee), query_string={"lang": "fr"})
    assert response.status_code == 400 and response.get_json()["error"]["parameter"] == "lang"


def test_unknown_or_unpublished_product_is_404_json(app, client):
    with app.app_context():
        draft = make_product(publish=False).slug
        db.session.commit()
    for slug in ("no-such-product", draft, "x" * 500, "%E2%98%85"):
        response = client.get(url(slug))
        assert response.status_code == 404
        assert response.mimetype == "application/json"
        assert response.get_json()["error"]["code"] == "not_found"
        assert response.get_json()["error"]["message"]
