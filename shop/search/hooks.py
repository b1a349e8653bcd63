"""Keeps the search index in step with the database: what a transaction changed is noted at each flush and
indexed once the transaction commits; a rollback forgets it.

Services flush (they never commit), so `after_flush` is where the changed rows are known. The ids are kept
in the session's own `info` (not globally: each request or thread has its session). The index is updated in
`after_commit`, reading the committed rows through a fresh connection (the committing session may not emit
SQL at that point). Catalog, producers and certification know nothing of search.
"""
import logging
from itertools import chain

from flask import current_app, has_app_context
from sqlalchemy import event

from shop.catalog.models import Product, ProductImage
from shop.certification.models import Certificate
from shop.extensions import db
from shop.producers.models import Producer
from shop.sales_points.models import PointProduct
from shop.search import versioning

log = logging.getLogger(__name__)

PENDING = "search_pending"
_connected = False


def init_app(app) -> None:
    """Called for every app (tests make one per test); the session events are connected once per process,
    and the handlers look at whichever app is current."""
    global _connected
    if not _connected:
        event.listen(db.session, "after_flush", _note_changes)
        event.listen(db.session, "after_commit", _apply_changes)
        event.listen(db.session, "after_soft_rollback", _forget_changes)
        _connected = True


def _enabled() -> bool:
    return has_app_context() and current_app.config.get("SEARCH_ENABLED", True)


def _note_changes(session, flush_context) -> None:
    versioning.note_flush(session)
    if not _enabled():
        return
    products: set[int] = set()
    producers: set[int] = set()
    # In after_flush these still list what the flush wrote (new, changed and deleted rows).
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Product):
            products.add(obj.id)
        elif isinstance(obj, Producer):
            producers.add(obj.id)
        elif isinstance(obj, (Certificate, ProductImage, PointProduct)):
            products.add(obj.product_id)
    products.discard(None)
    producers.discard(None)
    if products or producers:
        pending = session.info.setdefault(PENDING, {"products": set(), "producers": set()})
        pending["products"] |= products
        pending["producers"] |= producers


def _apply_changes(session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: nothing is committed yet
    versioning.transaction_ended(session)
    pending = session.info.pop(PENDING, None)
    if not pending or not _enabled():
        return
    from shop.search import index

    try:
        index.apply_changes(pending["products"], pending["producers"])
    except Exception:
        # The data is committed; a search index that lags is repaired by the next change or `flask search
        # reindex`, so this must not turn a successful request into an error.
        log.exception("updating the search index failed for products %s, producers %s",
                      sorted(pending["products"]), sorted(pending["producers"]))


def _forget_changes(session, previous_transaction) -> None:
    # Only when the whole transaction is gone: rolling back a savepoint keeps what was flushed before it.
    if not session.in_transaction():
        session.info.pop(PENDING, None)
        versioning.transaction_ended(session)
