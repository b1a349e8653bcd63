"""Full-text search of products and producers with Whoosh: the one module the rest of the shop calls.

The index answers one question, which products (or producers) match a query's words on a day and how
well; the listing snapshot (search.snapshot) filters, counts facets, sorts and pages those products, as it
does the listed catalogue when there is no query. Behind this facade:

- analysis.py          words and diacritics folding, the same when indexing and searching
- schemas.py           the two indexes' fields and the document of a product or producer
- store.py             the index directory: opening, creating, the one writer at a time
- indexing.py          writing documents after each commit, and the full rebuild
- reading.py           this process's view of an index generation: segments, vocabulary, BM25 postings
- querying.py          a query's words to the matching ids and their scores
- whoosh_internals.py  the little read or set below Whoosh's public API, pinned to one Whoosh version
"""
from datetime import date

from shop.search import querying, snapshot
from shop.search.analysis import parse_words
from shop.search.filters import ProductFilters
from shop.search.indexing import apply_changes, index_producers, index_products, rebuild, remove_products
from shop.search.querying import Ranking
from shop.search.schemas import PRODUCERS, PRODUCTS, IndexSpec
from shop.search.snapshot import Selection as SearchHits
from shop.search.store import LockError, StaleIndex
from shop.search.store import writer as _writer  # noqa: F401 - tests hold the write lock with it

__all__ = ["PRODUCERS", "PRODUCTS", "LockError", "Ranking", "SearchHits", "StaleIndex", "apply_changes",
           "index_producers", "index_products", "indexed_count", "parse_words", "rank_products", "rebuild",
           "remove_products", "search_producers", "search_products", "suggest"]


def rank_products(text: str, day: date) -> Ranking:
    """Ids and scores of the products certified on `day` (as indexed) matching every word of `text` (none
    for no words)."""
    return querying.rank(PRODUCTS, parse_words(text), day)


def search_products(filters: ProductFilters, day: date, with_facets: bool = True) -> SearchHits:
    """The products `rank_products` finds for `filters.q`, filtered, sorted and paged by the listing
    snapshot, with the facet counts."""
    return snapshot.select(snapshot.get_snapshot(day), filters, with_facets=with_facets,
                           ranking=rank_products(filters.q, day))


def suggest(prefix: str, day: date, limit: int = 8) -> list[tuple[str, str]]:
    """As-you-type: (slug, name) of products certified on `day` whose name has every word, the last as a
    prefix."""
    words = parse_words(prefix)
    if not words or limit < 1:
        return []
    ranking = querying.rank(PRODUCTS, words, day, text_fields=(("name", 1.0),))
    best = snapshot.select(snapshot.get_snapshot(day), ProductFilters(sort="relevance", per_page=limit),
                           with_facets=False, ranking=ranking)
    return _slugs_and_names(best.ids)


def _slugs_and_names(ids: list[int]) -> list[tuple[str, str]]:
    import sqlalchemy as sa

    from shop.catalog.models import Product
    from shop.extensions import db

    if not ids:
        return []
    rows = {pid: (slug, name) for pid, slug, name in db.session.execute(
        sa.select(Product.id, Product.slug, Product.name).where(Product.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def search_producers(text: str, limit: int = 20) -> list[int]:
    """Ids of producers matching every word of `text`, best first."""
    if limit < 1:
        return []
    return querying.rank(PRODUCERS, parse_words(text)).best(limit)


def indexed_count(spec: IndexSpec = PRODUCTS) -> int:
    """Documents (not deleted) in an index."""
    return querying.indexed_count(spec)
