"""Keeping the indexes in step with the committed database: one product or producer at a time after each
commit (search.hooks), or everything at once (`flask search reindex`)."""
from collections.abc import Callable, Iterable

from whoosh.writing import CLEAR

from shop.core.clock import today as current_day
from shop.search import documents, store
from shop.search.schemas import PRODUCERS, PRODUCTS, producer_fields, product_fields

BATCH_SIZE = 1000


def _engine():
    from shop.extensions import db

    return db.engine


def index_products(product_ids: Iterable[int]) -> None:
    """(Re)index these products from the committed database; those that must not be found are removed."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    with store.writer(PRODUCTS) as writer, _engine().connect() as connection:
        loaded = documents.load_products(connection, ids, current_day())
        for product_id in ids:
            writer.delete_by_term("key", str(product_id))
            doc = loaded.get(product_id)
            if doc is not None:
                for values in product_fields(doc):
                    writer.add_document(**values)
        writer.commit()


def remove_products(product_ids: Iterable[int]) -> None:
    ids = sorted(set(product_ids))
    if not ids:
        return
    with store.writer(PRODUCTS) as writer:
        for product_id in ids:
            writer.delete_by_term("key", str(product_id))
        writer.commit()


def index_producers(producer_ids: Iterable[int]) -> None:
    ids = sorted(set(producer_ids))
    if not ids:
        return
    with store.writer(PRODUCERS) as writer, _engine().connect() as connection:
        loaded = documents.load_producers(connection, ids)
        for producer_id in ids:
            writer.delete_by_term("key", str(producer_id))
            doc = loaded.get(producer_id)
            if doc is not None:
                writer.add_document(**producer_fields(doc))
        writer.commit()


def apply_changes(product_ids: Iterable[int], producer_ids: Iterable[int]) -> None:
    """After a commit: reindex the changed products, and the changed producers with all their products (a
    product's document holds its producer's name and locality)."""
    producer_ids, product_ids = set(producer_ids), set(product_ids)
    if producer_ids:
        with _engine().connect() as connection:
            product_ids |= documents.product_ids_of_producers(connection, producer_ids)
    index_products(product_ids)
    index_producers(producer_ids)


def rebuild(progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild both indexes from the database; returns the number of products indexed. Searches keep using
    the previous index until the single commit at the end replaces all its segments."""
    day = current_day()
    count = 0
    with store.writer(PRODUCTS, rebuilding=True, limitmb=256) as writer, _engine().connect() as connection:
        total = len(documents.published_product_ids(connection))
        done = 0
        if progress:
            progress(0, total)
        for looked_at, docs in documents.iter_product_batches(connection, day, BATCH_SIZE):
            for doc in docs:
                for values in product_fields(doc):
                    writer.add_document(**values)
            count += len(docs)
            done += looked_at
            if progress:
                progress(done, total)
        writer.commit(mergetype=CLEAR)
    with store.writer(PRODUCERS, rebuilding=True, limitmb=128) as writer, _engine().connect() as connection:
        for doc in documents.load_producers(connection, None).values():
            if doc is not None:
                writer.add_document(**producer_fields(doc))
        writer.commit(mergetype=CLEAR)
    store.remove_old_versions()
    return count
