"""The two indexes in SEARCH_INDEX_DIR, products and producers, and their documents.

An index holds only what answers "which ids match these words on a day, how well": the searched texts,
their lengths (for BM25), the id and, for products, the certified period. A product has one document per
certified period, so a certificate that lapses drops out of search that day without any reindexing.
Filters, facets and sorting come from the listing snapshot (search.snapshot)."""
from collections.abc import Iterable
from dataclasses import dataclass

from whoosh import columns, fields

from shop.search import documents
from shop.search.analysis import FOLDED, MARKED, word_count


@dataclass(frozen=True)
class IndexSpec:
    name: str    # with a version: a new schema, or analyzers moved to another module, get a new index
    text_fields: tuple[tuple[str, float], ...]    # (field, weight) searched by every query word
    expanded: tuple[str, ...]                     # fields where typos and completions are looked for too
    period_columns: tuple[str, ...] = ()          # first and last day (ordinals) a document can be found

    def schema(self) -> fields.Schema:
        schema = fields.Schema(key=fields.ID(stored=True), pid=fields.COLUMN(columns.NumericColumn("i")))
        for name in self.period_columns:
            schema.add(name, fields.COLUMN(columns.NumericColumn("i")))
        for name, _weight in self.text_fields:
            schema.add(name, fields.TEXT(analyzer=FOLDED, phrase=False))
            schema.add(f"{name}_len", fields.COLUMN(columns.NumericColumn("H")))
        schema.add("marks", fields.TEXT(analyzer=MARKED, phrase=False))
        return schema

    @property
    def searched_fields(self) -> tuple[str, ...]:
        return (*(name for name, _ in self.text_fields), "marks")

    @property
    def length_columns(self) -> tuple[str, ...]:
        return tuple(f"{name}_len" for name, _ in self.text_fields)


# Typos and completions are looked for in names only: in descriptions they cost much and find mostly noise.
PRODUCTS = IndexSpec("products_v3", text_fields=(("name", 3.0), ("maker", 1.0), ("body", 0.6)),
                     expanded=("name", "maker"), period_columns=("valid_from", "valid_to"))
PRODUCERS = IndexSpec("producers_v3", text_fields=(("name", 3.0), ("body", 0.6)), expanded=("name",))
SPECS = (PRODUCTS, PRODUCERS)


def _with_lengths(spec: IndexSpec, values: dict) -> dict:
    for name, _weight in spec.text_fields:
        values[f"{name}_len"] = min(word_count(values[name]), 65_535)
    return values


def product_fields(doc: documents.ProductDocument) -> Iterable[dict]:
    """One index document per certified period: a search on day D finds the one whose period holds D."""
    for window in doc.windows:
        yield _with_lengths(PRODUCTS, {
            "key": str(doc.id), "pid": doc.id, "name": doc.name, "marks": doc.name, "maker": doc.maker,
            "body": doc.body, "valid_from": window.start.toordinal(), "valid_to": window.end.toordinal()})


def producer_fields(doc: documents.ProducerDocument) -> dict:
    return _with_lengths(PRODUCERS, {"key": str(doc.id), "pid": doc.id, "name": doc.name, "marks": doc.name,
                                     "body": doc.body})
