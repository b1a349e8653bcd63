"""The page cache and the trace-journal cache (Flask-Caching): per process by default, one Redis for every worker
when CACHE_REDIS_URL is set, so that two workers never serve different versions of a page after a change."""
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import redis
from flask import template_rendered

from shop.accounts.models import Role
from shop.certification.queries import current_certificate
from shop.certification.services import withdraw_certificate
from shop.config import cache_config
from shop.core.clock import today
from shop.extensions import db, journal_cache, page_cache
from shop.traceability.models import TraceEvent
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_point, make_product, make_stock, make_user
from tests.traceability.test_trace_page import build_lot

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def rendered_templates(app):
    """The names of the templates `app` renders meanwhile: a page served from a cache renders only its live
    fragments."""
    names = []

    def note(_sender, template, **_extra):
        names.append(template.name)

    template_rendered.connect(note, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(note, app)


@pytest.fixture
def redis_prefix():
    """A key prefix of this test alone in the local Redis, and its keys deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"test-{uuid.uuid4().hex}:"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def two_workers(make_app, tmp_path, redis_prefix):
    """Two apps as two gunicorn workers would be: one database, one Redis."""
    database = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'shared.sqlite'}"
    first, second = (make_app(SQLALCHEMY_DATABASE_URI=database, CACHE_REDIS_URL=REDIS_URL,
                              CACHE_KEY_PREFIX=redis_prefix) for _ in range(2))
    if not TEST_DATABASE_URL:
        with first.app_context():
            db.create_all()
    return first, second


def _keys(prefix: str) -> list[bytes]:
    return list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{prefix}*"))


def test_a_worker_serves_the_page_another_stored_and_both_follow_a_change_at_once(two_workers, redis_prefix):
    first, second = two_workers
    with first.app_context():
        product = make_product(name="Cà phê Robusta Định Quán")
        db.session.commit()
        product_id = product.id
    page = first.test_client().get("/products").get_data(as_text=True)
    assert "Cà phê Robusta Định Quán" in page
    assert len(_keys(f"{redis_prefix}page:")) == 1
    with rendered_templates(second) as names:
        assert second.test_client().get("/products").get_data(as_text=True) == page
    assert "catalog/product_list.html" not in names  # the first worker's copy came from Redis

    with first.app_context():
        withdraw_certificate(current_certificate(product_id, today()), decision_no="5/QĐ-UBND", reason="Vi phạm")
        db.session.commit()
    assert "Cà phê Robusta Định Quán" not in second.test_client().get("/products").get_data(as_text=True)
    assert "Cà phê Robusta Định Quán" not in first.test_client().get("/products").get_data(as_text=True)


def test_a_page_another_worker_stored_gets_its_live_stock_filled_in(two_workers, redis_prefix):
    first, second = two_workers
    with first.app_context():
        product = make_product(name="Cà phê Robusta Định Quán")
        make_stock(make_point("DN-DQ-01"), product, make_user(Role.ADMIN), quantity=2)
        db.session.commit()
        slug = product.slug
    assert "stock-band--few_left" in first.test_client().get(f"/products/{slug}").get_data(as_text=True)
    [key] = _keys(f"{redis_prefix}page:")
    assert b"<!--live:" in redis.Redis.from_url(REDIS_URL).get(key)  # stored with the mark, not the band
    page = second.test_client().get(f"/products/{slug}").get_data(as_text=True)
    assert "stock-band--few_left" in page and "<!--live:" not in page


def test_the_mark_of_a_live_part_is_the_same_in_every_worker_of_one_installation(make_app):
    first, second = make_app(SECRET_KEY="one installation"), make_app(SECRET_KEY="one installation")
    other = make_app(SECRET_KEY="another installation")
    assert first.extensions["live_nonce"] == second.extensions["live_nonce"] != other.extensions["live_nonce"]


def test_a_worker_serves_the_journal_another_rendered_and_sees_a_new_step_at_once(two_workers, redis_prefix):
    first, second = two_workers
    with first.app_context():
        lot = build_lot(make_product(name="Hạt điều rang muối"), events=2)
        db.session.commit()
        code, lot_id = lot.trace_code, lot.id
    first.test_client().get(f"/t/{code}")
    with rendered_templates(second) as names:
        assert second.test_client().get(f"/t/{code}").status_code == 200
    assert "traceability/_timeline.html" not in names

    with first.app_context():
        db.session.add(TraceEvent(lot_id=lot_id, event_type="quality_test", occurred_at=datetime.now(UTC),
                                  place="Phòng kiểm nghiệm Biên Hòa", actor_name="Trần Văn Kiểm"))
        db.session.commit()
    with rendered_templates(second) as names:
        assert "Phòng kiểm nghiệm Biên Hòa" in second.test_client().get(f"/t/{code}").get_data(as_text=True)
    assert names.count("traceability/_timeline.html") == 1
    assert "Phòng kiểm nghiệm Biên Hòa" in first.test_client().get(f"/t/{code}").get_data(as_text=True)
    assert len(_keys(f"{redis_prefix}journal:")) == 2  # the journal before and after the new step


def test_without_redis_each_app_keeps_its_own_simple_cache(make_app, tmp_path):
    database = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'shared.sqlite'}"
    first, second = (make_app(SQLALCHEMY_DATABASE_URI=database, PAGE_CACHE_SIZE=7) for _ in range(2))
    if not TEST_DATABASE_URL:
        with first.app_context():
            db.create_all()
    store = first.extensions["cache"][page_cache]
    assert type(store).__name__ == "SimpleCache"
    assert store._threshold == 7
    assert type(first.extensions["cache"][journal_cache]).__name__ == "SimpleCache"
    with first.app_context():
        make_product(name="Mật ong rừng Mã Đà")
        db.session.commit()
    page = first.test_client().get("/products").get_data(as_text=True)
    with rendered_templates(first) as names:
        assert first.test_client().get("/products").get_data(as_text=True) == page
    assert "catalog/product_list.html" not in names  # the second visit came from the cache
    with rendered_templates(second) as names:
        assert second.test_client().get("/products").get_data(as_text=True) == page
    assert "catalog/product_list.html" in names  # another process: its own cache, rendered afresh


def test_a_page_cache_of_size_zero_renders_every_time(make_app):
    app = make_app(PAGE_CACHE_SIZE=0)
    with app.app_context():
        make_product()
        db.session.commit()
    with rendered_templates(app) as names:
        app.test_client().get("/products")
        app.test_client().get("/products")
    assert names.count("catalog/product_list.html") == 2


def test_cache_config_names_redis_only_when_asked():
    config = {"CACHE_KEY_PREFIX": "ocop:", "CACHE_REDIS_URL": None}
    assert cache_config(config, "page", size=512, seconds=60) == {
        "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 512, "CACHE_DEFAULT_TIMEOUT": 60,
        "CACHE_KEY_PREFIX": "ocop:page:"}
    config["CACHE_REDIS_URL"] = REDIS_URL
    assert cache_config(config, "journal", size=256, seconds=600) == {
        "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": REDIS_URL, "CACHE_DEFAULT_TIMEOUT": 600,
        "CACHE_KEY_PREFIX": "ocop:journal:"}


def test_the_cache_key_prefix_comes_from_the_environment(monkeypatch, make_app):
    monkeypatch.setenv("CACHE_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("CACHE_KEY_PREFIX", "shop-b:")
    app = make_app()
    assert app.config["CACHE_REDIS_URL"] == REDIS_URL
    store = app.extensions["cache"][page_cache]
    assert type(store).__name__ == "RedisCache"
    assert store.key_prefix == "shop-b:page:"
