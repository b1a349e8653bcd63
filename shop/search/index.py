"""Full-text search of products and producers with Whoosh. The only module that imports `whoosh`.

Two indexes live in SEARCH_INDEX_DIR: products (one document per product and certified period) and
producers. Whoosh analyses and stores them: segments, term dictionary, postings, column values, deletions,
generations and the write lock. How a query is answered:

- Text is split into words and folded (marks removed, đ -> d, NFC or NFD alike) by the same analyzer when
  indexing and searching, so "ca phe", "cà phê" and NFD input all meet. A second field keeps the product
  name with its marks, so a query typed with marks ranks that exact spelling first.
- Every query word must match (AND). A word matches its own term; its one-typo variants when it has 4+
  letters; and, for the last word, the words it begins (as-you-type). Variants and completions come from the
  index's own vocabulary, so a query never expands to terms that do not exist. A document takes, per word,
  the score of its best kind of match (own word > completion > typo), so exact matches rank first.
- Scores are BM25 over each term's postings. Whoosh's own matcher tree is pure Python and costs microseconds
  per posting per level, too slow for 20,000 products; so postings are read from Whoosh's blocks once per
  segment, kept, and combined with dict and set operations (which run in C).
- Certificate dates, filters, facet counts, sorting and paging use the documents' column values (Whoosh
  COLUMN fields), loaded once per segment, and sets of document numbers, so one pass gives the page, the
  total and every facet.

Several processes (server workers) share the directory: one writer at a time (Whoosh's fcntl file lock,
waited for with backoff); each process keeps one searcher per index and opens a new one when some process
has committed a new generation.
"""
import bisect
import heapq
import logging
import math
import os
import re
import threading
import time
import unicodedata
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from flask import current_app
from whoosh import columns, fields
from whoosh.analysis import LowercaseFilter, RegexTokenizer
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.matching.wrappers import WrappingMatcher
from whoosh.writing import CLEAR, SegmentWriter

from shop.core.clock import today as current_day
from shop.core.text import fold
from shop.search import documents
from shop.search.filters import PRICE_BUCKETS, ProductFilters

log = logging.getLogger(__name__)

FACET_NAMES = ("stars", "group", "locality", "producer", "price")
MAX_WORDS = 12            # a 1,000-character query is cut to its first words, not expanded word by word
MAX_WORD_LENGTH = 40
FUZZY_MIN_LENGTH = 4      # one typo is tolerated in words of 4 letters or more
MAX_COMPLETIONS = 40      # as-you-type: the most frequent words the last word begins
EXACT, PREFIX, FUZZY = 1.0, 0.5, 0.3      # weight of a word's own term, its completions, its one-typo variants
MARKS_BOOST = 0.5         # bonus when the product name has the query word with the same marks
K1, B = 1.2, 0.75         # BM25
LOCK_TIMEOUT = 30.0       # seconds a writer waits for another process's writer
BATCH_SIZE = 1000
RAW_POSTINGS_CACHE = 1_000_000  # postings kept per segment, as read (8 bytes each)
POSTINGS_CACHE = 200_000  # scored postings kept per index generation (about 25 MB at most)


# --- analysis ------------------------------------------------------------------------------------------

class NfcTokenizer(RegexTokenizer):
    """Words of the NFC form of the text: in NFD input (macOS, some keyboards) the combining marks are not
    word characters, so "Cà" would otherwise split into "Ca" and nothing."""

    def __call__(self, value, **kwargs):
        return super().__call__(unicodedata.normalize("NFC", value), **kwargs)


class FoldingTokenizer(RegexTokenizer):
    """Words of the folded text: 'Cà phê Đồng Nai' -> ca, phe, dong, nai (shop.core.text.fold: lower case, no
    marks, đ -> d; NFC or NFD input). Folding the whole text at once is much faster than word by word."""

    def __call__(self, value, **kwargs):
        return super().__call__(fold(value), **kwargs)


WORD = r"\w+"
_WORD = re.compile(WORD)
FOLDED = FoldingTokenizer(WORD)
MARKED = NfcTokenizer(WORD) | LowercaseFilter()


def _words(analyzer, text: str) -> list[str]:
    return [token.text for token in analyzer(text)]


def _word_count(text: str) -> int:
    return len(_WORD.findall(unicodedata.normalize("NFC", text)))


# --- schemas ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexSpec:
    name: str                                     # with a version: a new schema gets a new index
    text_fields: tuple[tuple[str, float], ...]    # (field, weight) searched by every query word
    expanded: tuple[str, ...]                     # fields where typos and completions are looked for too
    int_columns: tuple[str, ...]
    text_columns: tuple[str, ...]

    def schema(self) -> fields.Schema:
        schema = fields.Schema(key=fields.ID(stored=True))
        for name, _weight in self.text_fields:
            schema.add(name, fields.TEXT(analyzer=FOLDED, phrase=False))
            schema.add(f"{name}_len", fields.COLUMN(columns.NumericColumn("H")))
        schema.add("marks", fields.TEXT(analyzer=MARKED, phrase=False))
        for name in self.int_columns:
            schema.add(name, fields.COLUMN(columns.NumericColumn("q" if name == "published" else "i")))
        for name in self.text_columns:
            schema.add(name, fields.COLUMN(columns.RefBytesColumn()))  # few distinct values
        return schema

    @property
    def length_columns(self) -> tuple[str, ...]:
        return tuple(f"{name}_len" for name, _ in self.text_fields)


# Typos and completions are looked for in names only: in descriptions they cost much and find mostly noise.
PRODUCTS = IndexSpec("products_v2", text_fields=(("name", 3.0), ("maker", 1.0), ("body", 0.6)),
                     expanded=("name", "maker"),
                     int_columns=("pid", "stars", "price", "published", "valid_from", "valid_to"),
                     text_columns=("group", "locality", "producer"))
PRODUCERS = IndexSpec("producers_v2", text_fields=(("name", 3.0), ("body", 0.6)), expanded=("name",),
                      int_columns=("pid",), text_columns=())
SPECS = (PRODUCTS, PRODUCERS)


def _with_lengths(spec: IndexSpec, values: dict) -> dict:
    for name, _weight in spec.text_fields:
        values[f"{name}_len"] = min(_word_count(values[name]), 65_535)
    return values


def _product_fields(doc: documents.ProductDocument) -> Iterable[dict]:
    """One index document per certified period: a search on day D sees the one whose period holds D."""
    for window in doc.windows:
        yield _with_lengths(PRODUCTS, {
            "key": str(doc.id), "pid": doc.id, "name": doc.name, "marks": doc.name, "maker": doc.maker,
            "body": doc.body, "stars": window.stars, "price": doc.price, "published": doc.published,
            "valid_from": window.start.toordinal(), "valid_to": window.end.toordinal(),
            "group": doc.group.encode(), "locality": doc.locality.encode(), "producer": doc.producer.encode()})


def _producer_fields(doc: documents.ProducerDocument) -> dict:
    return _with_lengths(PRODUCERS, {"key": str(doc.id), "pid": doc.id, "name": doc.name, "marks": doc.name,
                                     "body": doc.body})


# --- opening, locking --------------------------------------------------------------------------------------

def _directory() -> str:
    return current_app.config["SEARCH_INDEX_DIR"]


def _acquire(lock, timeout: float = LOCK_TIMEOUT) -> None:
    """Wait for Whoosh's write lock (fcntl on a file: it holds across processes and between threads)."""
    deadline, delay = time.monotonic() + timeout, 0.005
    while not lock.acquire():
        if time.monotonic() >= deadline:
            raise LockError(f"the search index has been locked by another writer for {timeout:g} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _open_index(directory: str, spec: IndexSpec):
    os.makedirs(directory, exist_ok=True)
    storage = FileStorage(directory)
    if not storage.index_exists(spec.name):
        # Created under the write lock: creating over an index another process just made would wipe it.
        lock = storage.lock(spec.name + "_WRITELOCK")
        _acquire(lock)
        try:
            if not storage.index_exists(spec.name):
                storage.create_index(spec.schema(), indexname=spec.name)
        finally:
            lock.release()
    return storage.open_index(spec.name)


def _schema_is_current(schema, spec: IndexSpec) -> bool:
    return sorted(schema.names()) == sorted(spec.schema().names())


class StaleIndex(RuntimeError):
    """The index on disk was built with other fields than this code's: `flask search reindex` rebuilds it."""


@contextmanager
def _writer(spec: IndexSpec, *, rebuilding: bool = False, **options):
    """One writer at a time across processes. Callers read the database while they hold it, so whichever
    writer comes last writes the latest committed state."""
    ix = _open_index(_directory(), spec)
    lock = ix.lock("WRITELOCK")
    _acquire(lock, current_app.config.get("SEARCH_LOCK_TIMEOUT", LOCK_TIMEOUT))
    try:
        writer = SegmentWriter(ix, _lk=False, **options)
        if rebuilding:
            writer.schema = spec.schema()  # the commit (which replaces every segment) records this schema
        elif not _schema_is_current(writer.schema, spec):
            writer.cancel()
            raise StaleIndex(f"the {spec.name} index has other fields: run `flask search reindex`")
        try:
            yield writer
        finally:
            if not writer.is_closed:  # not committed: an error, or nothing to write
                writer.cancel()
    finally:
        lock.release()


# --- reading: segments, views, postings ----------------------------------------------------------------------

class _Segment:
    """What is read once from a segment: its column values, its vocabulary with document frequencies, and
    the postings of the terms searched so far. Segments never change; deletions are kept beside them (see
    _View.deleted), so all this stays valid across index generations."""

    def __init__(self, reader, spec: IndexSpec):
        count = reader.doc_count_all()
        self.count = count
        self.columns: dict[str, list] = {}
        for name in (*spec.int_columns, *spec.length_columns):
            self.columns[name] = list(reader.column_reader(name)) if reader.has_column(name) else [0] * count
        for name in spec.text_columns:
            self.columns[name] = ([value.decode() for value in reader.column_reader(name)]
                                  if reader.has_column(name) else [""] * count)
        self.vocabulary: dict[str, dict[str, int]] = {
            name: {text.decode(): info.doc_frequency() for text, info in reader.iter_field(name)}
            for name in (*(f for f, _ in spec.text_fields), "marks")}
        self._postings: OrderedDict[tuple[str, str], tuple[array, array]] = OrderedDict()
        self._postings_size = 0

    def postings(self, reader, field: str, term: str) -> tuple[array, array]:
        """(document numbers, term frequencies) of a term here, deleted documents included."""
        key = (field, term)
        found = self._postings.get(key)
        if found is not None:
            self._postings.move_to_end(key)
            return found
        found = _read_postings(reader, field, term) if term in self.vocabulary[field] else (array("i"),
                                                                                            array("f"))
        self._postings[key] = found
        self._postings_size += len(found[0])
        while self._postings_size > RAW_POSTINGS_CACHE and len(self._postings) > 1:
            _, (ids, _) = self._postings.popitem(last=False)
            self._postings_size -= len(ids)
        return found


def _read_postings(reader, field: str, term: str) -> tuple[array, array]:
    """Whole blocks are taken from Whoosh's W3 posting reader when it has them (a hundred times faster than
    stepping its matcher posting by posting); any other reader is stepped through its public interface."""
    matcher = reader.postings(field, term)
    while isinstance(matcher, WrappingMatcher):  # the deletion filter: the caller handles deletions
        matcher = matcher.child
    ids, weights = array("i"), array("f")
    matcher.reset()
    if all(hasattr(matcher, a) for a in ("_read_ids", "_read_weights", "_goto", "_lastblock", "_nextoffset")):
        while True:
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            if matcher._lastblock:
                break
            matcher._goto(matcher._nextoffset)
        return ids, weights
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return ids, weights


class _Vocabulary:
    def __init__(self, frequencies: dict[str, int]):
        self.frequency = frequencies
        self.sorted = sorted(frequencies)

    def completions(self, prefix: str, limit: int) -> list[str]:
        """Indexed words that begin with `prefix` (not itself), the most frequent first when there are many."""
        start = bisect.bisect_left(self.sorted, prefix)
        stop = bisect.bisect_left(self.sorted, prefix + "\U0010ffff", lo=start)
        found = [term for term in self.sorted[start:stop] if term != prefix]
        if len(found) > limit:
            found = heapq.nlargest(limit, found, key=self.frequency.__getitem__)
        return found


class _View:
    """One generation of an index as this process searches it: columns by global document number,
    vocabulary, and caches that live as long as the generation."""

    def __init__(self, searcher, spec: IndexSpec, segment_cache: dict[str, _Segment]):
        self.searcher = searcher
        self.spec = spec
        self.leaves: list[tuple[object, int, _Segment]] = []
        segments: list[_Segment] = []
        self.deleted: set[int] = set()
        live_keys = set()
        leaves = searcher.leaf_searchers()
        if not _schema_is_current(searcher.schema, spec):
            log.error("The %s search index has other fields than this code: run `flask search reindex`.",
                      spec.name)
            leaves = []  # searches find nothing rather than fail until it is rebuilt
        for leaf, offset in leaves:
            reader = leaf.reader()
            segment_info = reader.segment() if reader.doc_count_all() else None
            if segment_info is None:
                continue  # an empty index
            key = segment_info.segment_id()
            live_keys.add(key)
            if key not in segment_cache:
                segment_cache[key] = _Segment(reader, spec)
            segments.append(segment_cache[key])
            self.leaves.append((reader, offset, segment_cache[key]))
            if segment_info.has_deletions():
                self.deleted.update(offset + d for d in segment_info.deleted_docs())
        for key in set(segment_cache) - live_keys:
            del segment_cache[key]
        self.count = sum(segment.count for segment in segments)
        self.columns: dict[str, list] = {}
        for name in (*spec.int_columns, *spec.length_columns, *spec.text_columns):
            merged: list = []
            for segment in segments:
                merged.extend(segment.columns[name])
            self.columns[name] = merged
        self.vocabulary: dict[str, _Vocabulary] = {}
        for name in (*(f for f, _ in spec.text_fields), "marks"):
            if len(segments) == 1:
                frequencies = segments[0].vocabulary[name]
            else:
                frequencies = Counter()
                for segment in segments:
                    frequencies.update(segment.vocabulary[name])
            self.vocabulary[name] = _Vocabulary(dict(frequencies))
        self.alphabet = "".join(sorted({ch for f in spec.expanded for term in self.vocabulary[f].frequency
                                        for ch in term}))
        self.average_length = {name: (sum(self.columns[f"{name}_len"]) / self.count if self.count else 1.0) or 1.0
                               for name, _ in spec.text_fields}
        self._postings: OrderedDict[tuple[str, str], dict[int, float]] = OrderedDict()
        self._postings_size = 0
        self._norms: dict[str, list[float]] = {}
        self._saturations: dict[str, list[float]] = {}
        self._live: dict[int, frozenset[int]] = {}
        self._by_value: dict[str, dict] = {}
        self._ranks: dict[str, list[int]] = {}
        self._by_price: tuple[list[int], list[int]] | None = None
        self._price_buckets: list[str] | None = None

    def postings(self, field: str, term: str) -> dict[int, float]:
        """Global document number -> BM25 score (before field and match-kind weights) for a term."""
        key = (field, term)
        cached = self._postings.get(key)
        if cached is not None:
            self._postings.move_to_end(key)
            return cached
        length_field = "name" if field == "marks" else field
        saturation = self._saturation(length_field)
        frequency = self.vocabulary[field].frequency.get(term, 0)
        idf = math.log(1 + (self.count - frequency + 0.5) / (frequency + 0.5))
        scores: dict[int, float] = {}
        for reader, offset, segment in self.leaves:
            local_ids, weights = segment.postings(reader, field, term)
            ids = list(map(offset.__add__, local_ids)) if offset else local_ids
            if weights.count(1.0) == len(weights):  # the usual case: the word once in the field
                scores.update(zip(ids, map(idf.__mul__, map(saturation.__getitem__, ids))))
            else:
                norms = self._norms[length_field]
                scores.update((d, idf * tf * (K1 + 1) / (tf + norms[d])) for d, tf in zip(ids, weights))
        self._postings[key] = scores
        self._postings_size += len(scores)
        while self._postings_size > POSTINGS_CACHE and len(self._postings) > 1:
            _, old = self._postings.popitem(last=False)
            self._postings_size -= len(old)
        return scores

    def _saturation(self, field: str) -> list[float]:
        """BM25's term-frequency part for a frequency of 1, per document (it depends on the field's length)."""
        found = self._saturations.get(field)
        if found is None:
            average = self.average_length[field]
            norms = self._norms[field] = [K1 * (1 - B + B * length / average)
                                          for length in self.columns[f"{field}_len"]]
            found = self._saturations[field] = [(K1 + 1) / (1 + norm) for norm in norms]
        return found

    def live(self, day: date) -> frozenset[int]:
        """Documents not deleted whose certified period holds `day`."""
        ordinal = day.toordinal()
        found = self._live.get(ordinal)
        if found is None:
            start, end = self.columns.get("valid_from"), self.columns.get("valid_to")
            if start is None:
                found = frozenset(range(self.count))
            else:
                found = frozenset(d for d in range(self.count) if start[d] <= ordinal <= end[d])
            found -= self.deleted
            if len(self._live) > 3:
                self._live.clear()
            self._live[ordinal] = found
        return found

    def _documents_by_value(self, column: str) -> dict:
        table = self._by_value.get(column)
        if table is None:
            table = {}
            for d, value in enumerate(self.columns[column]):
                table.setdefault(value, set()).add(d)
            self._by_value[column] = table
        return table

    def with_value(self, column: str, value) -> set[int]:
        """Documents whose column holds `value` (a set per distinct value, built on first use)."""
        return self._documents_by_value(column).get(value, set())

    def at_least(self, column: str, low: int) -> set[int]:
        result: set[int] = set()
        for value, docs in self._documents_by_value(column).items():
            if value >= low:
                result |= docs
        return result

    def price_buckets(self) -> list[str]:
        """The price facet's bucket of every document."""
        if self._price_buckets is None:
            prices = self.columns["price"]
            bucket_of = {price: _price_bucket(price) for price in set(prices)}  # few distinct prices
            self._price_buckets = list(map(bucket_of.__getitem__, prices))
        return self._price_buckets

    def priced(self, low: int | None, high: int | None) -> set[int]:
        if self._by_price is None:
            order = sorted(range(self.count), key=self.columns["price"].__getitem__)
            self._by_price = ([self.columns["price"][d] for d in order], order)
        prices, order = self._by_price
        start = bisect.bisect_left(prices, low) if low is not None else 0
        stop = bisect.bisect_right(prices, high) if high is not None else len(prices)
        return set(order[start:stop])

    def rank(self, sort: str) -> list[int]:
        """Position of every document in a fixed sort order, so a page is the n smallest ranks."""
        ranks = self._ranks.get(sort)
        if ranks is None:
            c = self.columns
            # Stable sorts, last key first (sorts keyed by a list's __getitem__ run in C).
            steps = {
                "price_asc": (("pid", False), ("price", False)),
                "price_desc": (("pid", False), ("price", True)),
                "stars": (("pid", False), ("published", True), ("stars", True)),
                "newest": (("pid", True), ("published", True)),
                "tiebreak": (("pid", False), ("stars", True)) if "stars" in c else (("pid", False),),
            }[sort]
            order = list(range(self.count))
            for column, descending in steps:
                order.sort(key=c[column].__getitem__, reverse=descending)
            ranks = [0] * self.count
            for position, d in enumerate(order):
                ranks[d] = position
            self._ranks[sort] = ranks
        return ranks


class _Slot:
    def __init__(self):
        self.lock = threading.RLock()
        self.view: _View | None = None
        self.segments: dict[str, _Segment] = {}


_slots: dict[tuple[int, str, str], _Slot] = {}
_slots_lock = threading.Lock()


def _slot(spec: IndexSpec) -> _Slot:
    # The process id is part of the key: a searcher opened before a fork must not be shared by two workers.
    key = (os.getpid(), os.path.abspath(_directory()), spec.name)
    with _slots_lock:
        slot = _slots.get(key)
        if slot is None:
            for other in [k for k in _slots if k[0] != key[0]]:
                del _slots[other]
            slot = _slots[key] = _Slot()
        return slot


@contextmanager
def _reading(spec: IndexSpec):
    """The current view of an index for this process, refreshed when some process committed since."""
    slot = _slot(spec)
    with slot.lock:  # Whoosh readers share file handles: one search at a time per process and index
        view = slot.view
        if view is not None:
            try:
                current = view.searcher.up_to_date()
            except OSError:
                current = False
            if not current:
                # Not Searcher.refresh(): it reuses readers by segment id, with their old deletions (a deleted
                # document would come back). A new searcher is cheap: segment data is cached by segment id.
                view.searcher.close()
                view = None
        if view is None:
            view = _View(_open_index(_directory(), spec).searcher(), spec, slot.segments)
        slot.view = view
        yield view


# --- matching -------------------------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _one_typo(word: str, alphabet: str) -> frozenset[str]:
    """Every string one edit away: a letter dropped, two swapped, one replaced or one added."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    variants = {a + b[1:] for a, b in splits if b}
    variants |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    variants |= {a + c + b[1:] for a, b in splits if b for c in alphabet}
    variants |= {a + c + b for a, b in splits for c in alphabet}
    variants.discard(word)
    return frozenset(variants)


@dataclass(frozen=True)
class QueryWord:
    folded: str
    marked: str      # lower case, marks kept
    last: bool


def parse_words(text: str) -> list[QueryWord]:
    """The query's words (at most MAX_WORDS); none for a query of symbols only."""
    text = (text or "")[:1000]
    folded = [w[:MAX_WORD_LENGTH] for w in _words(FOLDED, text)][:MAX_WORDS]
    marked = [w[:MAX_WORD_LENGTH] for w in _words(MARKED, text)][:MAX_WORDS]
    return [QueryWord(f, m, i == len(folded) - 1) for i, (f, m) in enumerate(zip(folded, marked))]


def _word_terms(view: _View, word: QueryWord, text_fields) -> list[tuple[float, float, str, str]]:
    """The terms a query word matches: (kind weight, field weight, field, term), weakest first."""
    typos = _one_typo(word.folded, view.alphabet) if len(word.folded) >= FUZZY_MIN_LENGTH else frozenset()
    terms: list[tuple[float, float, str, str]] = []
    for name, weight in text_fields:
        frequency = view.vocabulary[name].frequency
        if word.folded in frequency:
            terms.append((EXACT, weight, name, word.folded))
        if name not in view.spec.expanded:
            continue
        terms += [(FUZZY, weight, name, variant) for variant in typos if variant in frequency]
        if word.last:
            terms += [(PREFIX, weight, name, completion)
                      for completion in view.vocabulary[name].completions(word.folded, MAX_COMPLETIONS)]
    terms.sort(key=lambda t: (t[0], t[1]))
    return terms


def _word_scores(view: _View, word: QueryWord, terms, candidates) -> dict[int, float]:
    """Score of each document (among `candidates`, if given) for one word: that of its best kind of match,
    then of its best field. Terms come weakest first, and writing a dict keeps the last value written."""
    scores: dict[int, float] = {}
    for kind, weight, name, term in terms:
        posting = view.postings(name, term)
        factor = kind * weight
        if candidates is None:
            scores.update(zip(posting, map(factor.__mul__, posting.values())))
        else:
            for d in candidates & posting.keys():
                scores[d] = factor * posting[d]
    if scores and word.marked != word.folded and word.marked in view.vocabulary["marks"].frequency:
        posting = view.postings("marks", word.marked)
        for d in scores.keys() & posting.keys():
            scores[d] += MARKS_BOOST * posting[d]
    return scores


def _match(view: _View, words: list[QueryWord], text_fields) -> dict[int, float]:
    """Documents matching every word, with the sum of their word scores. The rarest word is scored first;
    the others only for the documents still in the running."""
    plans = []
    for word in words:
        terms = _word_terms(view, word, text_fields)
        if not terms:
            return {}  # a word found nowhere: no document has every word
        size = sum(view.vocabulary[name].frequency[term] for _, _, name, term in terms)
        plans.append((size, word, terms))
    plans.sort(key=lambda plan: plan[0])
    total: dict[int, float] | None = None
    for _size, word, terms in plans:
        scores = _word_scores(view, word, terms, None if total is None else total.keys())
        total = scores if total is None else {d: total[d] + s for d, s in scores.items()}
        if not total:
            return {}
    return total or {}


def _best(view: _View, scores: dict[int, float], docs, count: int) -> list[int]:
    """The `count` best documents by score, ties broken by stars then id."""
    if count <= 0 or not docs:
        return []
    top = heapq.nlargest(count, docs, key=scores.__getitem__)
    cutoff = scores[top[-1]]
    tied = [d for d in docs if scores[d] >= cutoff] if len(top) == count else top
    tiebreak = view.rank("tiebreak")
    tied.sort(key=lambda d: (-scores[d], tiebreak[d]))
    return tied[:count]


# --- product search --------------------------------------------------------------------------------------------

@dataclass
class SearchHits:
    ids: list[int]                       # product ids of the requested page, in order
    total: int
    facets: dict[str, dict[str, int]]    # facet -> {key: count}, as the SQL listing counts them


def _price_bucket(price: int) -> str:
    for key, low, high in PRICE_BUCKETS:
        if high is not None and low <= price < high:
            return key
    return PRICE_BUCKETS[-1][0]


def search_products(filters: ProductFilters, day: date, with_facets: bool = True) -> SearchHits:
    """Products certified on `day` matching `filters.q`, filtered, sorted and paged, with the facet counts
    (each facet counted without its own filter, as the SQL listing does)."""
    empty = SearchHits([], 0, {name: {} for name in FACET_NAMES} if with_facets else {})
    words = parse_words(filters.q)
    if not words:
        return empty
    with _reading(PRODUCTS) as view:
        scores = _match(view, words, PRODUCTS.text_fields)
        if not scores:
            return empty
        matched = view.live(day).intersection(scores)
        return _page_and_facets(view, scores, matched, filters, with_facets)


def _page_and_facets(view: _View, scores: dict[int, float], matched: set[int], filters: ProductFilters,
                     with_facets: bool) -> SearchHits:
    c = view.columns
    # The documents passing each active filter.
    passing: dict[str, set[int]] = {}
    if filters.min_stars:
        passing["stars"] = view.at_least("stars", filters.min_stars)
    if filters.group:
        passing["group"] = view.with_value("group", filters.group)
    if filters.locality:
        passing["locality"] = view.with_value("locality", filters.locality)
    if filters.producer:
        passing["producer"] = view.with_value("producer", filters.producer)
    if filters.min_price is not None or filters.max_price is not None:
        passing["price"] = view.priced(filters.min_price, filters.max_price)

    def restricted(without: str | None = None) -> set[int]:
        docs = matched
        for name, allowed in sorted(passing.items(), key=lambda item: len(item[1])):
            if name != without:
                docs = docs & allowed
        return docs

    hits = restricted()
    facets: dict[str, dict[str, int]] = {}
    if with_facets:
        columns_of = {"stars": c["stars"], "group": c["group"], "locality": c["locality"],
                      "producer": c["producer"], "price": view.price_buckets()}
        for name in FACET_NAMES:
            docs = restricted(name) if name in passing else hits
            counts = Counter(map(columns_of[name].__getitem__, docs))
            facets[name] = {str(key): n for key, n in counts.items() if key != ""}

    start, stop = (filters.page - 1) * filters.per_page, filters.page * filters.per_page
    sort = filters.effective_sort
    if start >= len(hits):
        page = []
    elif sort == "relevance":
        page = _best(view, scores, hits, stop)[start:stop]
    else:
        page = heapq.nsmallest(stop, hits, key=view.rank(sort).__getitem__)[start:stop]
    return SearchHits([c["pid"][d] for d in page], len(hits), facets)


def suggest(prefix: str, day: date, limit: int = 8) -> list[tuple[str, str]]:
    """As-you-type: (slug, name) of certified products whose name has every word, the last as a prefix."""
    words = parse_words(prefix)
    if not words or limit < 1:
        return []
    with _reading(PRODUCTS) as view:
        scores = _match(view, words, (("name", 1.0),))
        matched = view.live(day).intersection(scores)
        ids = [view.columns["pid"][d] for d in _best(view, scores, matched, limit)]
    return _slugs_and_names(ids)


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
    words = parse_words(text)
    if not words or limit < 1:
        return []
    with _reading(PRODUCERS) as view:
        scores = _match(view, words, PRODUCERS.text_fields)
        matched = set(scores) - view.deleted
        return [view.columns["pid"][d] for d in _best(view, scores, matched, limit)]


# --- keeping the index in step ---------------------------------------------------------------------------------

def _engine():
    from shop.extensions import db

    return db.engine


def index_products(product_ids: Iterable[int]) -> None:
    """(Re)index these products from the committed database; those that must not be found are removed."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    with _writer(PRODUCTS) as writer, _engine().connect() as connection:
        loaded = documents.load_products(connection, ids, current_day())
        for product_id in ids:
            writer.delete_by_term("key", str(product_id))
            doc = loaded.get(product_id)
            if doc is not None:
                for values in _product_fields(doc):
                    writer.add_document(**values)
        writer.commit()


def remove_products(product_ids: Iterable[int]) -> None:
    ids = sorted(set(product_ids))
    if not ids:
        return
    with _writer(PRODUCTS) as writer:
        for product_id in ids:
            writer.delete_by_term("key", str(product_id))
        writer.commit()


def index_producers(producer_ids: Iterable[int]) -> None:
    ids = sorted(set(producer_ids))
    if not ids:
        return
    with _writer(PRODUCERS) as writer, _engine().connect() as connection:
        loaded = documents.load_producers(connection, ids)
        for producer_id in ids:
            writer.delete_by_term("key", str(producer_id))
            doc = loaded.get(producer_id)
            if doc is not None:
                writer.add_document(**_producer_fields(doc))
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
    with _writer(PRODUCTS, rebuilding=True, limitmb=256) as writer, _engine().connect() as connection:
        total = len(documents.published_product_ids(connection))
        done = 0
        if progress:
            progress(0, total)
        for looked_at, docs in documents.iter_product_batches(connection, day, BATCH_SIZE):
            for doc in docs:
                for values in _product_fields(doc):
                    writer.add_document(**values)
            count += len(docs)
            done += looked_at
            if progress:
                progress(done, total)
        writer.commit(mergetype=CLEAR)
    with _writer(PRODUCERS, rebuilding=True, limitmb=128) as writer, _engine().connect() as connection:
        for doc in documents.load_producers(connection, None).values():
            if doc is not None:
                writer.add_document(**_producer_fields(doc))
        writer.commit(mergetype=CLEAR)
    _remove_old_versions()
    return count


_VERSIONED = re.compile(r"^_?(products|producers)_v(\d+)[_.]")


def _remove_old_versions() -> None:
    """Files of indexes built by an earlier schema version."""
    current = {spec.name for spec in SPECS}
    directory = _directory()
    for filename in os.listdir(directory):
        match = _VERSIONED.match(filename)
        if match and f"{match.group(1)}_v{match.group(2)}" not in current:
            try:
                os.remove(os.path.join(directory, filename))
            except OSError:
                pass


def indexed_count(spec: IndexSpec = PRODUCTS) -> int:
    """Documents (not deleted) in an index."""
    with _reading(spec) as view:
        return view.count - len(view.deleted)
