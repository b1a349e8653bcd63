"""The index follows the database: each commit is indexed, a rollback is not, and a certificate that lapses
with time drops out of search without anything being reindexed."""
import logging
from datetime import timedelta

import pytest

from shop.catalog.services import publish_product, unpublish_product, update_product
from shop.certification.services import record_certificate, withdraw_certificate
from shop.core.clock import today
from shop.extensions import db
from shop.producers.services import update_producer
from shop.search import index
from shop.search.cli import search_cli
from tests.factories import make_certificate, make_producer, make_product
from tests.search.conftest import find, found


def test_a_committed_product_is_found_at_once(app_ctx):
    make_product(name="Trà mãng cầu Tân Phú", stars=4)
    assert found("tra mang cau") == []      # flushed, not committed
    db.session.commit()
    assert found("tra mang cau") == ["Trà mãng cầu Tân Phú"]


def test_a_certificate_that_lapses_drops_out_without_reindexing(app_ctx):
    product = make_product(name="Bưởi đường lá cam", stars=None)
    make_certificate(product, stars=4, decision_date=today() - timedelta(days=400),
                     valid_until=today() + timedelta(days=5))
    db.session.commit()
    documents = index.indexed_count()
    assert found("buoi duong") == ["Bưởi đường lá cam"]
    assert found("buoi duong", day=today() + timedelta(days=5)) == ["Bưởi đường lá cam"]
    assert found("buoi duong", day=today() + timedelta(days=6)) == []   # the day after valid_until
    assert find("buoi duong", day=today() + timedelta(days=6)).facets["stars"] == {}
    assert index.indexed_count() == documents


def test_a_certificate_already_expired_is_not_indexed(app_ctx):
    product = make_product(name="Xoài cát chu Suối Lớn", stars=None)
    make_certificate(product, stars=4, decision_date=today() - timedelta(days=1200))  # 36 months are over
    db.session.commit()
    assert found("xoai cat chu") == []
    assert found("xoai cat chu", day=today() - timedelta(days=200)) == []


def test_a_withdrawn_certificate_is_removed_after_the_commit(app_ctx):
    product = make_product(name="Khô cá kìm Định Quán", stars=None)
    certificate = make_certificate(product, stars=3)
    db.session.commit()
    assert found("kho ca kim") == ["Khô cá kìm Định Quán"]
    withdraw_certificate(certificate, decision_no="12/QĐ-UBND", reason="Không duy trì tiêu chí bắt buộc")
    assert found("kho ca kim") == ["Khô cá kìm Định Quán"]     # not committed yet
    db.session.commit()
    assert found("kho ca kim") == []


def test_a_withdrawal_dated_later_takes_effect_that_day(app_ctx):
    product = make_product(name="Tiêu sọ Xuân Thọ", stars=None)
    certificate = make_certificate(product, stars=4)
    withdraw_certificate(certificate, decision_no="13/QĐ-UBND", reason="Vi phạm",
                         on=today() + timedelta(days=3))
    db.session.commit()
    assert found("tieu so") == ["Tiêu sọ Xuân Thọ"]
    assert found("tieu so", day=today() + timedelta(days=2)) == ["Tiêu sọ Xuân Thọ"]
    assert found("tieu so", day=today() + timedelta(days=3)) == []


def test_a_new_certificate_changes_the_star_level(app_ctx):
    product = make_product(name="Gà thảo mộc Phú Ngọc", stars=3, decision_date=today() - timedelta(days=300))
    db.session.commit()
    assert find("ga thao moc").facets["stars"] == {"3": 1}
    record_certificate(product, stars=5, score=95, level="central", decision_no="99/QĐ-BNN",
                       decision_date=today() - timedelta(days=1))
    db.session.commit()
    assert find("ga thao moc").facets["stars"] == {"5": 1}
    assert found("ga thao moc", min_stars=5) == ["Gà thảo mộc Phú Ngọc"]


def test_certifying_or_publishing_a_product_adds_it(app_ctx):
    waiting = make_product(name="Lan hồ điệp Trảng Bom", stars=None)
    draft = make_product(name="Mai vàng Thống Nhất", stars=4, publish=False)
    db.session.commit()
    assert found("lan ho diep") == found("mai vang") == []
    make_certificate(waiting, stars=3)
    publish_product(draft)
    db.session.commit()
    assert found("lan ho diep") == ["Lan hồ điệp Trảng Bom"]
    assert found("mai vang") == ["Mai vàng Thống Nhất"]


def test_an_unpublished_product_is_removed_after_the_commit(app_ctx):
    product = make_product(name="Nước mắm Long Thành", stars=4)
    db.session.commit()
    unpublish_product(product)
    db.session.commit()
    assert found("nuoc mam") == []


def test_renaming_reindexes_the_product_and_a_producer_change_its_products(app_ctx):
    producer = make_producer("HTX Nông nghiệp Suối Cát", former_district="xuan-loc")
    product = make_product(producer, "Bột ca cao nguyên chất", stars=5)
    db.session.commit()
    update_product(product, name="Sô-cô-la sữa Suối Cát")
    db.session.commit()
    assert found("bot ca cao") == []
    assert found("so co la sua") == ["Sô-cô-la sữa Suối Cát"]

    update_producer(producer, name="HTX Ca cao Thành Ý", former_district="cam-my")
    db.session.commit()
    assert found("thanh y") == ["Sô-cô-la sữa Suối Cát"]
    assert found("so co la", locality="cam-my") == ["Sô-cô-la sữa Suối Cát"]
    assert found("so co la", locality="xuan-loc") == []
    assert index.search_producers("thanh y") == [producer.id]
    assert index.search_producers("suoi cat") == []


def test_a_rollback_leaves_the_index_unchanged(app_ctx):
    product = make_product(name="Bánh tráng phơi sương", stars=4)
    db.session.commit()
    update_product(product, name="Bánh phồng nếp")
    make_product(name="Chuối sấy dẻo", stars=3)
    db.session.flush()
    db.session.rollback()
    assert found("banh trang") == ["Bánh tráng phơi sương"]
    assert found("banh phong") == []
    assert found("chuoi say") == []
    # What the rolled-back transaction noted is forgotten: the next commit indexes only its own changes.
    assert "search_pending" not in db.session.info


def test_a_savepoint_rollback_keeps_what_was_flushed_before_it(app_ctx):
    make_product(name="Sữa chua Long Thành", stars=4)
    db.session.flush()
    with db.session.begin_nested() as savepoint:
        make_product(name="Sữa tươi hỏng", stars=4)
        db.session.flush()
        savepoint.rollback()
    db.session.commit()
    assert found("sua chua") == ["Sữa chua Long Thành"]
    assert found("sua tuoi hong") == []


def test_with_search_disabled_commits_leave_the_index_alone_until_a_rebuild(make_app):
    app = make_app(SEARCH_ENABLED=False)
    with app.app_context():
        make_product(name="Rượu chuối hột Cẩm Mỹ", stars=4)
        make_product(name="Rượu nếp than", stars=3)
        make_product(name="Rượu chưa chứng nhận", stars=None)
        db.session.commit()
        assert found("ruou") == []
        calls = []
        assert index.rebuild(progress=lambda done, total: calls.append((done, total))) == 2
        assert calls[0] == (0, 3) and calls[-1] == (3, 3)
        assert set(found("ruou")) == {"Rượu chuối hột Cẩm Mỹ", "Rượu nếp than"}
        assert index.indexed_count() == 2


def test_rebuild_replaces_whatever_was_in_the_index(app_ctx):
    kept = make_product(name="Yến sào Nam Phú", stars=4)
    gone = make_product(name="Yến chưng đường phèn", stars=4)
    db.session.commit()
    app_ctx.config["SEARCH_ENABLED"] = False
    unpublish_product(gone)
    update_product(kept, name="Yến sào Nam Phú hộp quà")
    db.session.commit()
    # Without the hooks the index still holds the old state (names below are read from the database).
    assert found("yen chung") == ["Yến chưng đường phèn"]
    assert found("hop qua") == []
    assert index.rebuild() == 1
    assert found("yen") == ["Yến sào Nam Phú hộp quà"]
    assert found("yen chung") == []
    assert index.indexed_count() == 1


def test_remove_and_index_products_directly(catalogue):
    robusta = catalogue["robusta"]
    index.remove_products([robusta.id])
    assert "Cà phê bột Robusta" not in found("ca phe")
    index.index_products([robusta.id, catalogue["draft"].id])
    assert "Cà phê bột Robusta" in found("ca phe")
    assert "Cà phê chưa bán" not in found("ca phe")


def test_the_reindex_command_shows_progress_and_the_count(app, runner):
    with app.app_context():
        for i in range(3):
            make_product(name=f"Mật ong rừng số {i}", stars=4)
        make_product(name="Mật ong nháp", stars=4, publish=False)
        db.session.commit()
    result = runner.invoke(search_cli, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexing products" in result.output
    assert "Indexed 3 certified products in" in result.output
    with app.app_context():
        assert len(found("mat ong")) == 3


def test_the_reindex_command_on_an_empty_database(app, runner):
    result = runner.invoke(search_cli, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 0 certified products" in result.output


def test_an_index_from_another_schema_finds_nothing_until_rebuilt(app_ctx, caplog):
    from whoosh.fields import ID, Schema  # tests may look behind the adapter
    from whoosh.filedb.filestore import FileStorage

    make_product(name="Nấm linh chi", stars=4)
    db.session.commit()
    storage = FileStorage(app_ctx.config["SEARCH_INDEX_DIR"])
    storage.create_index(Schema(key=ID(stored=True), other=ID), indexname=index.PRODUCTS.name)
    with caplog.at_level(logging.ERROR):
        assert found("nam linh chi") == []
    assert "flask search reindex" in caplog.text
    with pytest.raises(index.StaleIndex):
        index.index_products([1])
    assert index.rebuild() == 1
    assert found("nam linh chi") == ["Nấm linh chi"]
