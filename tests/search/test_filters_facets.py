"""Filters, facet counts, sorting and pages of a text search: the same answers as the SQL listing."""
from datetime import timedelta
from itertools import product as combinations

import pytest

from shop.core.clock import today
from shop.extensions import db
from shop.search import index
from shop.search.filters import ProductFilters
from tests.factories import make_certificate, make_producer, make_product
from tests.search.conftest import find, found, names
from tests.search_reference import sql_facets, sql_page

# (name, producer, group, sub-group, stars, price): every name has "đặc sản", so the query "dac san" matches
# every certified product and the SQL listing (which has no text search) can be the reference.
ROWS = [
    ("Bưởi đặc sản Tân Triều", "a", "1", "1.1a", 3, 60_000),
    ("Chôm chôm đặc sản Long Khánh", "b", "1", "1.1a", 4, 100_000),
    ("Sầu riêng đặc sản Ri6", "b", "1", "1.1a", 5, 199_999),
    ("Mật ong đặc sản rừng", "c", "1", "1.2b", 4, 200_000),
    ("Hạt điều đặc sản rang muối", "c", "1", "1.3c", 3, 350_000),
    ("Rượu đặc sản nếp than", "a", "2", "2.1", 4, 500_000),
    ("Nước ép đặc sản bưởi", "d", "2", "2.2", 3, 45_000),
    ("Tinh dầu đặc sản tràm", "d", "3", "3.3", 5, 820_000),
    ("Giỏ mây đặc sản", "e", "4", "4.1", 3, 150_000),
    ("Lan đặc sản hồ điệp", "e", "5", "5.1", 4, 150_000),
    ("Du lịch đặc sản miệt vườn", "a", "6", "6.1", 3, 99_999),
]
PRODUCERS = {"a": ("HTX Đặc sản Vĩnh Cửu", "vinh-cuu"), "b": ("Tổ hợp tác Long Khánh", "long-khanh"),
             "c": ("Công ty Xuân Lộc Xanh", "xuan-loc"), "d": ("Hộ kinh doanh Cô Ba", None),
             "e": ("Cơ sở Thủ công Tân Phú", "tan-phu")}


@pytest.fixture
def listing(app_ctx):
    producers = {key: make_producer(name, former_district=district) for key, (name, district) in PRODUCERS.items()}
    products = {}
    for name, producer, group, subgroup, stars, price in ROWS:
        products[name] = make_product(producers[producer], name, stars=stars, group_code=group,
                                      subgroup_code=subgroup, price_vnd=price)
    # Never counted: expired, 2★, draft.
    expired = make_product(producers["a"], "Bánh đặc sản hết hạn", stars=None)
    make_certificate(expired, stars=4, decision_date=today() - timedelta(days=2000))
    make_product(producers["b"], "Kẹo đặc sản hai sao", stars=2)
    make_product(producers["c"], "Trà đặc sản nháp", publish=False)
    db.session.commit()
    return {"producers": producers, "products": products}


FILTER_CASES = [
    {},
    {"min_stars": 4},
    {"min_stars": 5},
    {"group": "1"},
    {"group": "4"},
    {"locality": "long-khanh"},
    {"producer": "htx-dac-san-vinh-cuu"},
    {"producer": "no-such-producer"},
    {"min_price": 100_000},
    {"max_price": 100_000},
    {"min_price": 100_000, "max_price": 200_000},
    {"group": "1", "min_stars": 4},
    {"group": "1", "locality": "xuan-loc", "min_price": 300_000},
    {"min_stars": 4, "producer": "to-hop-tac-long-khanh", "max_price": 150_000},
    {"group": "2", "locality": "vinh-cuu", "min_stars": 3, "min_price": 0, "max_price": 1_000_000},
]


@pytest.mark.parametrize("case", FILTER_CASES, ids=[str(case) for case in FILTER_CASES])
def test_facets_totals_and_pages_equal_the_sql_listing(listing, case):
    day = today()
    for sort in ("price_asc", "price_desc", "stars", "newest"):
        filters = ProductFilters(q="dac san", sort=sort, per_page=4, **case)
        hits = find(filters.q, **{**case, "sort": sort, "per_page": 4})
        ids, total = sql_page(filters, day)
        assert hits.facets == sql_facets(filters, day)
        assert (hits.ids, hits.total) == (ids, total), sort


def test_facets_count_each_value_without_its_own_filter(listing):
    hits = find("dac san", group="1", min_stars=4)
    assert hits.total == 3  # Chôm chôm 4★, Sầu riêng 5★, Mật ong 4★
    # Stars ignore min_stars (they are exact levels), groups ignore the group filter.
    assert hits.facets["stars"] == {"3": 2, "4": 2, "5": 1}
    assert hits.facets["group"] == {"1": 3, "2": 1, "3": 1, "5": 1}
    assert hits.facets["locality"] == {"long-khanh": 2, "xuan-loc": 1}
    assert hits.facets["price"] == {"100000-200000": 2, "200000-500000": 1}


def test_a_producer_without_locality_is_not_a_locality_facet(listing):
    hits = find("nuoc ep")
    assert names(hits.ids) == ["Nước ép đặc sản bưởi"]
    assert hits.facets["locality"] == {}
    assert hits.facets["producer"] == {"ho-kinh-doanh-co-ba": 1}


def test_every_filter_narrows_the_results(listing):
    assert set(found("dac san", min_stars=5)) == {"Sầu riêng đặc sản Ri6", "Tinh dầu đặc sản tràm"}
    assert set(found("dac san", group="2")) == {"Rượu đặc sản nếp than", "Nước ép đặc sản bưởi"}
    assert set(found("dac san", locality="tan-phu")) == {"Giỏ mây đặc sản", "Lan đặc sản hồ điệp"}
    assert set(found("dac san", producer="cong-ty-xuan-loc-xanh")) == {"Mật ong đặc sản rừng",
                                                                       "Hạt điều đặc sản rang muối"}
    # Price bounds are inclusive.
    assert set(found("dac san", min_price=199_999, max_price=350_000)) == {
        "Sầu riêng đặc sản Ri6", "Mật ong đặc sản rừng", "Hạt điều đặc sản rang muối"}
    assert found("dac san", min_price=900_000) == []
    assert found("buoi", group="2") == ["Nước ép đặc sản bưởi"]


def test_sorts(listing):
    by_price = found("dac san", sort="price_asc")
    prices = {name: price for name, *_, price in ROWS}
    assert [prices[n] for n in by_price] == sorted(prices.values())
    assert found("dac san", sort="price_desc")[0] == "Tinh dầu đặc sản tràm"
    stars = {name: s for name, _p, _g, _sg, s, _pr in ROWS}
    assert [stars[n] for n in found("dac san", sort="stars")] == sorted(stars.values(), reverse=True)
    # Newest: the last published first.
    assert found("dac san", sort="newest")[0] == ROWS[-1][0]
    # Relevance: the words in the product's name beat the same words in its producer's name only.
    assert found("long khanh", sort="relevance") == ["Chôm chôm đặc sản Long Khánh", "Sầu riêng đặc sản Ri6"]


def test_pages_split_the_results_without_gaps_or_repeats(listing):
    seen = []
    for page in (1, 2, 3):
        hits = find("dac san", sort="price_asc", per_page=4, page=page)
        assert hits.total == len(ROWS)
        seen += hits.ids
    assert len(seen) == len(set(seen)) == len(ROWS)
    assert find("dac san", per_page=4, page=4).ids == []
    assert find("dac san", per_page=4, page=4).total == len(ROWS)
    # Relevance pages too.
    relevance = [i for p in (1, 2, 3) for i in find("dac san", per_page=5, page=p).ids]
    assert sorted(relevance) == sorted(seen)


def test_without_facets_the_counts_are_not_computed(listing):
    hits = index.search_products(ProductFilters(q="dac san"), today(), with_facets=False)
    assert hits.facets == {}
    assert hits.total == len(ROWS)


@pytest.mark.parametrize("stars, group", list(combinations((None, 4), (None, "1"))))
def test_browse_labels_the_search_facets(listing, stars, group):
    from shop.search.browse import browse_products

    filters = ProductFilters(q="dac san", min_stars=stars, group=group)
    page = browse_products(filters, today(), "en")
    sql = browse_products(ProductFilters(min_stars=stars, group=group), today(), "en")
    assert page.total == sql.total
    assert {k: [(f.key, f.count) for f in v] for k, v in page.facets.items()} == \
        {k: [(f.key, f.count) for f in v] for k, v in sql.facets.items()}
