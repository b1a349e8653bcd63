"""One page of a list and how many pages there are, for back-office tables, and the bounds of page numbers."""
from dataclasses import dataclass
from math import ceil

# The highest page number any list or the API accepts: a tampered ?page= stays an OFFSET every database takes.
MAX_PAGE = 100_000


def last_page(total: int, per_page: int) -> int:
    return max(1, ceil(total / per_page))


def clamp_page(page: int, total: int, per_page: int) -> int:
    """`page` within 1 and the last page: a page past the end shows the last one."""
    return min(max(1, page), last_page(total, per_page), MAX_PAGE)


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return last_page(self.total, self.per_page)
