"""The records of one simulated BigCommerce catalog, shared by the pieces that change them: the product,
variant, image and option tables, their id sequences, the lock every call holds, the clock that stamps
`date_modified` and the `emit` that reports webhook scopes, plus the lookups and checks more than one piece
needs (a product or 404, SKU uniqueness, touching a product). Taxonomy and channel listings hang off it.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from catalog_sync_local.simulators.bigcommerce.fields import conflict, not_found
from catalog_sync_local.simulators.bigcommerce.listings import Listings
from catalog_sync_local.simulators.bigcommerce.taxonomy import Taxonomy

Emit = Callable[[str, dict[str, Any]], None]


class CatalogRecords:
    """The state under every piece of the catalog; each piece (options, variants, images, products) is a
    layer on top of it, and `Catalog` stacks them all."""

    def __init__(
        self,
        *,
        store_hash: str,
        clock: Callable[[], float],
        emit: Emit,
        image_update_events: int = 2,
    ) -> None:
        self.lock = threading.RLock()
        self.store_hash = store_hash
        self.clock = clock
        self.emit = emit
        self.image_update_events = image_update_events
        self.taxonomy = Taxonomy(lock=self.lock, clock=clock, emit=emit, on_detach=self._detach)
        self.listings = Listings(lock=self.lock, clock=clock, variants_of=self._variant_ids)
        self._products: dict[int, dict[str, Any]] = {}
        self._variants: dict[int, dict[str, Any]] = {}
        self._images: dict[int, dict[str, Any]] = {}
        self._variants_of: dict[int, set[int]] = {}  # product id -> its variant ids
        self._images_of: dict[int, set[int]] = {}  # product id -> its image ids
        self._options: dict[int, dict[str, dict[str, Any]]] = {}  # product -> display name -> option
        self._ids = {
            name: itertools.count(start)
            for name, start in {"product": 101, "variant": 1001, "sku": 5001, "image": 3001}.items()
        }
        self._option_ids = itertools.count(401)

    def _product(self, product_id: int) -> dict[str, Any]:
        product = self._products.get(product_id)
        if product is None:
            raise not_found("product", product_id)
        return product

    def _touch(self, product_id: int) -> None:
        self._products[product_id]["date_modified"] = self._now()

    def _now(self) -> int:
        """BigCommerce keeps times to the second."""
        return int(self.clock())

    def _check_sku_conflicts(self, skus: list[str], *, exclude_variant: int | None = None) -> None:
        wanted = [s for s in skus if s]
        seen: set[str] = set()
        for sku in wanted:
            if sku in seen:
                raise conflict(f"Sku '{sku}' is not unique", "sku")
            seen.add(sku)
        for variant in self._variants.values():
            if variant["id"] != exclude_variant and variant["sku"] in seen:
                raise conflict(f"Sku '{variant['sku']}' is not unique", "sku")

    def _skus_of(self, product_id: int) -> set[str]:
        return {self._variants[v]["sku"] for v in self._variants_of[product_id]} - {""}

    def _variant_ids(self, product_id: int) -> list[int] | None:
        if product_id not in self._products:
            return None
        return sorted(self._variants_of[product_id])

    def _detach(self, kind: str, ident: int) -> None:
        """A category or brand was deleted: products no longer reference it."""
        for product in self._products.values():
            if kind == "category" and ident in product["categories"]:
                product["categories"] = [c for c in product["categories"] if c != ident]
                self._touch(product["id"])
            elif kind == "brand" and product["brand_id"] == ident:
                product["brand_id"] = 0
                self._touch(product["id"])
