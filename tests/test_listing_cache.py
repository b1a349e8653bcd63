"""The in-memory listing snapshot and the page cache must never show anything the database no longer says."""
import itertools
import random

import sqlalchemy as sa

from shop.accounts.models import Role, User
from shop.catalog.models import Product
from shop.catalog.services import update_product
from shop.certification.queries import current_certificate
from shop.certification.services import withdraw_certificate
from shop.core.clock import today
from shop.extensions import db
from shop.inventory.services import sell_at_counter
from shop.sales_points.models import SalesPoint
from shop.search import snapshot
from shop.search.filters import SORTS, ProductFilters
from shop.search.versioning import current_version
from tests.conftest import login
from tests.factories import make_point, make_producer, make_product, make_stock, make_user
from tests.search_reference import sql_facets, sql_page


def _catalogue():
    producers = [make_producer(former_district=d) for d in ("xuan-loc", "dinh-quan", "long-khanh")]
    rng = random.Random(7)
    for i in range(40):
        make_product(producers[i % 3], name=f"Sản phẩm {i}", stars=rng.choice([3, 4, 5, None]),
                     price_vnd=rng.randrange(20, 900) * 1000, group_code=rng.choice("12345"), subgroup_code=None)


def test_snapshot_answers_exactly_like_sql(app_ctx):
    _catalogue()
    db.session.commit()
    current = snapshot.get_snapshot(today())
    producer_slugs = current.producer_slugs
    combos = itertools.product([None, 4, 5], [None, "1", "3"], [None, "xuan-loc"], [None, producer_slugs[0]],
                               [(None, None), (100_000, 500_000)], SORTS)
    for stars, group, locality, producer, (low, high), sort in combos:
        filters = ProductFilters(min_stars=stars, group=group, locality=locality, producer=producer,
                                 min_price=low, max_price=high, sort=sort, per_page=7, page=2)
        selection = snapshot.select(current, filters)
        assert (selection.ids, selection.total) == sql_page(filters, today()), filters
        assert selection.facets == sql_facets(filters, today()), filters


def test_catalogue_changes_bump_the_version_and_others_do_not(app_ctx):
    product = make_product()
    db.session.commit()
    before = current_version()
    make_user(Role.CUSTOMER)
    db.session.commit()
    assert current_version() == before
    update_product(product, price_vnd=99_000)
    db.session.commit()
    assert current_version() == before + 1
    update_product(product, price_vnd=98_000)
    db.session.rollback()
    assert current_version() == before + 1


def test_cached_listing_follows_a_withdrawal_at_once(app, client):
    with app.app_context():
        make_product(name="Cà phê Robusta Định Quán")
        db.session.commit()
    assert "Cà phê Robusta Định Quán" in client.get("/products").get_data(as_text=True)
    assert "Cà phê Robusta Định Quán" in client.get("/products").get_data(as_text=True)  # from the cache
    with app.app_context():
        product_id = db.session.scalar(sa.text("select id from product"))
        withdraw_certificate(current_certificate(product_id, today()), decision_no="5/QĐ-UBND", reason="Vi phạm")
        db.session.commit()
    assert "Cà phê Robusta Định Quán" not in client.get("/products").get_data(as_text=True)


def test_logged_in_visitors_get_their_own_page(app, client):
    with app.app_context():
        make_product()
        make_user(Role.CUSTOMER, email="khach@example.vn", full_name="Lê Văn Khách")
        db.session.commit()
    client.get("/products")  # an anonymous copy is now cached
    login(client, "khach@example.vn")
    page = client.get("/products").get_data(as_text=True)
    assert 'action="/account/logout"' in page


def test_pages_with_a_notice_are_not_cached(app, client):
    with app.app_context():
        make_product()
        db.session.commit()
    first = client.get("/products?stars=abc").get_data(as_text=True)
    second = client.get("/products?stars=abc").get_data(as_text=True)
    assert "abc" in first and "abc" in second  # the notice shows each time, not only the first


# --- live fragments: parts of cached pages that change without the catalogue version (stock) ---------------

def _product_at_a_point(story_md: str = "Rang mộc.") -> str:
    clerk = make_user(Role.ADMIN)
    product = make_product(name="Cà phê Robusta Định Quán", story_md=story_md)
    make_stock(make_point("DN-DQ-01"), product, clerk, quantity=2)
    return product.slug


def test_a_stock_change_shows_at_once_on_a_cached_product_page(app, client):
    with app.app_context():
        slug = _product_at_a_point()
        db.session.commit()
        version = current_version()
    first = client.get(f"/products/{slug}").get_data(as_text=True)
    assert "stock-band--few_left" in first and "<!--live:" not in first
    with app.app_context():
        point = db.session.scalar(sa.select(SalesPoint))
        product = db.session.scalar(sa.select(Product))
        sell_at_counter(point, [(product, 2)], payment_method="cash", actor=db.session.scalar(sa.select(User)))
        db.session.commit()
        assert current_version() == version, "a sale is not a catalogue change: the cached page stays"
    second = client.get(f"/products/{slug}").get_data(as_text=True)
    assert "stock-band--out_of_stock" in second and "stock-band--few_left" not in second


def test_logged_in_visitors_get_the_live_parts_too(app, client):
    with app.app_context():
        slug = _product_at_a_point()
        make_user(Role.CUSTOMER, email="khach@example.vn")
        db.session.commit()
    login(client, "khach@example.vn")
    page = client.get(f"/products/{slug}").get_data(as_text=True)
    assert "stock-band--few_left" in page and "<!--live:" not in page


def test_text_written_by_a_producer_cannot_pull_in_a_live_part(app, client):
    """A mark needs this process's secret: one typed into a story (raw HTML comment) is not filled in."""
    forged = "<!--live:0123456789abcdef:product_availability:1-->"
    with app.app_context():
        slug = _product_at_a_point(story_md=f"Rang mộc.\n\n{forged}\n")
        db.session.commit()
    page = client.get(f"/products/{slug}").get_data(as_text=True)
    assert page.count("point-list__item") == 1
