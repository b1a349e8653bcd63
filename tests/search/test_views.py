"""The as-you-type endpoint and the search results page (/products?q=…)."""
import unicodedata
from urllib.parse import quote

from shop.extensions import db
from tests.factories import make_producer, make_product


def _stock(app):
    with app.app_context():
        producer = make_producer("HTX Cà phê Xuân Lộc", former_district="xuan-loc")
        make_product(producer, "Cà phê bột Robusta", stars=4)
        make_product(producer, "Cà phê hạt rang xay", stars=5)
        make_product(producer, "Cà phê chưa chứng nhận", stars=None)
        make_product(producer, "Cà phê nháp", stars=4, publish=False)
        make_product(make_producer("Công ty Nga Biên", former_district="xuan-loc"), "Hạt điều rang muối", stars=3,
                     subgroup_code="1.3c")
        db.session.commit()


def test_suggestions_are_certified_product_names_with_their_urls(app, client):
    _stock(app)
    response = client.get("/search/suggest?q=ca+phe+r")
    assert response.status_code == 200
    assert response.is_json
    suggestions = response.get_json()["suggestions"]
    assert {s["name"] for s in suggestions} == {"Cà phê bột Robusta", "Cà phê hạt rang xay"}
    for suggestion in suggestions:
        assert suggestion["url"] == f"/products/{suggestion['slug']}"
        assert client.get(suggestion["url"]).status_code == 200


def test_suggestions_match_names_only_and_fold_marks(app, client):
    _stock(app)
    names = [s["name"] for s in client.get("/search/suggest?q=xuan+loc").get_json()["suggestions"]]
    assert names == []   # the producer's locality is not a product name
    decomposed = quote(unicodedata.normalize("NFD", "hạt điều"))
    names = [s["name"] for s in client.get(f"/search/suggest?q={decomposed}").get_json()["suggestions"]]
    assert names == ["Hạt điều rang muối"]


def test_at_most_eight_suggestions(app, client):
    with app.app_context():
        producer = make_producer("HTX Mật ong Cẩm Mỹ", former_district="cam-my")
        for i in range(11):
            make_product(producer, f"Mật ong hoa số {i}", stars=3)
        db.session.commit()
    assert len(client.get("/search/suggest?q=mat").get_json()["suggestions"]) == 8


def test_an_empty_or_symbol_query_gets_no_suggestions(app, client):
    _stock(app)
    for url in ("/search/suggest", "/search/suggest?q=", "/search/suggest?q=+++", "/search/suggest?q=%21%21%21"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.get_json() == {"suggestions": []}


def test_a_query_longer_than_the_search_box_is_refused(app, client):
    response = client.get("/search/suggest?q=" + "a" * 201)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["parameter"] == "q"
    assert "200" in error["message"]
    assert client.get("/search/suggest?q=" + "a" * 200).status_code == 200


def test_the_products_page_searches_without_diacritics(app, client):
    _stock(app)
    html = client.get("/products?q=ca+phe").get_data(as_text=True)
    assert "Cà phê bột Robusta" in html and "Cà phê hạt rang xay" in html
    assert "Hạt điều rang muối" not in html
    assert "Cà phê chưa chứng nhận" not in html and "Cà phê nháp" not in html


def test_the_products_page_handles_odd_queries(app, client):
    _stock(app)
    for q in ("%21%21%21", quote("<script>alert(1)</script>"), "x" * 1000, quote("cà phê " * 150)):
        response = client.get(f"/products?q={q}")
        assert response.status_code == 200, q[:40]
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    html = client.get("/products?q=" + quote(unicodedata.normalize("NFD", "Hạt điều"))).get_data(as_text=True)
    assert "Hạt điều rang muối" in html
