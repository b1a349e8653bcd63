"""The product filters shared by the listing page, the search and the API: parsing and validation."""
from dataclasses import dataclass, field, replace

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from shop.catalog.groups import GROUPS
from shop.core.admin_units import FORMER_DISTRICTS
from shop.core.pagination import MAX_PAGE

SORTS = ("relevance", "price_asc", "price_desc", "stars", "newest")
MAX_QUERY_LENGTH = 200
# Price facet buckets in đồng: (key, lowest, highest or None).
PRICE_BUCKETS = (("0-100000", 0, 100_000), ("100000-200000", 100_000, 200_000),
                 ("200000-500000", 200_000, 500_000), ("500000-", 500_000, None))


@dataclass(frozen=True)
class ProductFilters:
    q: str = ""
    min_stars: int | None = None
    group: str | None = None
    locality: str | None = None      # former district key, e.g. "xuan-loc"
    producer: str | None = None      # producer slug
    min_price: int | None = None
    max_price: int | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 24

    def without(self, name: str) -> "ProductFilters":
        """The same filters less one facet: counts for a facet ignore its own choice."""
        if name == "price":
            return replace(self, min_price=None, max_price=None)
        if name == "stars":
            return replace(self, min_stars=None)
        return replace(self, **{name: None})

    @property
    def effective_sort(self) -> str:
        # Relevance only means something with a query; without one the newest come first.
        return "newest" if self.sort == "relevance" and not self.q else self.sort


@dataclass
class FilterProblems:
    messages: list[tuple[str, str]] = field(default_factory=list)  # (parameter, message)

    def add(self, parameter: str, message) -> None:
        self.messages.append((parameter, str(message)))

    def __bool__(self) -> bool:
        return bool(self.messages)


def parse_filters(args: MultiDict, *, default_per_page: int = 24, max_per_page: int = 100
                  ) -> tuple[ProductFilters, FilterProblems]:
    """Read filters from query parameters. Bad values are dropped and reported; the caller decides whether
    that is a notice (pages) or a 400 (API)."""
    problems = FilterProblems()
    values: dict = {}

    q = " ".join((args.get("q") or "").split())
    if len(q) > MAX_QUERY_LENGTH:
        problems.add("q", _l("The search text was shortened to %(n)s characters.", n=MAX_QUERY_LENGTH))
        q = q[:MAX_QUERY_LENGTH]
    values["q"] = q

    def integer(name: str, low: int, high: int):
        raw = args.get(name)
        if raw in (None, ""):
            return None
        try:
            number = int(raw)
        except (TypeError, ValueError):
            problems.add(name, _l("“%(value)s” is not a valid value for %(name)s.", value=raw[:40], name=name))
            return None
        if not low <= number <= high:
            problems.add(name, _l("%(name)s must be between %(low)s and %(high)s.", name=name, low=low, high=high))
            return None
        return number

    values["min_stars"] = integer("stars", 3, 5)
    values["min_price"] = integer("min_price", 0, 1_000_000_000)
    values["max_price"] = integer("max_price", 0, 1_000_000_000)
    low, high = values["min_price"], values["max_price"]
    if low is not None and high is not None and low > high:
        problems.add("max_price", _l("The highest price is below the lowest price."))
        values["max_price"] = None
    values["page"] = integer("page", 1, MAX_PAGE) or 1
    values["per_page"] = integer("per_page", 1, max_per_page) or default_per_page

    group = args.get("group") or None
    if group and group not in GROUPS:
        problems.add("group", _l("Unknown product group “%(value)s”.", value=group[:40]))
        group = None
    values["group"] = group

    locality = args.get("locality") or None
    if locality and locality not in FORMER_DISTRICTS:
        problems.add("locality", _l("Unknown locality “%(value)s”.", value=locality[:40]))
        locality = None
    values["locality"] = locality

    producer = (args.get("producer") or "").strip() or None
    if producer and (len(producer) > 140 or not all(c.isalnum() or c == "-" for c in producer)):
        problems.add("producer", _l("Unknown producer “%(value)s”.", value=producer[:40]))
        producer = None
    values["producer"] = producer

    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        problems.add("sort", _l("Unknown sort order “%(value)s”.", value=sort[:40]))
        sort = "relevance"
    values["sort"] = sort
    return ProductFilters(**values), problems
