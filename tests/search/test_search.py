"""Finding products by text: diacritics, NFD, as-you-type prefixes, one typo, ranking, bad queries."""
import unicodedata

from shop.core.clock import today
from shop.extensions import db
from shop.search import index
from shop.search.browse import browse_products
from shop.search.filters import ProductFilters
from tests.factories import make_producer, make_product
from tests.search.conftest import find, found


def test_a_query_without_marks_finds_names_with_marks(catalogue):
    assert set(found("ca phe")) == {"Cà phê bột Robusta", "Ca phe sua da", "Mật ong hoa cà phê"}
    assert found("hat dieu rang muoi") == ["Hạt điều rang muối"]
    assert found("ruou nep") == ["Rượu nếp than"]


def test_a_query_with_marks_finds_names_typed_without_them(catalogue):
    assert "Ca phe sua da" in found("cà phê")
    assert found("Cà Phê Sữa Đá") == ["Ca phe sua da"]


def test_d_with_stroke_folds_to_d(catalogue):
    # "dong nai" is in the producer's name: "HTX Cà phê Đồng Nai".
    assert set(found("dong nai")) == {"Cà phê bột Robusta", "Ca phe sua da"}
    assert set(found("ĐỒNG NAI")) == set(found("dong nai"))


def test_decomposed_unicode_queries_find_the_same(catalogue):
    for text in ("Mật ong", "Hạt điều", "Đồng Nai"):
        decomposed = unicodedata.normalize("NFD", text)
        assert decomposed != text
        assert found(decomposed) == found(text) != []


def test_decomposed_text_is_folded_like_composed_text():
    composed = "Rượu nếp Đồng Nai"
    words = index.parse_words(unicodedata.normalize("NFD", composed))
    assert [w.folded for w in words] == ["ruou", "nep", "dong", "nai"]
    assert [w.marked for w in words] == ["rượu", "nếp", "đồng", "nai"]
    assert words == index.parse_words(composed)


def test_the_last_word_is_a_prefix(catalogue):
    assert found("rob") == ["Cà phê bột Robusta"]
    assert found("ca phe rob") == ["Cà phê bột Robusta"]
    assert found("hat dieu rang m") == ["Hạt điều rang muối"]
    # Only the last word: a finished word must be whole.
    assert found("rob phe") == []


def test_one_typo_is_tolerated_in_longer_words(catalogue):
    for typo in ("robsuta", "robusa", "rubusta", "robustaa"):
        assert found(typo) == ["Cà phê bột Robusta"], typo
    assert found("rbsuat") == []           # two typos
    assert found("ca phe sau da") == []    # no typo allowed in words of 3 letters ("sau" for "sua")


def test_exact_matches_rank_above_one_typo_matches(app_ctx):
    producer = make_producer("HTX Nông nghiệp Gia Kiệm", former_district="thong-nhat")
    make_product(producer, "Cà phê Robusto", stars=5)
    make_product(producer, "Cà phê Robusta", stars=3)
    db.session.commit()
    assert found("robusta") == ["Cà phê Robusta", "Cà phê Robusto"]
    assert found("robusto") == ["Cà phê Robusto", "Cà phê Robusta"]


def test_a_query_with_marks_ranks_the_same_spelling_first(catalogue):
    # Equal text scores; without marks the 5★ product comes first, with marks the exactly spelled one does.
    assert found("ca phe")[:2] == ["Ca phe sua da", "Cà phê bột Robusta"]
    assert found("cà phê")[0] in {"Cà phê bột Robusta", "Mật ong hoa cà phê"}
    assert found("cà phê").index("Cà phê bột Robusta") < found("cà phê").index("Ca phe sua da")


def test_products_that_are_not_certified_and_published_are_never_found(catalogue):
    everything = found("ca phe") + found("chua") + found("hai sao")
    for name in ("Cà phê chưa bán", "Cà phê chưa chứng nhận", "Cà phê hai sao"):
        assert name not in everything


def test_symbols_only_and_unknown_words_find_nothing(catalogue):
    for q in ("!!!", "@#$%^&*()", "—…‹›", "zzzqqq", " "):
        hits = find(q)
        assert (hits.ids, hits.total) == ([], 0), q
        assert set(hits.facets) == {"stars", "group", "locality", "producer", "price"}


def test_a_1000_character_query_is_handled(catalogue):
    long_query = ("cà phê " * 200)[:1000]
    assert len(long_query) == 1000
    assert set(found(long_query)) == {"Cà phê bột Robusta", "Ca phe sua da", "Mật ong hoa cà phê"}
    assert find("x" * 1000).total == 0
    assert find("ab" * 500).total == 0
    # Through the listing, as the page calls it.
    page = browse_products(ProductFilters(q=long_query), today())
    assert page.total == 3


def test_search_through_the_listing_keeps_the_rank_and_the_certificate(catalogue):
    page = browse_products(ProductFilters(q="hat dieu"), today())
    assert [card.product.name for card in page.items] == ["Hạt điều rang muối"]
    assert page.items[0].certificate.stars == 3
    assert page.total == 1
    assert {f.key: f.count for f in page.facets["stars"]} == {"3": 1, "4": 0, "5": 0}


def test_producers_are_searched_by_name_and_locality(catalogue):
    coop, farm = catalogue["coop"], catalogue["farm"]
    assert index.search_producers("dong nai") == [coop.id]
    assert index.search_producers("mat ong phu hoa") == [farm.id]
    assert index.search_producers("dinh quan") == [farm.id]      # the former district
    assert index.search_producers("mat o", limit=5) == [farm.id]
    assert index.search_producers("!!!") == []
    assert index.search_producers("ca phe", limit=0) == []
