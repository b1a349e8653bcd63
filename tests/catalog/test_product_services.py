import unicodedata

import pytest

from shop.catalog.models import ProductStatus
from shop.catalog.services import create_product, normalise_gtin, publish_product, update_product
from shop.core.errors import Conflict, DomainError
from tests.factories import make_producer, make_product


def test_product_gets_a_slug_from_its_vietnamese_name(app_ctx):
    producer = make_producer()
    a = create_product(producer, name="Cà phê Robusta", group_code="1", price_vnd=120000)
    b = create_product(producer, name="Cà phê Robusta", group_code="1", price_vnd=130000)
    assert a.slug == "ca-phe-robusta" and b.slug == "ca-phe-robusta-2"
    assert a.status == ProductStatus.DRAFT


def test_text_is_stored_in_nfc(app_ctx):
    product = create_product(make_producer(), name=unicodedata.normalize("NFD", "Mật ong rừng"), group_code="1",
                             price_vnd=90000)
    assert product.name == unicodedata.normalize("NFC", "Mật ong rừng")


@pytest.mark.parametrize("gtin, ok", [
    ("8934567890128", False),   # wrong check digit
    ("8934567890120", True),
    ("12345", False),
    ("89345678901X8", False),
])
def test_gtin_check_digit(gtin, ok):
    if ok:
        assert normalise_gtin(gtin) == gtin
    else:
        with pytest.raises(DomainError, match="GTIN"):
            normalise_gtin(gtin)


def test_gtin_must_be_unique(app_ctx):
    make_product(gtin="8934567890120")
    with pytest.raises(Conflict):
        make_product(gtin="8934567890120")


@pytest.mark.parametrize("fields, field", [
    ({"price_vnd": -1}, "price_vnd"),
    ({"price_vnd": "150000"}, "price_vnd"),
    ({"price_vnd": 150000.5}, "price_vnd"),
    ({"group_code": "9"}, "group_code"),
    ({"subgroup_code": "2.1", "group_code": "1"}, "subgroup_code"),
    ({"subgroup_code": "9.9"}, "subgroup_code"),
    ({"name": "  "}, "name"),
])
def test_bad_product_fields_are_refused(app_ctx, fields, field):
    producer = make_producer()
    base = {"name": "Tiêu đen", "group_code": "1", "price_vnd": 100000}
    with pytest.raises(DomainError) as error:
        create_product(producer, **{**base, **fields})
    assert error.value.field == field


def test_update_and_publish(app_ctx):
    product = make_product(publish=False, stars=None)
    update_product(product, price_vnd=175000, subgroup_code="1.3c")
    assert product.price_vnd == 175000 and product.group_code == "1"
    publish_product(product)
    assert product.is_published and product.published_at is not None
