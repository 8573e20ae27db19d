"""The in-memory catalog of one simulated BigCommerce store: products, variants, images, categories, brands
and channel listings.

HTTP routes and the programmatic "merchant dashboard" API both call these methods, so there is one code path
per mutation. Every call holds the catalog lock, validates like the live API (ApiError 422 / 404 / 409),
stamps the product's `date_modified`, and reports the webhook scopes it triggers through `emit`:
`store/product/*`, `store/sku/*` (variants, data carrying `sku.product_id` / `sku.variant_id`) and
`store/category/*`. Writes that change nothing neither move `date_modified` nor fire a hook.

`Catalog` is built in layers, one module each: the shared records (simulators.bigcommerce.records), then
simulators.bigcommerce.options, simulators.bigcommerce.variants, simulators.bigcommerce.images and
simulators.bigcommerce.products; this module adds what works on many products at once: batch updates and the
filtered, sorted, paged product list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from catalog_sync_local.simulators.bigcommerce.fields import (
    ApiError,
    invalid,
    not_found,
    require_list,
    require_object,
)
from catalog_sync_local.simulators.bigcommerce.products import ProductCatalog

PRODUCT_SORTS = (
    "id",
    "name",
    "sku",
    "price",
    "date_modified",
    "date_last_imported",
    "inventory_level",
    "is_visible",
    "total_sold",
)


@dataclass
class ProductQuery:
    """Filters, order and page of `GET /catalog/products` (parsed from the query string by the routes)."""

    ids: set[int] | None = None
    not_ids: set[int] = field(default_factory=set)
    id_min: int | None = None
    id_max: int | None = None
    skus: set[str] | None = None
    equals: dict[str, Any] = field(default_factory=dict)  # name, type, availability, brand_id, is_visible
    categories: set[int] | None = None
    keyword: str | None = None
    modified_min: float | None = None
    modified_max: float | None = None
    sort: str = "id"
    descending: bool = False
    offset: int = 0
    limit: int = 50
    include: frozenset[str] = frozenset()


class Catalog(ProductCatalog):
    """The whole catalog: the pieces it is made of (records, options, variants, images, products) and the
    operations on many products or variants at once (batch updates, the filtered, sorted and paged
    `GET /catalog/products`, `DELETE /catalog/products` by filter)."""

    def update_products(
        self, items: Any, include: Iterable[str] = ()
    ) -> tuple[list[dict[str, Any]], dict[int, ApiError]]:
        """Batch update: (updated products, errors by position). Each item is applied on its own."""
        with self.lock:
            updated: list[dict[str, Any]] = []
            failures: dict[int, ApiError] = {}
            for index, raw in enumerate(require_list(items)):
                try:
                    item = require_object(raw, f"{index}")
                    if not isinstance(item.get("id"), int):
                        raise invalid({"id": "error.path.missing"})
                    updated.append(self.update_product(item["id"], item, include))
                except ApiError as exc:
                    failures[index] = exc
            return updated, failures

    def update_variants(self, items: Any) -> list[dict[str, Any]]:
        """`PUT /catalog/variants`: all or nothing; errors answer 422 with `batch_errors`."""
        with self.lock:
            items = require_list(items)
            failures: list[ApiError] = []
            for index, item in enumerate(items):
                if not isinstance(item, Mapping) or not isinstance(item.get("id"), int):
                    failures.append(invalid({f"{index}.id": "error.path.missing"}))
                elif item["id"] not in self._variants:
                    failures.append(not_found("variant", item["id"]))
                elif errors := self._variant_errors(item, f"{index}.", needs_options=False):
                    failures.append(invalid(errors))
            if failures:
                raise BatchError(failures)
            return [self.update_variant(None, item["id"], item) for item in items]

    def query_products(self, query: ProductQuery) -> tuple[int, list[dict[str, Any]]]:
        """(total matching, the requested page of product views)."""
        with self.lock:
            matching = self._matching(query)
            sort_key = "date_modified" if query.sort == "date_last_imported" else query.sort
            matching.sort(key=lambda p: p["id"])  # ties stay in id order, ascending, either direction
            matching.sort(key=lambda p: _sortable(p[sort_key]), reverse=query.descending)
            page = matching[query.offset : query.offset + query.limit]
            return len(matching), [self.product_view(p["id"], query.include) for p in page]

    def delete_products(self, query: ProductQuery) -> int:
        with self.lock:
            doomed = [p["id"] for p in self._matching(query)]
            for pid in doomed:
                self.delete_product(pid)
            return len(doomed)

    def _matching(self, q: ProductQuery) -> list[dict[str, Any]]:
        sku_owners = None
        if q.skus is not None:  # the live API's `sku` filter also finds a product by a variant's SKU
            sku_owners = {v["product_id"] for v in self._variants.values() if v["sku"] in q.skus}
        return [p for p in self._products.values() if self._matches(p, q, sku_owners)]

    def _matches(self, product: Mapping[str, Any], q: ProductQuery, sku_owners: set[int] | None) -> bool:
        pid = product["id"]
        modified = int(product["date_modified"])
        checks = (
            q.ids is None or pid in q.ids,
            pid not in q.not_ids,
            q.id_min is None or pid >= q.id_min,
            q.id_max is None or pid <= q.id_max,
            sku_owners is None or pid in sku_owners,
            all(product.get(k) == v for k, v in q.equals.items()),
            q.categories is None or bool(q.categories & set(product["categories"])),
            q.modified_min is None or modified >= q.modified_min,
            q.modified_max is None or modified <= q.modified_max,
        )
        if not all(checks):
            return False
        if q.keyword:
            text = " ".join([product["name"], product["description"], *self._skus_of(pid)]).lower()
            return q.keyword.lower() in text
        return True


class BatchError(ApiError):
    """422 of a batch endpoint: one error object per failed item, under `batch_errors`."""

    def __init__(self, failures: list[ApiError]) -> None:
        super().__init__(422, "Batch contains invalid items")
        self.failures = failures

    def body(self) -> dict[str, Any]:
        return {"batch_errors": [f.body() for f in self.failures]}


def _sortable(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value
