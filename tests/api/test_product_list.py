"""GET /api/v1/products: the listing's filters, sorting, pagination and facets, and refusals as 400 JSON."""
import unicodedata

import pytest

from shop.extensions import db
from tests.api.conftest import local_path, needs_search, slugs
from tests.factories import make_producer, make_product

URL = "/api/v1/products"


def test_lists_only_certified_published_products(client, catalogue):
    response = client.get(URL)
    assert set(slugs(response)) == {catalogue["coffee"], catalogue["wine"], catalogue["cashew"]}
    body = response.get_json()
    assert (body["total"], body["page"], body["pages"], body["per_page"]) == (3, 1, 1, 24)
    for hidden in ("draft", "two_stars", "expired", "withdrawn", "uncertified"):
        assert catalogue[hidden] not in slugs(response)


def test_item_shape(app, client, catalogue):
    response = client.get(URL, query_string={"sort": "price_asc"})
    assert response.headers["Cache-Control"] == "public, max-age=60"
    coffee = response.get_json()["items"][0]
    assert coffee["slug"] == catalogue["coffee"]
    assert coffee["name"] == "Cà phê bột nguyên chất"
    assert coffee["price_vnd"] == 90_000 and isinstance(coffee["price_vnd"], int)
    assert coffee["stars"] == 5
    assert (coffee["group"], coffee["group_name"]) == ("1", "Thực phẩm")
    assert coffee["subgroup"] == "1.6"
    assert (coffee["locality"], coffee["locality_name"]) == ("tan-phu", "H. Tân Phú")
    assert coffee["unit"] == "Hộp 500 g"
    assert coffee["producer"] == {"slug": catalogue["tan_phu"], "name": "HTX Cà phê Tân Phú"}
    certificate = coffee["certificate"]
    assert certificate["level"] == "central" and certificate["stars"] == 5
    assert certificate["decision_no"].endswith("/QĐ-UBND")
    # ISO dates, valid 36 months from the decision.
    issued, until = certificate["decision_date"], certificate["valid_until"]
    assert len(issued) == len(until) == 10 and int(until[:4]) - int(issued[:4]) == 3
    assert local_path(coffee["url"]) == f"/products/{catalogue['coffee']}"
    assert app.url_map.bind("localhost").match(local_path(coffee["url"])) == (
        "catalog.product_detail", {"slug": catalogue["coffee"]})
    # The cover picture as a 640-pixel WebP that the site really serves.
    assert coffee["image"].endswith("-640.webp")
    with client.get(local_path(coffee["image"])) as picture:
        assert picture.status_code == 200 and picture.mimetype == "image/webp"
    wine = next(item for item in response.get_json()["items"] if item["slug"] == catalogue["wine"])
    assert wine["image"] is None and wine["is_alcohol"] is True and wine["group_name"] == "Đồ uống"


def test_labels_follow_lang(client, catalogue):
    body = client.get(URL, query_string={"lang": "en", "sort": "price_asc"}).get_json()
    assert body["items"][0]["group_name"] == "Food"
    assert [f["label"] for f in body["facets"]["group"]][:2] == ["Food", "Drinks"]


@pytest.mark.parametrize("params, expected", [
    ({"stars": "4"}, {"coffee", "wine"}),
    ({"stars": "5"}, {"coffee"}),
    ({"stars": "3"}, {"coffee", "wine", "cashew"}),
    ({"group": "2"}, {"wine"}),
    ({"group": "4"}, set()),
    ({"locality": "xuan-loc"}, {"wine", "cashew"}),
    ({"locality": "tan-phu"}, {"coffee"}),
    ({"min_price": "200000"}, {"wine", "cashew"}),
    ({"max_price": "250000"}, {"coffee", "wine"}),
    ({"min_price": "100000", "max_price": "300000"}, {"wine"}),
    ({"group": "1", "stars": "4"}, {"coffee"}),
    ({"stars": "", "group": ""}, {"coffee", "wine", "cashew"}),  # empty = no filter, as in the page's form
])
def test_filters(client, catalogue, params, expected):
    response = client.get(URL, query_string=params)
    assert set(slugs(response)) == {catalogue[name] for name in expected}
    assert response.get_json()["total"] == len(expected)


def test_producer_filter(client, catalogue):
    assert set(slugs(client.get(URL, query_string={"producer": catalogue["xuan_loc"]}))) == {
        catalogue["wine"], catalogue["cashew"]}
    assert slugs(client.get(URL, query_string={"producer": "no-such-producer"})) == []


@pytest.mark.parametrize("sort, order", [
    ("price_asc", ["coffee", "wine", "cashew"]),
    ("price_desc", ["cashew", "wine", "coffee"]),
    ("stars", ["coffee", "wine", "cashew"]),
    ("newest", ["cashew", "wine", "coffee"]),
    ("relevance", ["cashew", "wine", "coffee"]),  # without q, relevance means newest
])
def test_sort(client, catalogue, sort, order):
    assert slugs(client.get(URL, query_string={"sort": sort})) == [catalogue[name] for name in order]


def test_facets_count_each_choice_without_its_own_filter(client, catalogue):
    facets = client.get(URL, query_string={"group": "1"}).get_json()["facets"]
    stars = {f["key"]: f["count"] for f in facets["stars"]}
    assert stars == {"3": 2, "4": 1, "5": 1}  # within group 1: coffee 5★, cashew 3★
    groups = {f["key"]: f["count"] for f in facets["group"]}
    assert groups["1"] == 2 and groups["2"] == 1  # the group facet ignores the group choice
    localities = {f["key"]: (f["label"], f["count"]) for f in facets["locality"]}
    assert localities == {"tan-phu": ("H. Tân Phú", 1), "xuan-loc": ("H. Xuân Lộc", 1)}
    assert {f["key"]: f["count"] for f in facets["price"]}["500000-"] == 1


def test_pagination(app, client):
    with app.app_context():
        producer = make_producer()
        for n in range(5):
            make_product(producer, f"Bánh pía số {n}", price_vnd=10_000 * (n + 1))
        db.session.commit()
    pages = [client.get(URL, query_string={"per_page": 2, "page": n, "sort": "price_asc"}).get_json()
             for n in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert all((p["total"], p["pages"], p["per_page"]) == (5, 3, 2) for p in pages)
    names = [item["name"] for p in pages for item in p["items"]]
    assert names == [f"Bánh pía số {n}" for n in range(5)]
    beyond = client.get(URL, query_string={"per_page": 2, "page": 4})
    assert beyond.status_code == 200 and beyond.get_json()["items"] == [] and beyond.get_json()["total"] == 5
    assert len(client.get(URL, query_string={"per_page": 100}).get_json()["items"]) == 5


@pytest.mark.parametrize("params, parameter", [
    ({"stars": "2"}, "stars"),
    ({"stars": "6"}, "stars"),
    ({"stars": "four"}, "stars"),
    ({"stars": "4.5"}, "stars"),
    ({"group": "7"}, "group"),
    ({"group": "1.6"}, "group"),
    ({"locality": "ha-noi"}, "locality"),
    ({"producer": "<script>alert(1)</script>"}, "producer"),
    ({"producer": "x" * 141}, "producer"),
    ({"min_price": "-1"}, "min_price"),
    ({"min_price": "cheap"}, "min_price"),
    ({"max_price": "1000000001"}, "max_price"),
    ({"sort": "cheapest"}, "sort"),
    ({"page": "0"}, "page"),
    ({"page": "-3"}, "page"),
    ({"page": "two"}, "page"),
    ({"page": "100001"}, "page"),
    ({"per_page": "0"}, "per_page"),
    ({"per_page": "101"}, "per_page"),
    ({"per_page": "1e2"}, "per_page"),
    ({"lang": "fr"}, "lang"),
    ({"q": "cà phê " * 150}, "q"),  # 1,050 characters
])
def test_bad_parameter_is_400_json(client, catalogue, params, parameter):
    response = client.get(URL, query_string=params)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["parameter"] == parameter
    assert error["message"]
    assert "public" not in response.headers.get("Cache-Control", "")


def test_every_bad_parameter_is_reported(client):
    response = client.get(URL, query_string={"stars": "9", "sort": "cheap", "group": "1"})
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["parameter"] == "stars"
    assert [d["parameter"] for d in error["details"]] == ["stars", "sort"]


def test_unknown_parameters_are_refused(client, catalogue):
    response = client.get(URL, query_string={"stars": "4", "colour": "red"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["parameter"]) == ("invalid_parameter", "colour")


def test_a_price_range_whose_ends_cross_is_empty(client, catalogue, openapi):
    """min_price above max_price is a valid request (each value is in range, as the document says) that no
    price satisfies."""
    response = client.get(URL, query_string={"min_price": "500000", "max_price": "100000"})
    assert slugs(response) == [] and response.get_json()["total"] == 0
    parameters = {p["name"]: p for p in openapi["paths"]["/products"]["get"]["parameters"]}
    assert "nothing is in the range" in parameters["max_price"]["description"]


def test_thousand_character_query_never_500(client, catalogue):
    for q in ("a" * 1000, "ca phe " * 143, "%" * 1000):
        response = client.get(URL, query_string={"q": q})
        assert response.status_code in (200, 400), q[:20]
        assert response.mimetype == "application/json"


def test_strings_are_nfc_even_from_nfd_input(app, client):
    with app.app_context():
        producer = make_producer(unicodedata.normalize("NFD", "Hợp tác xã Đồng Nai"))
        make_product(producer, unicodedata.normalize("NFD", "Bưởi Tân Triều"))
        db.session.commit()
    body = client.get(URL).get_json()

    def strings(node):
        if isinstance(node, dict):
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)
        elif isinstance(node, str):
            yield node

    assert body["items"][0]["name"] == "Bưởi Tân Triều"
    assert all(unicodedata.is_normalized("NFC", s) for s in strings(body))


# --- text search (the Whoosh index, which follows each commit) ----------------------------------------------

@needs_search
def test_search_without_diacritics(client, catalogue):
    found = slugs(client.get(URL, query_string={"q": "ca phe"}))
    assert found[0] == catalogue["coffee"]
    # Neither the draft, the 2★ nor the never-certified coffee-named products are listed.
    assert not {catalogue["draft"], catalogue["two_stars"], catalogue["uncertified"]} & set(found)
    assert slugs(client.get(URL, query_string={"q": "hat dieu"}))[0] == catalogue["cashew"]


@needs_search
def test_search_with_filters_and_nfd_query(client, catalogue):
    nfd = unicodedata.normalize("NFD", "rượu sim")
    assert slugs(client.get(URL, query_string={"q": nfd}))[0] == catalogue["wine"]
    assert slugs(client.get(URL, query_string={"q": "ca phe", "stars": "5"})) == [catalogue["coffee"]]
    assert catalogue["coffee"] not in slugs(client.get(URL, query_string={"q": "ca phe", "group": "2"}))


@needs_search
def test_search_skips_lapsed_products(client, catalogue):
    assert catalogue["withdrawn"] not in slugs(client.get(URL, query_string={"q": "mat ong thu hoi"}))
    assert catalogue["expired"] not in slugs(client.get(URL, query_string={"q": "chuoi say"}))


@needs_search
def test_longest_allowed_query_is_searched(client, catalogue):
    q = ("ca phe " * 40)[:200]
    response = client.get(URL, query_string={"q": q})
    assert response.status_code == 200 and catalogue["coffee"] in slugs(response)


@needs_search
@pytest.mark.parametrize("q", ["!!!", "*?:~^\"()[]{}", "%%% ### ---", "'; DROP TABLE product; --", "★★★"])
def test_symbols_only_query(client, catalogue, q):
    response = client.get(URL, query_string={"q": q})
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == len(body["items"])
