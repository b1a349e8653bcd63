"""A query's words to the ids that match them, with their scores.

Every query word must match (AND). A word matches its own term; its one-typo variants when it has 4+
letters; and, for the last word, the words it begins (as-you-type). Variants and completions come from the
index's own vocabulary, so a query never expands to terms that do not exist. A document takes, per word,
the score of its best kind of match (own word > completion > typo), so exact matches rank first."""
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np

from shop.search.analysis import QueryWord
from shop.search.reading import View, reading
from shop.search.schemas import IndexSpec

FUZZY_MIN_LENGTH = 4      # one typo is tolerated in words of 4 letters or more
MAX_COMPLETIONS = 40      # as-you-type: the most frequent words the last word begins
EXACT, PREFIX, FUZZY = 1.0, 0.5, 0.3      # weight of a word's own term, its completions, its one-typo variants
MARKS_BOOST = 0.5         # bonus when the product name has the query word with the same marks


@dataclass(frozen=True)
class Ranking:
    """The ids matching a query (each once, in no particular order) and their scores, the higher the
    better."""

    ids: np.ndarray       # int64
    scores: np.ndarray    # float64

    @classmethod
    def empty(cls) -> "Ranking":
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.ids)

    def best(self, limit: int) -> list[int]:
        """The `limit` best ids, ties broken by the smaller id."""
        order = np.lexsort((self.ids, -self.scores))[:max(limit, 0)]
        return self.ids[order].tolist()


def rank(spec: IndexSpec, words: list[QueryWord], day: date | None = None, text_fields=None) -> Ranking:
    """The ids of an index's documents that match every word and can be found on `day` (not deleted, and in
    their certified period if they have one), searched in `text_fields` (default: all of the index's)."""
    if not words:
        return Ranking.empty()
    with reading(spec) as view:
        scores = _match(view, words, text_fields or spec.text_fields)
        if not scores:
            return Ranking.empty()
        documents = np.fromiter(scores.keys(), dtype=np.int64, count=len(scores))
        values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
        found = view.live(day)[documents]
        return Ranking(view.ids[documents[found]], values[found])


def indexed_count(spec: IndexSpec) -> int:
    """Documents (not deleted) in an index."""
    with reading(spec) as view:
        return view.count - len(view.deleted)


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


def _word_terms(view: View, word: QueryWord, text_fields) -> list[tuple[float, float, str, str]]:
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


def _word_scores(view: View, word: QueryWord, terms, candidates) -> dict[int, float]:
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


def _match(view: View, words: list[QueryWord], text_fields) -> dict[int, float]:
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
