"""How text becomes index terms, the same way when indexing and when searching: words are split and folded
(marks removed, đ -> d, NFC or NFD alike), so "ca phe", "cà phê" and NFD input all meet. A second analyzer
keeps the marks, so a query typed with marks can rank that exact spelling first."""
import re
import unicodedata
from dataclasses import dataclass

from whoosh.analysis import LowercaseFilter, RegexTokenizer

from shop.core.text import fold

MAX_WORDS = 12            # a 1,000-character query is cut to its first words, not expanded word by word
MAX_WORD_LENGTH = 40


# An index pickles its schema, and so these classes by module and name: moving or renaming them needs new
# index versions (search.schemas) and a `flask search reindex`.


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


def words(analyzer, text: str) -> list[str]:
    return [token.text for token in analyzer(text)]


def word_count(text: str) -> int:
    return len(_WORD.findall(unicodedata.normalize("NFC", text)))


@dataclass(frozen=True)
class QueryWord:
    folded: str
    marked: str      # lower case, marks kept
    last: bool


def parse_words(text: str) -> list[QueryWord]:
    """The query's words (at most MAX_WORDS); none for a query of symbols only."""
    text = (text or "")[:1000]
    folded = [w[:MAX_WORD_LENGTH] for w in words(FOLDED, text)][:MAX_WORDS]
    marked = [w[:MAX_WORD_LENGTH] for w in words(MARKED, text)][:MAX_WORDS]
    return [QueryWord(f, m, i == len(folded) - 1) for i, (f, m) in enumerate(zip(folded, marked))]
