"""One page of a list and how many pages there are, for back-office tables."""
from dataclasses import dataclass
from math import ceil


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))
