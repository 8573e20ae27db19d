"""One page of a paged list endpoint, whatever the system calls its paging fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    current_page: int
    total_pages: int  # BigCommerce meta.pagination.total_pages; Pixlpay meta.last_page
    total: int

    @property
    def is_last(self) -> bool:
        return self.current_page >= self.total_pages
