"""An index as this process searches it: one view per index generation, refreshed when some process has
committed a new one, and what is read from each segment once (lengths, ids, vocabulary, postings).

Scores are BM25 over each term's postings. Whoosh's own matcher tree is pure Python and costs microseconds
per posting per level, too slow for 20,000 products; so postings are read from Whoosh's blocks once per
segment, kept, and combined with dict and set operations (which run in C)."""
import bisect
import heapq
import logging
import math
import os
import threading
from array import array
from collections import Counter, OrderedDict
from contextlib import contextmanager
from datetime import date

import numpy as np

from shop.search import store, whoosh_internals
from shop.search.schemas import IndexSpec

log = logging.getLogger(__name__)

K1, B = 1.2, 0.75         # BM25
RAW_POSTINGS_CACHE = 1_000_000  # postings kept per segment, as read (8 bytes each)
POSTINGS_CACHE = 200_000  # scored postings kept per index generation (about 25 MB at most)


class Segment:
    """What is read once from a segment: its column values, its vocabulary with document frequencies, and
    the postings of the terms searched so far. Segments never change; deletions are kept beside them (see
    View.deleted), so all this stays valid across index generations."""

    def __init__(self, reader, spec: IndexSpec):
        count = reader.doc_count_all()
        self.count = count
        self.columns: dict[str, list] = {
            name: list(reader.column_reader(name)) if reader.has_column(name) else [0] * count
            for name in ("pid", *spec.period_columns, *spec.length_columns)}
        self.vocabulary: dict[str, dict[str, int]] = {
            name: {text.decode(): info.doc_frequency() for text, info in reader.iter_field(name)}
            for name in spec.searched_fields}
        self._postings: OrderedDict[tuple[str, str], tuple[array, array]] = OrderedDict()
        self._postings_size = 0

    def postings(self, reader, field: str, term: str) -> tuple[array, array]:
        """(document numbers, term frequencies) of a term here, deleted documents included."""
        key = (field, term)
        found = self._postings.get(key)
        if found is not None:
            self._postings.move_to_end(key)
            return found
        found = (whoosh_internals.read_postings(reader, field, term) if term in self.vocabulary[field]
                 else (array("i"), array("f")))
        self._postings[key] = found
        self._postings_size += len(found[0])
        while self._postings_size > RAW_POSTINGS_CACHE and len(self._postings) > 1:
            _, (ids, _) = self._postings.popitem(last=False)
            self._postings_size -= len(ids)
        return found


class Vocabulary:
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


class View:
    """One generation of an index: ids, periods and lengths by global document number, which documents are
    deleted, the vocabulary, and BM25 postings cached as long as the generation."""

    def __init__(self, searcher, spec: IndexSpec, segment_cache: dict[str, Segment]):
        self.searcher = searcher
        self.spec = spec
        self.leaves: list[tuple[object, int, Segment]] = []
        segments: list[Segment] = []
        self.deleted: set[int] = set()
        live_keys = set()
        leaves = searcher.leaf_searchers()
        if not store.schema_is_current(searcher.schema, spec):
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
                segment_cache[key] = Segment(reader, spec)
            segments.append(segment_cache[key])
            self.leaves.append((reader, offset, segment_cache[key]))
            if segment_info.has_deletions():
                self.deleted.update(offset + d for d in segment_info.deleted_docs())
        for key in set(segment_cache) - live_keys:
            del segment_cache[key]
        self.count = sum(segment.count for segment in segments)
        columns: dict[str, list] = {}
        for name in ("pid", *spec.period_columns, *spec.length_columns):
            merged: list = []
            for segment in segments:
                merged.extend(segment.columns[name])
            columns[name] = merged
        self.ids = np.array(columns["pid"], dtype=np.int64)   # the product (or producer) id of each document
        self.alive = np.ones(self.count, dtype=bool)
        self.alive[list(self.deleted)] = False
        self._periods = [np.array(columns[name], dtype=np.int64) for name in spec.period_columns]
        self._live: dict[int, np.ndarray] = {}
        self.vocabulary: dict[str, Vocabulary] = {}
        for name in spec.searched_fields:
            if len(segments) == 1:
                frequencies = segments[0].vocabulary[name]
            else:
                frequencies = Counter()
                for segment in segments:
                    frequencies.update(segment.vocabulary[name])
            self.vocabulary[name] = Vocabulary(dict(frequencies))
        self.alphabet = "".join(sorted({ch for f in spec.expanded for term in self.vocabulary[f].frequency
                                        for ch in term}))
        self._lengths = {name: columns[f"{name}_len"] for name, _ in spec.text_fields}
        self._postings: OrderedDict[tuple[str, str], dict[int, float]] = OrderedDict()
        self._postings_size = 0
        self._norms: dict[str, list[float]] = {}
        self._saturations: dict[str, list[float]] = {}

    def live(self, day: date | None) -> np.ndarray:
        """Which documents can be found on `day`: not deleted and, where documents have a period, in it."""
        if day is None or not self._periods:
            return self.alive
        ordinal = day.toordinal()
        found = self._live.get(ordinal)
        if found is None:
            first, last = self._periods
            found = self.alive & (first <= ordinal) & (ordinal <= last)
            if len(self._live) > 3:
                self._live.clear()
            self._live[ordinal] = found
        return found

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
            lengths = self._lengths[field]
            average = (sum(lengths) / self.count if self.count else 1.0) or 1.0
            norms = self._norms[field] = [K1 * (1 - B + B * length / average) for length in lengths]
            found = self._saturations[field] = [(K1 + 1) / (1 + norm) for norm in norms]
        return found


class _Slot:
    def __init__(self):
        self.lock = threading.RLock()
        self.view: View | None = None
        self.segments: dict[str, Segment] = {}


_slots: dict[tuple[int, str, str], _Slot] = {}
_slots_lock = threading.Lock()


def _slot(spec: IndexSpec) -> _Slot:
    # The process id is part of the key: a searcher opened before a fork must not be shared by two workers.
    key = (os.getpid(), os.path.abspath(store.directory()), spec.name)
    with _slots_lock:
        slot = _slots.get(key)
        if slot is None:
            for other in [k for k in _slots if k[0] != key[0]]:
                del _slots[other]
            slot = _slots[key] = _Slot()
        return slot


@contextmanager
def reading(spec: IndexSpec):
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
            view = View(store.open_index(store.directory(), spec).searcher(), spec, slot.segments)
        slot.view = view
        yield view
