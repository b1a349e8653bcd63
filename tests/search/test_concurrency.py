"""Several workers share the index directory: one writer at a time, and every reader sees the new commits."""
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from shop.catalog.services import update_product
from shop.core.clock import today
from shop.extensions import db
from shop.search import index
from shop.search.filters import ProductFilters
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_producer, make_product
from tests.search.conftest import found

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import sys
from shop import create_app
from shop.catalog.models import Product
from shop.catalog.services import update_product
from shop.extensions import db
from shop.search import index

uri, index_dir, upload_dir, ids, rounds, rename = sys.argv[1:7]
app = create_app({"TESTING": True, "SHOP_ENV": "testing", "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": uri,
                  "SEARCH_INDEX_DIR": index_dir, "UPLOAD_DIR": upload_dir})
ids = [int(i) for i in ids.split(",")]
with app.app_context():
    for _ in range(int(rounds)):
        index.index_products(ids)
        index.apply_changes(ids[:3], [])
    if rename != "-":
        product_id, name = rename.split(":", 1)
        update_product(db.session.get(Product, int(product_id)), name=name)
        db.session.commit()  # the hooks of this process update the index
print("done")
"""


@pytest.fixture
def shared_app(make_app, tmp_path):
    """An app whose database other threads and processes can open too (a file, not an in-memory SQLite)."""
    if TEST_DATABASE_URL:
        return make_app()
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'shop.sqlite'}")
    with app.app_context():
        db.create_all()
    return app


def _catalogue(count: int) -> list[int]:
    producer = make_producer("HTX Mật ong Bù Đăng", former_district="bu-dang")
    ids = [make_product(producer, f"Mật ong rừng loại {i}", stars=3 + i % 3).id for i in range(count)]
    db.session.commit()
    return ids


def _assert_each_product_once(ids: list[int]) -> None:
    hits = index.search_products(ProductFilters(q="mat ong", per_page=100), today())
    assert hits.total == len(ids)
    assert sorted(hits.ids) == sorted(ids)
    assert index.indexed_count() == len(ids)


def test_writers_in_several_threads_do_not_corrupt_the_index(shared_app):
    with shared_app.app_context():
        ids = _catalogue(12)
    errors = []

    def work(n: int) -> None:
        try:
            with shared_app.app_context():
                for _ in range(4):
                    index.index_products(ids[n::2])
                    index.search_products(ProductFilters(q="mat ong"), today())
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with shared_app.app_context():
        _assert_each_product_once(ids)


def test_writers_in_several_processes_do_not_corrupt_the_index_and_readers_see_their_commits(shared_app):
    config = shared_app.config
    with shared_app.app_context():
        ids = _catalogue(10)
        assert found("mat ong rung loai 3") == ["Mật ong rừng loại 3"]   # this process now has a searcher open
    renamed = ids[3]
    workers = [subprocess.Popen(
        [sys.executable, "-c", WORKER, config["SQLALCHEMY_DATABASE_URI"], config["SEARCH_INDEX_DIR"],
         config["UPLOAD_DIR"], ",".join(map(str, ids)), "6", f"{renamed}:Mật ong hoa điều" if n == 0 else "-"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for n in range(3)]
    with shared_app.app_context():
        for _ in range(6):  # this process writes too, meanwhile
            index.index_products(ids)
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert out.strip() == "done"
    with shared_app.app_context():
        db.session.expire_all()
        _assert_each_product_once(ids)
        assert found("mat ong hoa dieu") == ["Mật ong hoa điều"]   # committed by another process
        assert found("mat ong rung loai 3") == []


def test_a_busy_index_never_fails_a_commit(app, caplog):
    app.config["SEARCH_LOCK_TIMEOUT"] = 0.2
    with app.app_context():
        product = make_product(name="Trà atiso", stars=4)
        db.session.commit()
        with index._writer(index.PRODUCTS):  # another writer holds the lock
            with pytest.raises(index.LockError):
                index.index_products([product.id])
            update_product(product, name="Trà xanh")
            with caplog.at_level(logging.ERROR, logger="shop.search.hooks"):
                db.session.commit()
        assert "updating the search index failed" in caplog.text
        assert found("tra xanh") == []   # the index lags behind…
        update_product(product, name="Trà xanh Bảo Lộc")
        db.session.commit()
        assert found("tra xanh") == ["Trà xanh Bảo Lộc"]   # …until the next change of the product
