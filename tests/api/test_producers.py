"""GET /api/v1/producers/<slug>: the profile and its certified products only."""
from datetime import timedelta
from io import BytesIO

from shop.core.clock import today
from shop.core.images import make_placeholder
from shop.extensions import db
from shop.producers.services import add_document, add_producer_image
from tests.api.conftest import lapse, local_path
from tests.factories import make_producer, make_product


def test_producer_profile_and_certified_products(app, client):
    with app.app_context():
        producer = make_producer("HTX Ca cao Định Quán", registration_no="3603123456", street="Ấp 3",
                                 phone="0251 3861 234", email="htx@example.vn",
                                 website="https://cacao.example.vn",
                                 story_md="Ca cao **lên men** tự nhiên.<img src=x onerror=alert(1)>")
        add_document(producer, kind="business_registration", number="3603123456",
                     issued_on=today() - timedelta(days=900))
        add_document(producer, kind="food_safety", number="45/2022/ATTP",
                     issued_on=today() - timedelta(days=1200), valid_until=today() - timedelta(days=5))
        add_producer_image(producer, BytesIO(make_placeholder("logo", (400, 400))), is_logo=True,
                           alt="Logo HTX")
        listed = make_product(producer, "Socola đen 70%", stars=4)
        make_product(producer, "Bột ca cao nháp", publish=False)
        lapsed = make_product(producer, "Ca cao hạt hết hạn", stars=None)
        lapse(lapsed, "expired")
        make_product(producer, "Ca cao chưa chứng nhận", stars=None)
        db.session.commit()
        slug, listed_slug = producer.slug, listed.slug

    response = client.get(f"/api/v1/producers/{slug}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    body = response.get_json()
    assert (body["slug"], body["name"], body["legal_form"]) == (slug, "HTX Ca cao Định Quán", "cooperative")
    assert body["registration_no"] == "3603123456"
    assert body["address"] == {"province_code": 75, "province": "Đồng Nai", "ward_code": 26221,
                               "ward": "Xã Phú Hòa", "former_district": "dinh-quan",
                               "former_district_name": "H. Định Quán", "street": "Ấp 3"}
    assert body["contact"] == {"phone": "0251 3861 234", "email": "htx@example.vn",
                               "website": "https://cacao.example.vn"}
    assert "<strong>lên men</strong>" in body["story_html"] and "onerror" not in body["story_html"]
    documents = {d["kind"]: d for d in body["documents"]}
    assert documents["business_registration"]["valid"] is True
    assert documents["business_registration"]["valid_until"] is None
    assert documents["food_safety"]["valid"] is False
    assert documents["food_safety"]["valid_until"] == (today() - timedelta(days=5)).isoformat()
    assert body["logo"]["alt"] == "Logo HTX" and body["logo"]["width"] == 400 and body["photos"] == []
    assert local_path(body["url"]) == f"/producers/{slug}"
    # Only the certified, published product; in the same shape as in the listing.
    assert [p["slug"] for p in body["products"]] == [listed_slug]
    listing = client.get("/api/v1/products", query_string={"producer": slug}).get_json()["items"]
    assert body["products"] == listing


def test_bad_language_is_400(app, client):
    with app.app_context():
        slug = make_producer().slug
        db.session.commit()
    response = client.get(f"/api/v1/producers/{slug}", query_string={"lang": "de"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_parameter"
    assert client.get(f"/api/v1/producers/{slug}", query_string={"lang": "vi"}).status_code == 200


def test_unknown_producer_is_404_json(client):
    response = client.get("/api/v1/producers/khong-co")
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "not_found"
