"""Categories and brands of the simulated store (shares the catalog's lock).

Category names are unique under one parent and brand names in the store (409 otherwise, like the live API).
Categories fire `store/category/created|updated|deleted`; BigCommerce has no brand webhooks. Deleting a
category deletes its subcategories; products stop referencing deleted categories and brands.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable
from typing import Any

from catalog_sync_local.simulators.bigcommerce.fields import (
    BRAND_FIELDS,
    CATEGORY_FIELDS,
    check_fields,
    conflict,
    defaults,
    invalid,
    not_found,
    pick,
    require_object,
    slug,
)

Emit = Callable[[str, dict[str, Any]], None]
Detach = Callable[[str, int], None]


class Taxonomy:
    def __init__(
        self, *, lock: threading.RLock, clock: Callable[[], float], emit: Emit, on_detach: Detach
    ) -> None:
        self.lock = lock
        self.clock = clock
        self.emit = emit
        self.on_detach = on_detach
        self._categories: dict[int, dict[str, Any]] = {}
        self._brands: dict[int, dict[str, Any]] = {}
        self._category_ids = itertools.count(21)
        self._brand_ids = itertools.count(36)

    # --- categories -------------------------------------------------------------------------------------

    def has_category(self, category_id: int) -> bool:
        with self.lock:
            return category_id in self._categories

    def list_categories(self) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(c) for _, c in sorted(self._categories.items())]

    def get_category(self, category_id: int) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._category(category_id))

    def create_category(self, body: Any) -> dict[str, Any]:
        with self.lock:
            body = require_object(body)
            self._validate_category(body, None, required=("parent_id", "name"))
            cid = next(self._category_ids)
            category = defaults(CATEGORY_FIELDS) | pick(body, CATEGORY_FIELDS)
            category.update(id=cid, views=0)
            if not category["custom_url"]:
                category["custom_url"] = {"url": self._category_url(category), "is_customized": False}
            self._categories[cid] = category
            self.emit("store/category/created", {"type": "category", "id": cid})
            return copy.deepcopy(category)

    def update_category(self, category_id: int, body: Any) -> dict[str, Any]:
        with self.lock:
            category = self._category(category_id)
            body = require_object(body)
            self._validate_category(body, category_id, required=())
            changes = {k: v for k, v in pick(body, CATEGORY_FIELDS).items() if category.get(k) != v}
            if changes:
                category.update(changes)
                self.emit("store/category/updated", {"type": "category", "id": category_id})
            return copy.deepcopy(category)

    def delete_category(self, category_id: int) -> None:
        with self.lock:
            self._category(category_id)
            doomed = [category_id]
            for cid in doomed:  # grows while walking: the whole subtree
                doomed += [c["id"] for c in self._categories.values() if c["parent_id"] == cid]
            for cid in reversed(doomed):
                del self._categories[cid]
                self.on_detach("category", cid)
                self.emit("store/category/deleted", {"type": "category", "id": cid})

    def _category(self, category_id: int) -> dict[str, Any]:
        category = self._categories.get(category_id)
        if category is None:
            raise not_found("category", category_id)
        return category

    def _validate_category(self, body: Any, category_id: int | None, *, required: tuple[str, ...]) -> None:
        errors = check_fields(body, CATEGORY_FIELDS, required=required)
        if isinstance(body.get("name"), str) and len(body["name"]) > 50:
            errors["name"] = "error.maxLength"
        if errors:
            raise invalid(errors)
        current = self._categories.get(category_id or 0, {})
        parent_id = body.get("parent_id", current.get("parent_id", 0))
        if parent_id and parent_id not in self._categories:
            raise invalid({"parent_id": f"Parent category {parent_id} does not exist"})
        ancestor = parent_id
        for _ in range(len(self._categories) + 1):
            if not ancestor:
                break
            if ancestor == category_id:
                raise invalid({"parent_id": "A category cannot be its own ancestor"})
            ancestor = self._categories[ancestor]["parent_id"]
        name = str(body.get("name", current.get("name", ""))).casefold()
        for other in self._categories.values():
            if (
                other["id"] != category_id
                and other["parent_id"] == parent_id
                and other["name"].casefold() == name
            ):
                raise conflict(f"Category name '{other['name']}' is not unique under its parent", "name")

    def _category_url(self, category: dict[str, Any]) -> str:
        parent = self._categories.get(category["parent_id"])
        prefix = parent["custom_url"]["url"] if parent else "/"
        return f"{prefix}{slug(category['name'])}/"

    # --- brands -----------------------------------------------------------------------------------------

    def has_brand(self, brand_id: int) -> bool:
        with self.lock:
            return brand_id in self._brands

    def list_brands(self) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(b) for _, b in sorted(self._brands.items())]

    def get_brand(self, brand_id: int) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._brand(brand_id))

    def create_brand(self, body: Any) -> dict[str, Any]:
        with self.lock:
            body = require_object(body)
            self._validate_brand(body, None, required=("name",))
            bid = next(self._brand_ids)
            brand = defaults(BRAND_FIELDS) | pick(body, BRAND_FIELDS)
            brand["id"] = bid
            if not brand["custom_url"]:
                brand["custom_url"] = {"url": f"/brands/{slug(brand['name'])}.html", "is_customized": False}
            self._brands[bid] = brand
            return copy.deepcopy(brand)

    def update_brand(self, brand_id: int, body: Any) -> dict[str, Any]:
        with self.lock:
            brand = self._brand(brand_id)
            body = require_object(body)
            self._validate_brand(body, brand_id, required=())
            brand.update(pick(body, BRAND_FIELDS))
            return copy.deepcopy(brand)

    def delete_brand(self, brand_id: int) -> None:
        with self.lock:
            self._brand(brand_id)
            del self._brands[brand_id]
            self.on_detach("brand", brand_id)

    def _brand(self, brand_id: int) -> dict[str, Any]:
        brand = self._brands.get(brand_id)
        if brand is None:
            raise not_found("brand", brand_id)
        return brand

    def _validate_brand(self, body: Any, brand_id: int | None, *, required: tuple[str, ...]) -> None:
        errors = check_fields(body, BRAND_FIELDS, required=required)
        if errors:
            raise invalid(errors)
        if "name" in body:
            name = body["name"].casefold()
            for other in self._brands.values():
                if other["id"] != brand_id and other["name"].casefold() == name:
                    raise conflict(f"Brand name '{other['name']}' is not unique", "name")
